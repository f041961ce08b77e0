"""The schema comes from migrations, on both databases, and matches the models exactly."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.migrate import upgrade_to_head
from storage.models import Base


def test_upgrade_creates_every_table_and_matches_the_models(db):
    upgrade_to_head(db.engine)  # again: applying head twice is harmless
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables and "alembic_version" in tables
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
