"""unique constraints named after all their columns (uq_members_project_id_user_id), so that two composite
constraints beginning with the same column can't share a name

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 11:00:00
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# (table, columns, name under the old convention: the first column only)
RENAMED = [
    ("people", ["team_id", "user_id"], "uq_people_team_id"),
    ("projects", ["team_id", "key"], "uq_projects_team_id"),
    ("project_channels", ["team_id", "channel_id"], "uq_project_channels_team_id"),
    ("members", ["project_id", "user_id"], "uq_members_project_id"),
    ("updates", ["project_id", "source_key"], "uq_updates_project_id"),
    ("deliveries", ["project_id", "kind", "occurrence", "channel_id"], "uq_deliveries_project_id"),
    ("cards", ["channel_id", "ts"], "uq_cards_channel_id"),
]


def _rename(table: str, columns: list[str], old: str, new: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'ALTER TABLE {table} RENAME CONSTRAINT "{old}" TO "{new}"')
        return
    # SQLite keeps constraints in the table's definition: batch mode rebuilds the table with the new name.
    with op.batch_alter_table(table, recreate="always") as batch_op:
        batch_op.drop_constraint(old, type_="unique")
        batch_op.create_unique_constraint(new, columns)


def upgrade() -> None:
    for table, columns, old in RENAMED:
        _rename(table, columns, old, f"uq_{table}_{'_'.join(columns)}")


def downgrade() -> None:
    for table, columns, old in RENAMED:
        _rename(table, columns, f"uq_{table}_{'_'.join(columns)}", old)
