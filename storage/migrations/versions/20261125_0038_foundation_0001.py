"""foundation: workspaces, people, projects, channels, members, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 00:38:37.628357
"""
from alembic import op
import sqlalchemy as sa

import storage.models

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workspaces',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_workspaces'))
    )
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('home_team_id', sa.String(length=32), nullable=False),
    sa.Column('is_external', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=True),
    sa.Column('refreshed_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['workspaces.team_id'], name=op.f('fk_people_team_id_workspaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('team_id', 'user_id', name=op.f('uq_people_team_id'))
    )
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('client_name', sa.String(length=200), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['workspaces.team_id'], name=op.f('fk_projects_team_id_workspaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('team_id', 'key', name=op.f('uq_projects_team_id'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_audit_log_project_id_projects'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_project_at', ['project_id', 'at'], unique=False)

    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('added_by', sa.String(length=32), nullable=False),
    sa.Column('added_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('lead', 'team', 'client_approver', 'client')", name=op.f('ck_members_role')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_members_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('project_id', 'user_id', name=op.f('uq_members_project_id'))
    )
    op.create_table('project_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('is_archived', sa.Boolean(), nullable=False),
    sa.Column('bound_by', sa.String(length=32), nullable=False),
    sa.Column('bound_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("audience IN ('internal', 'client')", name=op.f('ck_project_channels_audience')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_channels_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['workspaces.team_id'], name=op.f('fk_project_channels_team_id_workspaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_channels')),
    sa.UniqueConstraint('team_id', 'channel_id', name=op.f('uq_project_channels_team_id'))
    )
    with op.batch_alter_table('project_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_channels_project_id'), ['project_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('project_channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_channels_project_id'))

    op.drop_table('project_channels')
    op.drop_table('members')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_project_at')

    op.drop_table('audit_log')
    op.drop_table('projects')
    op.drop_table('people')
    op.drop_table('workspaces')
