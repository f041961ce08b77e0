"""`liaison scheduler`: the background process that does queued work and posts digests and reminders.

`liaison serve` starts one beside its web workers (and starts it again if it ends); it can also run alone, under
systemd or a Procfile, on this machine or another sharing the database. It runs at normal priority: the work
that answers people and posts digests must not wait on a CPU that is busy elsewhere. On SQLite it also makes the
checkpoints of the write-ahead log that the web workers leave to it (storage.db.make_engine).
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading

from bot.config import Settings
from bot.jobs import JobRunner
from handlers import job_kinds
from bot.runtime import build_runtime
from storage.db import Database

log = logging.getLogger(__name__)
PARENT_ENV = "LIAISON_PARENT_PID"


def run(settings: Settings, db: Database) -> None:
    from scheduler import service

    rt = build_runtime(settings, db=db)
    runner = JobRunner(rt, job_kinds())
    ticking = service.start(rt)

    def stop(*_: object) -> None:
        runner.stop(timeout=0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    parent = os.environ.get(PARENT_ENV)
    if parent:
        _stop_when_orphaned(int(parent), stop)
    log.info("scheduler running: queued work, digests and reminders")
    runner.start().wait()
    ticking.shutdown(wait=False)
    log.info("scheduler stopped")


def run_once(settings: Settings, db: Database) -> object:
    """One pass, for cron-style deployments: queued work, then what is due now."""
    from scheduler import service

    rt = build_runtime(settings, db=db)
    runner = JobRunner(rt, job_kinds())
    runner.run_pending()
    report = service.tick(rt)
    runner.run_pending()  # what the tick queued (telling leads about channels it couldn't post to)
    db.checkpoint()  # for web workers that leave SQLite's checkpoints to this process (storage.db.make_engine)
    return report


def _stop_when_orphaned(parent: int, stop: object) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(1.0)
        log.warning("the serve process that started this scheduler is gone; stopping")
        stop()  # type: ignore[operator]

    threading.Thread(target=watch, name="liaison-parent-watch", daemon=True).start()


def spawn() -> subprocess.Popen[bytes]:
    """Start `liaison scheduler` as a child of this process.

    close_fds=False lets Python start it with posix_spawn, which needs no error pipe: with fork and exec, a
    gunicorn worker forked at the same moment inherits that pipe and keeps it open, and Popen then waits for the
    pipe's end for ever. Nothing else leaks: Python's own descriptors are not inheritable (PEP 446)."""
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "scheduler"],
                            env={**os.environ, PARENT_ENV: str(os.getpid())}, close_fds=False)
