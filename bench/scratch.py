"""Scratch databases for benchmarks: a SQLite file in a temporary directory, or a PostgreSQL database that is
created for the run and dropped after it."""
from __future__ import annotations

import uuid

from sqlalchemy import create_engine, text


def scratch_database(backend: str, pg_url: str, workdir: str) -> tuple[str, object]:
    if backend == "sqlite":
        return f"sqlite:///{workdir}/bench-{uuid.uuid4().hex[:6]}.db", None
    name = f"liaison_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return pg_url.rsplit("/", 1)[0] + f"/{name}", (admin, name)


def drop_database(handle: object) -> None:
    if handle:
        admin, name = handle  # type: ignore[misc]
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
