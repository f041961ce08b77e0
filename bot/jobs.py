"""Work a person asked for, accepted in the ack and done right after it by a job runner.

A handler checks what was typed, stores a job and acks; a runner then does the slow part (Slack lookups, writes,
posts) and answers through `response_url`. Jobs live in the database, so a restart loses nothing anyone typed,
and runners in several processes share them: each job is claimed by one runner (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, `BEGIN IMMEDIATE` on SQLite) for a lease; a runner that dies mid-job leaves it to be claimed again
when the lease runs out. A job that follows a write is queued in that write's transaction (`enqueue(...,
session=)`), so the two are stored together or not at all.

This module knows no feature: each declares its job kinds (`JOBS` in its module) and the entry points hand them
to the runner (`handlers.job_kinds()`).
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, event, func, insert, select, update
from sqlalchemy.orm import Session

from bot import slack
from bot.render.errors import answer_for, post_failed, unexpected
from storage.db import Database
from storage.models import Job

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

JobFunction = Callable[["Runtime", dict[str, Any]], "dict[str, Any] | None"]
LEASE = timedelta(minutes=2)
# Jobs run at once by one runner: most of a job's time is spent waiting for Slack to answer. On SQLite, one:
# it lets one transaction write at a time, so more would only queue on its lock, in front of the acks.
THREADS = {"sqlite": 1}
THREADS_DEFAULT = 4
MAX_ATTEMPTS = 3  # a job whose runner died this many times is given up, and the person told
# PostgreSQL: inserting a job NOTIFYs this channel (a trigger, delivered when its transaction commits) and every
# runner LISTENs on it, so a job queued by a web worker starts at once in the scheduler process, not at that
# runner's next poll.
CHANNEL = "liaison_jobs"


def _now() -> datetime:
    # Leases are about real time, whatever clock the domain runs on (tests and the console set theirs).
    return datetime.now(timezone.utc)


_INSERT = insert(Job.__table__)  # built once, Core (no ORM bulk machinery): most acks queue a job


class JobQueue:
    def __init__(self, db: Database):
        self.db = db
        self.wake = threading.Event()  # lets a runner in this process start at once instead of at its next poll

    def enqueue(self, kind: str, args: dict[str, Any], response_url: str | None = None,
                session: Session | None = None) -> None:
        """Store a job: in `session`'s transaction when it follows a write made there, else on its own."""
        now = _now()
        row = {"kind": kind, "args": args, "response_url": response_url, "state": "queued", "attempts": 0,
               "run_after": now, "created_at": now}
        if session is not None:
            self._store(session, row)
            # A runner woken before the commit would find nothing yet, and wait for its next poll.
            event.listen(session, "after_commit", lambda _: self.wake.set(), once=True)
            return
        with self.db.transaction() as own:
            self._store(own, row)
        self.wake.set()

    def _store(self, session: Session, row: dict[str, Any]) -> None:
        session.execute(_INSERT, row)  # on PostgreSQL its trigger NOTIFYs the runners at commit (migration 0011)

    def waiting(self) -> int:
        with self.db.read() as session:
            return session.scalar(select(func.count()).select_from(Job).where(Job.state == "queued")) or 0


def prune(db: Database, keep: timedelta = timedelta(days=7)) -> int:
    """Forget finished jobs after a while: they hold what people typed and response URLs that expired long ago."""
    with db.transaction() as session:
        result = session.execute(delete(Job).where(Job.state != "queued", Job.finished_at < _now() - keep))
    return result.rowcount or 0


# The runner's statements, built once, Core (no ORM bookkeeping): on SQLite each write holds the one write lock that
# the acks wait for, so it should hold it no longer than the statements take.
_JOBS = Job.__table__
_IS_DUE = (_JOBS.c.state == "queued", _JOBS.c.run_after <= bindparam("now"))  # a claimed job waits for its lease
_DUE = select(_JOBS.c.id).where(*_IS_DUE).limit(1)
# Take the oldest queued job that is due, for a lease (skipping jobs other runners hold right now).
_CLAIM = (
    update(_JOBS)
    .where(_JOBS.c.id == select(_JOBS.c.id).where(*_IS_DUE)
           .order_by(_JOBS.c.id).limit(1).with_for_update(skip_locked=True).scalar_subquery())
    .values(run_after=bindparam("until"), attempts=_JOBS.c.attempts + 1)
    .returning(_JOBS.c.id, _JOBS.c.kind, _JOBS.c.args, _JOBS.c.response_url, _JOBS.c.attempts)
)
_FINISH = (update(_JOBS).where(_JOBS.c.id == bindparam("job_id"))
           .values(state=bindparam("state"), finished_at=bindparam("finished_at"), error=bindparam("error")))


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    args: dict[str, Any]
    response_url: str | None
    attempts: int


class JobRunner:
    def __init__(self, rt: Runtime, kinds: Mapping[str, JobFunction], poll: float = 0.05,
                 lease: timedelta = LEASE, threads: int | None = None):
        """`kinds`: the job functions by kind, as the features declare them (`handlers.job_kinds()`);
        `threads`: how many jobs run at once (they mostly wait on Slack)."""
        self.rt = rt
        self.threads = threads or THREADS.get(rt.db.backend, THREADS_DEFAULT)
        self.kinds = {**CORE_JOBS, **kinds}
        self.poll = poll
        self.lease = lease
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _claim(self) -> Claimed | None:
        now = _now()
        # Look before locking: a runner with nothing to do must not take SQLite's one write lock at every poll,
        # in front of the acks that write (a plain read takes no lock; on PostgreSQL it is one short query).
        with self.rt.db.read() as session:
            if session.execute(_DUE, {"now": now}).first() is None:
                return None
        with self.rt.db.transaction() as session:
            row = session.execute(_CLAIM, {"now": now, "until": now + self.lease}).first()
        return Claimed(*row) if row else None

    def _finish(self, job_id: int, outcome: tuple[str, str | None], claim_next: bool = False) -> Claimed | None:
        """Record how the job ended; with `claim_next`, take the next due job in the same transaction (a runner
        working through a queue then writes once per job, not twice, and SQLite's write lock is free more often)."""
        state, error = outcome
        now = _now()
        with self.rt.db.transaction() as session:
            session.execute(_FINISH, {"job_id": job_id, "state": state, "finished_at": now, "error": error})
            row = session.execute(_CLAIM, {"now": now, "until": now + self.lease}).first() if claim_next else None
        return Claimed(*row) if row else None

    def run_one(self) -> bool:
        claimed = self._claim_counted()
        if claimed is None:
            return False
        self._do(claimed)
        return True

    def _claim_counted(self) -> Claimed | None:
        with self._busy_lock:  # counted as busy from its claim, so that `drain` never sees it in between
            self._busy += 1
        claimed = None
        try:
            claimed = self._claim()
            return claimed
        finally:
            if claimed is None:
                with self._busy_lock:
                    self._busy -= 1

    def _do(self, claimed: Claimed, then_next: bool = False) -> None:
        """Run the job; with `then_next`, go on with the due jobs after it, each taken as the one before is finished
        (counted as busy all along, so that `drain` never sees the queue empty in between)."""
        job: Claimed | None = claimed
        try:
            while job is not None:
                job = self._finish(job.id, self._run(job), claim_next=then_next and not self._stop.is_set())
        finally:
            with self._busy_lock:
                self._busy -= 1

    def _run(self, claimed: Claimed) -> tuple[str, str | None]:
        fn = self.kinds.get(claimed.kind)
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
        while not self._stop.is_set() and self.run_one():
            done += 1
        return done

    def run_forever(self) -> None:
        """One thread claims jobs while one of `threads` workers is free; the queue is asked again as soon
        as a job is queued in this process, else every `poll` seconds."""
        wake, free = self.rt.jobs.wake, threading.Semaphore(self.threads)
        with ThreadPoolExecutor(self.threads, thread_name_prefix="liaison-job") as workers:
            while not self._stop.is_set():
                free.acquire()
                try:
                    claimed = self._claim_counted()
                except Exception:  # noqa: BLE001 - a database hiccup must not stop the runner; it tries again
                    log.exception("job runner: could not claim a job; trying again")
                    claimed = None
                    self._stop.wait(1.0)
                if claimed is None:
                    free.release()
                    wake.wait(self.poll)
                    wake.clear()
                    continue
                workers.submit(self._do_then_free, claimed, free)

    def _do_then_free(self, claimed: Claimed, free: threading.Semaphore) -> None:
        try:
            self._do(claimed, then_next=True)
        except Exception:  # noqa: BLE001 - its lease ends and another run takes it
            log.exception("job runner: could not finish job %s", claimed.id)
        finally:
            free.release()

    def start(self) -> JobRunner:
        """Run jobs in the background."""
        self._thread = threading.Thread(target=self.run_forever, name="liaison-jobs", daemon=True)
        self._thread.start()
        if self.rt.db.backend == "postgresql":
            threading.Thread(target=self._listen, name="liaison-jobs-listen", daemon=True).start()
        return self

    def _listen(self) -> None:
        """PostgreSQL: wake this runner whenever any process commits a job. On its own connection (not the
        pool's); if that connection is lost, the runner's poll carries on alone until it is back."""
        import psycopg

        conninfo = self.rt.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.rt.jobs.wake.set()  # anything queued before we listened
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.rt.jobs.wake.set()
            except Exception as e:  # noqa: BLE001 - the poll still finds every job meanwhile
                log.warning("job runner: not listening for new jobs (%s); polling until the database is back", e)
                self._stop.wait(5.0)

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


def post_job(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    """A channel post promised by a listener; if Slack refuses it, the person who asked is told."""
    code = slack.post(rt.client, args["channel_id"], args["payload"])
    return None if code is None else post_failed(code, args["channel_id"])


CORE_JOBS: dict[str, JobFunction] = {"slack.post": post_job}
