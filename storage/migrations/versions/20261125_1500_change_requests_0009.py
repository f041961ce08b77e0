"""change_requests, and the project's budget baseline and change-request counter

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 15:00:00
"""
from alembic import op
import sqlalchemy as sa

import storage.models

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('budget_cents', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('budget_currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('changes_filed', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'change_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('requested_by', sa.String(length=32), nullable=False),
        sa.Column('priority', sa.String(length=8), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('source_key', sa.String(length=120), nullable=True),
        sa.Column('permalink', sa.Text(), nullable=True),
        sa.Column('filed_by', sa.String(length=32), nullable=False),
        sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('changed_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=True),
        sa.Column('cost_cents', sa.BigInteger(), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('notes_internal', sa.Boolean(), nullable=False),
        sa.Column('milestone_ids', sa.JSON(), nullable=False),
        sa.Column('assessed_by', sa.String(length=32), nullable=True),
        sa.Column('assessed_at', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.String(length=32), nullable=True),
        sa.Column('decided_at', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
        sa.Column('override', sa.Boolean(), nullable=False),
        sa.Column('approved_version', sa.Integer(), nullable=True),
        sa.Column('moved', sa.JSON(), nullable=False),
        sa.CheckConstraint("state IN ('submitted', 'assessed', 'approved', 'rejected', 'in_progress', 'done', "
                           "'withdrawn')", name=op.f('ck_change_requests_state')),
        sa.CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')",
                           name=op.f('ck_change_requests_priority')),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_change_requests_project_id_projects'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_change_requests')),
        sa.UniqueConstraint('project_id', 'number', name=op.f('uq_change_requests_project_id_number')),
        sa.UniqueConstraint('project_id', 'source_key', name=op.f('uq_change_requests_project_id_source_key')),
    )
    op.create_index('ix_change_requests_project_id_state', 'change_requests', ['project_id', 'state'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_change_requests_project_id_state', table_name='change_requests')
    op.drop_table('change_requests')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('changes_filed')
        batch_op.drop_column('budget_currency')
        batch_op.drop_column('budget_cents')
