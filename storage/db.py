"""Engine and unit of work: `with db.transaction() as session:` commits on success and rolls back on any error."""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_WRITE = "liaison_write"
_LOCK_WAIT = 30.0  # seconds a writer waits for SQLite's write lock before giving up


def make_engine(url: str, **kwargs: Any) -> Engine:
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
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(_LOCK_WAIT * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: a deferred transaction that later tries to write can fail with
        # SQLITE_BUSY at once instead of waiting, when two processes write at the same time.
        if conn.get_execution_options().get(_WRITE):
            _begin_immediate(conn.connection.dbapi_connection)
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _begin_immediate(dbapi_conn: Any) -> None:
    """BEGIN IMMEDIATE that follows another process's write lock closely.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15... ms between tries, so a writer that arrives while another
    process holds the lock for 3 ms waits 18 ms, one that arrives during a 6 ms hold waits 33; acks wait on such
    locks. This polls every 0.2-2 ms instead, up to the same overall limit.
    """
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=0")
        deadline, pause = time.monotonic() + _LOCK_WAIT, 0.0002
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 1.5, 0.002)
    finally:
        cursor.execute(f"PRAGMA busy_timeout={int(_LOCK_WAIT * 1000)}")
        cursor.close()


class Database:
    def __init__(self, url: str, engine: Engine | None = None):
        self.url = url
        self.engine = engine or make_engine(url)
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._writer.begin() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A plain connection in a write transaction, for hot paths of a statement or two: a third of the cost
        of an ORM session, which matters in an ack and in the job runner's loop."""
        with self._write_engine.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
