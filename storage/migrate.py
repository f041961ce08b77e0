"""Alembic, configured in code so `liaison db upgrade` and start-up need no alembic.ini."""
from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

# Several `serve` processes may start at once against one PostgreSQL: only one of them migrates at a time.
_PG_MIGRATION_LOCK = 7_252_011


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "storage:migrations")
    return cfg


def upgrade_to_head(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config()
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild a table (copy, DROP, rename). With foreign keys on, SQLite's DROP TABLE first
            # deletes every row, and ON DELETE CASCADE empties the tables that refer to it. The pragma must be set
            # outside a transaction (inside one SQLite ignores it), so on the driver's connection before BEGIN.
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                if not sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite and (broken := conn.exec_driver_sql("PRAGMA foreign_key_check").all()):
                    raise RuntimeError(f"the migration left rows whose references are broken: {broken[:5]}")
        finally:
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
