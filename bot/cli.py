"""`liaison`: console | socket | serve | scheduler | manifest | db upgrade. With no Slack token: the console."""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import tempfile
from datetime import datetime

from bot.config import ConfigError, Settings, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liaison", description="Liaison: client projects run inside Slack.")
    sub = parser.add_subparsers(dest="mode")
    console = sub.add_parser("console", help="chat with Liaison in this terminal; no Slack needed")
    console.add_argument("--script", metavar="FILE", help="run the lines of FILE and print the transcript")
    console.add_argument("--db", metavar="URL", help="database URL (a --script run uses a fresh one by default)")
    console.add_argument("--now", metavar="ISO", help="pretend it is this time, e.g. 2026-11-24T09:00:00+00:00")
    sub.add_parser("socket", help="connect to Slack with Socket Mode (SLACK_BOT_TOKEN, SLACK_APP_TOKEN)")
    serve = sub.add_parser("serve", help="serve Slack's HTTP requests with gunicorn (production)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    serve.add_argument("--threads", type=int, default=4)
    serve.add_argument("--no-scheduler", action="store_true",
                       help="don't start the background process here (run `liaison scheduler` elsewhere)")
    scheduler = sub.add_parser("scheduler", help="run only the background work: queued commands, digests and "
                                                 "reminders")
    scheduler.add_argument("--once", action="store_true",
                           help="do what is due now (queued work, digests, reminders) and exit, e.g. from cron")
    manifest = sub.add_parser("manifest", help="print the Slack app manifest (YAML)")
    manifest.add_argument("--url", help="public base URL of `liaison serve`, e.g. https://liaison.example.com")
    manifest.add_argument("--socket", action="store_true", help="for Socket Mode (no public URL)")
    manifest.add_argument("--name", default="Liaison")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        mode = args.mode or _default_mode(settings)
        return _run(mode, args, settings)
    except ConfigError as e:
        print(f"liaison: configuration error: {e}", file=sys.stderr)
        return 2


def _default_mode(settings: Settings) -> str:
    if not settings.has_slack:
        return "console"
    return "socket" if settings.slack_app_token else "serve"


def _run(mode: str, args: argparse.Namespace, settings: Settings) -> int:
    if mode == "manifest":
        from bot.manifest import manifest_yaml

        sys.stdout.write(manifest_yaml(name=args.name, url=args.url, socket=args.socket))
        return 0
    if mode == "console":
        return _console(args, settings)

    if mode == "socket":
        settings.require("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    if mode == "serve":
        settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    if mode == "scheduler":
        settings.require("SLACK_BOT_TOKEN")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from storage.db import Database
    from storage.migrate import upgrade_to_head

    # Socket mode answers people in the process whose scheduler checkpoints SQLite (storage.db.make_engine).
    db = Database(settings.database_url, background_checkpoints=mode == "socket")
    upgrade_to_head(db.engine)
    if mode == "db":
        print(f"database is up to date ({db.engine.url.render_as_string(hide_password=True)})")
        return 0
    if mode == "socket":
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        from bot.app import build_app
        from bot.runtime import build_runtime

        from bot.jobs import JobRunner
        from handlers import job_kinds
        from scheduler import service

        rt = build_runtime(settings, db=db)
        JobRunner(rt, job_kinds()).start()
        service.start(rt)
        SocketModeHandler(build_app(rt), settings.slack_app_token).start()
        return 0
    if mode == "scheduler":
        from bot import background

        if getattr(args, "once", False):
            report = background.run_once(settings, db)
            print(f"sent {report.sent}, failed {report.failed}, skipped {report.skipped}")
            return 0
        background.run(settings, db)
        return 0
    if mode == "serve":
        db.dispose()  # each gunicorn worker opens its own pool after the fork
        from bot.web import serve

        port = getattr(args, "port", int(os.environ.get("PORT", "3000")))
        serve(settings, getattr(args, "host", "0.0.0.0"), port, getattr(args, "workers", 2),
              getattr(args, "threads", 4), scheduler=not getattr(args, "no_scheduler", False))
        return 0
    raise AssertionError(mode)


def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import Console, run_interactive, run_script

    url = getattr(args, "db", None)
    scratch = None
    if url is None and getattr(args, "script", None):
        scratch = tempfile.TemporaryDirectory(prefix="liaison-console-")
        url = f"sqlite:///{scratch.name}/console.db"
    if url:
        settings = dataclasses.replace(load_settings({"DATABASE_URL": url}), timezone=settings.timezone)
    now = None
    if getattr(args, "now", None):
        try:
            now = datetime.fromisoformat(args.now)
            if now.tzinfo is None:
                raise ValueError
        except ValueError:
            raise ConfigError("--now", f"{args.now!r} is not an ISO time with an offset") from None
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("scheduler").setLevel(logging.ERROR)  # `:tick` itself says what it skipped
    console = Console(settings, now=now)
    try:
        if getattr(args, "script", None):
            try:
                with open(args.script, encoding="utf-8") as script:
                    run_script(console, script, print)
            except OSError as e:
                print(f"liaison: cannot read {args.script}: {e.strerror}", file=sys.stderr)
                return 2
        else:
            run_interactive(console)
    finally:
        console.close()
        if scratch:
            scratch.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
