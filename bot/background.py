"""`liaison scheduler`: the background process that does queued work and posts digests and reminders.

`liaison serve` starts one beside its web workers, at a lower CPU priority, and its job runner waits for pauses
between commands (bot/jobs.py), so that the work after an ack slows the acks Slack is waiting for as little as
possible; it can also run alone, on another machine sharing the database.
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
from bot.runtime import build_runtime
from storage.db import Database

log = logging.getLogger(__name__)
PARENT_ENV = "LIAISON_PARENT_PID"


def run(settings: Settings, db: Database) -> None:
    from scheduler import service

    rt = build_runtime(settings, db=db)
    runner = JobRunner(rt, yields=True)
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
    runner = JobRunner(rt)
    runner.run_pending()
    report = service.tick(rt)
    runner.run_pending()  # what the tick queued (telling leads about channels it couldn't post to)
    return report


def _stop_when_orphaned(parent: int, stop: object) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(1.0)
        log.warning("the serve process that started this scheduler is gone; stopping")
        stop()  # type: ignore[operator]

    threading.Thread(target=watch, name="liaison-parent-watch", daemon=True).start()


def lowest_priority() -> None:
    """Run only when the CPU has nothing better to do: Linux's SCHED_IDLE (a waking web worker preempts it at
    once), and nice 19 where that policy doesn't exist."""
    os.nice(19)
    if hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass


def spawn() -> subprocess.Popen[bytes]:
    """Start `liaison scheduler` as a child of this process, niced so that it yields the CPU to acks."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "scheduler"],
        env={**os.environ, PARENT_ENV: str(os.getpid())},
        preexec_fn=lowest_priority,  # noqa: PLW1509 - system calls only, no locks touched
    )
