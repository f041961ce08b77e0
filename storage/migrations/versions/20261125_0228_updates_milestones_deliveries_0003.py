"""updates milestones deliveries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 02:28:09.117300
"""
from alembic import op
import sqlalchemy as sa

import storage.models

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('occurrence', sa.String(length=80), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('due_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('sent_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('sending', 'sent', 'failed', 'skipped')", name=op.f('ck_deliveries_state')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_deliveries_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('project_id', 'kind', 'occurrence', 'channel_id', name=op.f('uq_deliveries_project_id'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_state_due_at', ['state', 'due_at'], unique=False)

    op.create_table('milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=True),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('done_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.String(length=32), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("visibility IN ('internal', 'client')", name=op.f('ck_milestones_visibility')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_milestones_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestones'))
    )
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index('ix_milestones_project_id_due_date', ['project_id', 'due_date'], unique=False)

    op.create_table('updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.String(length=32), nullable=False),
    sa.Column('logged_by', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('health', sa.String(length=8), nullable=True),
    sa.Column('progress', sa.Integer(), nullable=True),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_key', sa.String(length=120), nullable=True),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('permalink', sa.Text(), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('edited_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("health IS NULL OR health IN ('green', 'amber', 'red')", name=op.f('ck_updates_health')),
    sa.CheckConstraint("visibility IN ('internal', 'client')", name=op.f('ck_updates_visibility')),
    sa.CheckConstraint('progress IS NULL OR (progress >= 0 AND progress <= 100)', name=op.f('ck_updates_progress')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_updates_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_updates')),
    sa.UniqueConstraint('project_id', 'source_key', name=op.f('uq_updates_project_id'))
    )
    with op.batch_alter_table('updates', schema=None) as batch_op:
        batch_op.create_index('ix_updates_project_id_created_at', ['project_id', 'created_at'], unique=False)

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('health', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('progress', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('client_health', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('client_progress', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_update_at', storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('digest_schedule', sa.String(length=120), server_default='weekly mon 09:00', nullable=False))
        batch_op.add_column(sa.Column('schedule_set_at', storage.models.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('schedule_set_at')
        batch_op.drop_column('digest_schedule')
        batch_op.drop_column('last_update_at')
        batch_op.drop_column('client_progress')
        batch_op.drop_column('client_health')
        batch_op.drop_column('progress')
        batch_op.drop_column('health')

    with op.batch_alter_table('updates', schema=None) as batch_op:
        batch_op.drop_index('ix_updates_project_id_created_at')

    op.drop_table('updates')
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index('ix_milestones_project_id_due_date')

    op.drop_table('milestones')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_state_due_at')

    op.drop_table('deliveries')
