"""status derived from updates: a project's health, progress and last update are read from its updates,
so an edited or deleted update can never leave them stale

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 03:36:05.708937
"""
from alembic import op
import sqlalchemy as sa

import storage.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('client_progress')
        batch_op.drop_column('progress')
        batch_op.drop_column('health')
        batch_op.drop_column('client_health')
        batch_op.drop_column('last_update_at')


def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_update_at', storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('client_health', sa.VARCHAR(length=8), nullable=True))
        batch_op.add_column(sa.Column('health', sa.VARCHAR(length=8), nullable=True))
        batch_op.add_column(sa.Column('progress', sa.INTEGER(), nullable=True))
        batch_op.add_column(sa.Column('client_progress', sa.INTEGER(), nullable=True))

