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


def upgrade_to_head(engine: Engine) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
