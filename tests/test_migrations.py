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


def test_upgrading_a_sqlite_database_with_data_keeps_every_row(tmp_path):
    """Migrations that rebuild a table (0005, 0007) must not let SQLite's DROP TABLE cascade into the tables that
    refer to it: a project's channels, people and updates survive the upgrade."""
    from sqlalchemy import text

    from storage.db import Database

    db = Database(f"sqlite:///{tmp_path}/old.db")
    upgrade_to_head(db.engine, "0004")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (team_id, name, created_at) VALUES ('T', '', '2026-01-01')"))
        conn.execute(text("INSERT INTO projects (id, team_id, key, name, timezone, created_by, created_at, "
                          "digest_schedule) VALUES (1, 'T', 'acme', 'Acme', 'UTC', 'U', '2026-01-01', 'off')"))
        conn.execute(text("INSERT INTO members (project_id, user_id, role, added_by, added_at) "
                          "VALUES (1, 'U', 'lead', 'U', '2026-01-01')"))
        conn.execute(text("INSERT INTO project_channels (team_id, project_id, channel_id, name, audience, "
                          "is_archived, bound_by, bound_at) VALUES ('T', 1, 'C', 'c', 'internal', 0, 'U', '2026-01-01')"))
        conn.execute(text("INSERT INTO updates (project_id, author_id, logged_by, text, visibility, source, "
                          "channel_id, created_at) VALUES (1, 'U', 'U', 'hi', 'internal', 'command', 'C', '2026-01-01')"))
    upgrade_to_head(db.engine)
    with db.engine.connect() as conn:
        counts = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                  for t in ("projects", "members", "project_channels", "updates")]
        assert counts == [1, 1, 1, 1]
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # back on for everyone else
    db.dispose()
