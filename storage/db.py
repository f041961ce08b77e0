"""Engine and unit of work: `with db.transaction() as session:` commits on success and rolls back on any error."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_WRITE = "liaison_write"
_LOCK_WAIT = 30.0  # seconds a writer waits for SQLite's write lock before giving up
# Pages of write-ahead log past which a process that leaves checkpoints to the scheduler makes one itself (when no
# scheduler is running to make them): 10,000 pages of 4 KiB. SQLite's own default, for everyone else, is 1,000.
BACKGROUND_CHECKPOINT_LIMIT = 10_000


def make_engine(url: str, background_checkpoints: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url`. On SQLite, `background_checkpoints` is for the processes that answer people.

    In WAL mode, SQLite copies the write-ahead log back into the database (a checkpoint) after the commit that
    takes the log past 1,000 pages: the request whose commit that is waits for the copy and its fsyncs (3-4 ms,
    about one `/update` in 130). SQLite lets an application turn those off and checkpoint from a thread or process
    of its own; the scheduler process does, every second (`Database.checkpoint`).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)

    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling defers it badly).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if parsed.database and parsed.database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            if background_checkpoints:
                cursor.execute(f"PRAGMA wal_autocheckpoint={BACKGROUND_CHECKPOINT_LIMIT}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(_LOCK_WAIT * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: a deferred transaction that later tries to write can fail with
        # SQLITE_BUSY at once instead of waiting, when two processes write at the same time.
        # SQLite's own busy handler (busy_timeout) waits for another process's lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


class Database:
    def __init__(self, url: str, engine: Engine | None = None, *, background_checkpoints: bool = False):
        self.url = url
        self.engine = engine or make_engine(url, background_checkpoints)
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)
        # PostgreSQL's read committed gives each statement its own snapshot, inside a transaction or not: a unit of
        # work that only reads needs no BEGIN and COMMIT round trips. SQLite's reads share one snapshot in BEGIN.
        reads = self.engine.execution_options(isolation_level="AUTOCOMMIT") if self.backend == "postgresql" \
            else self.engine
        self._reader = sessionmaker(reads, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._writer.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader.begin() as session:
            yield session

    def checkpoint(self) -> tuple[int, int] | None:
        """SQLite: copy what the write-ahead log holds back into the database, without waiting for anyone (PASSIVE:
        readers and writers go on). Returns the log's pages and how many of them are now in the database; None on
        PostgreSQL, which checkpoints by itself."""
        if self.backend != "sqlite":
            return None
        raw = self.engine.raw_connection()  # outside SQLAlchemy's BEGIN: a checkpoint runs outside a transaction
        try:
            cursor = raw.cursor()
            _busy, pages, copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            cursor.close()
        finally:
            raw.close()
        return pages, copied

    def dispose(self) -> None:
        self.engine.dispose()
