"""Work a person asked for, accepted in the ack and done right after it by a job runner.

A handler checks what was typed, stores a job (one insert) and acks; a runner then does the slow part
(Slack lookups, writes, posts) and answers through `response_url`. Jobs live in the database, so a restart
loses nothing anyone typed, and runners in several processes share them: each job is claimed by one runner
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite) for a lease; a runner that dies
mid-job leaves it to be claimed again when the lease runs out. A runner beside web workers lets their acks go
first: it starts work in pauses between new jobs, or once a job has waited a second (QUIET, PATIENCE).
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from bot import slack
from bot.render.errors import answer_for, post_failed, unexpected
from storage.db import Database
from storage.models import Job

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

JobFunction = Callable[["Runtime", dict[str, Any]], "dict[str, Any] | None"]
_KINDS: dict[str, JobFunction] = {}
LEASE = timedelta(minutes=2)
# Acks first: while commands keep arriving, Slack is waiting on each ack (3 s at most) and the runner would compete
# with them for CPU and, on SQLite, for the write lock; so a runner that yields waits for a pause this long
# between new jobs, but never keeps a job waiting longer than PATIENCE.
QUIET = timedelta(milliseconds=25)
PATIENCE = timedelta(seconds=1)
MAX_ATTEMPTS = 3  # a job whose runner died this many times is given up, and the person told


def job(kind: str) -> Callable[[JobFunction], JobFunction]:
    """Register a job function: it gets the runtime and the job's args, and returns the answer to send, if any."""

    def register(fn: JobFunction) -> JobFunction:
        _KINDS[kind] = fn
        return fn

    return register


def _now() -> datetime:
    # Leases are about real time, whatever clock the domain runs on (tests and the console set theirs).
    return datetime.now(timezone.utc)


class JobQueue:
    def __init__(self, db: Database):
        self.db = db
        self.wake = threading.Event()  # lets a runner in this process start at once instead of at its next poll

    def enqueue(self, kind: str, args: dict[str, Any], response_url: str | None = None) -> None:
        if kind not in _KINDS:
            raise KeyError(f"no job function for {kind!r}")
        now = _now()
        with self.db.write() as connection:
            connection.execute(_ENQUEUE, {"kind": kind, "args": args, "response_url": response_url, "state": "queued",
                                          "attempts": 0, "run_after": now, "created_at": now})
        self.wake.set()

    def waiting(self) -> int:
        with self.db.read() as session:
            return session.scalar(select(func.count()).select_from(Job).where(Job.state == "queued")) or 0


def prune(db: Database, keep: timedelta = timedelta(days=7)) -> int:
    """Forget finished jobs after a while: they hold what people typed and response URLs that expired long ago."""
    with db.transaction() as session:
        result = session.execute(delete(Job).where(Job.state != "queued", Job.finished_at < _now() - keep))
    return result.rowcount or 0


# Built once: statements run in every ack that queues work, and in the runner's loop.
_ENQUEUE = insert(Job.__table__)
# Built once: a runner claims and finishes jobs in a tight loop, and building these costs more than running them.
_CLAIM = (
    update(Job)
    .where(Job.id == select(Job.id)
           .where(Job.state == "queued", Job.run_after <= bindparam("now"))
           .order_by(Job.id).limit(1).with_for_update(skip_locked=True).scalar_subquery())
    .values(run_after=bindparam("until"), attempts=Job.attempts + 1)
    .returning(Job.id, Job.kind, Job.args, Job.response_url, Job.attempts)
)
# Read-only (no write lock on SQLite): when the newest job arrived, and since when the next one has waited.
_PACE = select(
    select(Job.created_at).order_by(Job.id.desc()).limit(1).scalar_subquery(),
    select(Job.created_at).where(Job.state == "queued", Job.run_after <= bindparam("now"))
    .order_by(Job.id).limit(1).scalar_subquery(),
)
_FINISH = (
    update(Job).where(Job.id == bindparam("job_id"))
    .values(state=bindparam("state"), finished_at=bindparam("finished_at"), error=bindparam("error"))
)


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    args: dict[str, Any]
    response_url: str | None
    attempts: int


class JobRunner:
    def __init__(self, rt: Runtime, poll: float = 0.05, lease: timedelta = LEASE, yields: bool = False,
                 quiet: timedelta = QUIET, patience: timedelta = PATIENCE):
        """`yields`: let acks go first (see QUIET); for runners beside web workers, not for one-off passes."""
        import handlers  # noqa: F401 - importing the features registers their job functions

        self.rt = rt
        self.poll = poll
        self.lease = lease
        self.yields = yields
        self.quiet, self.patience = quiet, patience
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _claim_params(self) -> dict[str, datetime]:
        now = _now()
        return {"now": now, "until": now + self.lease}

    def _claim(self) -> Claimed | None:
        with self.rt.db.write() as connection:
            row = connection.execute(_CLAIM, self._claim_params()).first()
        return Claimed(*row) if row else None

    def _finish(self, job_id: int, outcome: tuple[str, str | None], claim_next: bool = False) -> Claimed | None:
        """Record how a job ended and, when asked, claim the next in the same transaction (one write, not two:
        on SQLite every write transaction briefly holds the one lock that acks need too)."""
        state, error = outcome
        with self.rt.db.write() as connection:
            connection.execute(_FINISH, {"job_id": job_id, "state": state, "finished_at": _now(), "error": error})
            row = connection.execute(_CLAIM, self._claim_params()).first() if claim_next else None
        return Claimed(*row) if row else None

    def run_one(self) -> bool:
        claimed = self._claim()
        if claimed is None:
            return False
        self._finish(claimed.id, self._tracked(claimed))
        return True

    def _tracked(self, claimed: Claimed) -> tuple[str, str | None]:
        with self._busy_lock:
            self._busy += 1
        try:
            return self._run(claimed)
        finally:
            with self._busy_lock:
                self._busy -= 1

    def _run(self, claimed: Claimed) -> tuple[str, str | None]:
        fn = _KINDS.get(claimed.kind)
        state, error, payload = "done", None, None
        if fn is None:
            state, error = "failed", f"no job function for {claimed.kind!r}"
            payload = unexpected(uuid.uuid4().hex[:8])
        elif claimed.attempts > MAX_ATTEMPTS:
            # Its runner died every time: stop trying, and say so rather than leave the person waiting.
            state, error = "failed", "gave up after repeated runner failures"
            payload = unexpected(str(claimed.id))
        else:
            try:
                payload = fn(self.rt, claimed.args)
            except Exception as e:  # noqa: BLE001 - the person is told; ours are logged with the id they see
                payload, error_id = answer_for(e)
                if error_id:
                    log.exception("job %s (%s) failed, error %s", claimed.id, claimed.kind, error_id)
                    state, error = "failed", f"{error_id}: {e!r}"
        if payload and claimed.response_url:
            slack.respond(claimed.response_url, payload)
        if error:
            log.warning("job %s (%s) %s: %s", claimed.id, claimed.kind, state, error)
        return state, error

    def run_pending(self) -> int:
        done = 0
        claimed = self._claim() if self._my_turn() else None
        while claimed is not None:
            outcome = self._tracked(claimed)
            # Finishing one job and claiming the next is one write, not two (on SQLite each write transaction
            # briefly holds the lock acks need); when acks should go first, finish now and claim after the pause.
            at_once = not self._stop.is_set() and (not self.yields or self._pause() == timedelta(0))
            claimed = self._finish(claimed.id, outcome, claim_next=at_once)
            if claimed is None and not at_once:
                claimed = self._claim() if self._my_turn() else None
            done += 1
        return done

    def _pause(self) -> timedelta | None:
        """How long to hold off so that acks go first (see QUIET); None when no job is waiting."""
        now = _now()
        with self.rt.db.read() as session:  # a read: no write lock on SQLite
            newest, oldest = session.execute(_PACE, {"now": now}).one()
        if oldest is None:
            return None
        return max(timedelta(0), min(newest + self.quiet, oldest + self.patience) - now)

    def _my_turn(self) -> bool:
        """Wait while acks are streaming in, if this runner yields; False once stopped or when nothing waits."""
        while self.yields and not self._stop.is_set():
            pause = self._pause()
            if pause is None:
                return False
            if not pause:
                return True
            self._stop.wait(pause.total_seconds())
        return not self._stop.is_set()

    def run_forever(self) -> None:
        wake = self.rt.jobs.wake
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception:  # noqa: BLE001 - a database hiccup must not stop the runner; it tries again
                log.exception("job runner: could not claim or finish a job; trying again")
                self._stop.wait(1.0)
            wake.wait(self.poll)
            wake.clear()

    def start(self) -> JobRunner:
        """Run jobs in a background thread (more would only add CPU contention beside the web workers)."""
        self._thread = threading.Thread(target=self.run_forever, name="liaison-jobs", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.rt.jobs.wake.set()
        if self._thread:
            self._thread.join(timeout)

    def wait(self) -> None:
        while self._thread and self._thread.is_alive():
            self._stop.wait(0.5)

    def drain(self, timeout: float = 15.0) -> None:
        """Wait until every queued job has run (tests, and a clean shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._busy and self.rt.jobs.waiting() == 0:
                return
            self.rt.jobs.wake.set()
            time.sleep(0.01)
        raise TimeoutError("jobs still queued")


@job("slack.post")
def post_job(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    """A channel post promised by a listener; if Slack refuses it, the person who asked is told."""
    code = slack.post(rt.client, args["channel_id"], args["payload"])
    return None if code is None else post_failed(code, args["channel_id"])
