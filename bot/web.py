"""HTTP mode: a WSGI app (POST /slack/events, GET /healthz) served by gunicorn, one Bolt app per worker."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.app import build_app
from bot.config import Settings
from bot.runtime import Runtime, build_runtime
from storage.db import Database

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
SCHEDULER_RESTART_DELAY = 2.0  # seconds before a scheduler process that ended is started again


def make_wsgi(rt: Runtime) -> Callable[..., Iterable[bytes]]:
    slack_handler = SlackRequestHandler(build_app(rt), path=EVENTS_PATH)

    def healthz(start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            with rt.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as e:  # a load balancer wants a status, not a traceback
            log.warning("health check failed: %s", e)
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"database unavailable\n"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return healthz(start_response)
        if path == EVENTS_PATH and method == "POST":
            return slack_handler(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return application


def serve(settings: Settings, host: str, port: int, workers: int, threads: int, scheduler: bool = True) -> None:
    def load() -> Callable[..., Iterable[bytes]]:
        # The workers leave SQLite's checkpoints to the scheduler process (storage.db.make_engine).
        db = Database(settings.database_url, background_checkpoints=True)
        return make_wsgi(build_runtime(settings, db=db))

    run_gunicorn(load, host, port, workers, threads, scheduler)


def run_gunicorn(load_app: Callable[[], Callable[..., Iterable[bytes]]], host: str, port: int, workers: int,
                 threads: int, scheduler: bool = False) -> None:
    """gunicorn with threaded workers; `load_app` runs in each worker after the fork (own pools and clients)."""
    from gunicorn.app.base import BaseApplication

    children: list[Any] = []
    stopping = threading.Event()

    def keep_scheduler_running() -> None:
        from bot import background

        while not stopping.is_set():
            child = background.spawn()
            children[:] = [child]
            child.wait()  # gunicorn may reap it first; Popen then reports it ended all the same
            # Wait before saying so and starting it again: a stop sent to the whole process group (Ctrl-C, systemd)
            # ends the scheduler a moment before serve itself says it is stopping.
            if stopping.wait(SCHEDULER_RESTART_DELAY):
                return
            log.warning("the scheduler process ended (status %s); starting it again", child.returncode)

    def start_scheduler(_server: Any) -> None:
        threading.Thread(target=keep_scheduler_running, name="liaison-scheduler-keeper", daemon=True).start()

    def stop_scheduler(_server: Any) -> None:
        stopping.set()
        for child in children:
            child.terminate()
            try:
                child.wait(timeout=10)
            except Exception:  # noqa: BLE001 - it is going anyway
                child.kill()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", None)
            self.cfg.set("timeout", 30)
            if scheduler:
                self.cfg.set("when_ready", start_scheduler)
                self.cfg.set("on_exit", stop_scheduler)

        def load(self) -> Callable[..., Iterable[bytes]]:
            return load_app()

    Server().run()
