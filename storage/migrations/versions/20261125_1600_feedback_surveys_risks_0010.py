"""feedback, CSAT surveys and their answers, follow-ups of low scores and complaints, the risk register; the
project's survey schedule and risk counter

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 16:00:00
"""
from alembic import op
import sqlalchemy as sa

import storage.models

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

UTC = storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('risks_filed', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('survey_schedule', sa.String(length=20), server_default='off', nullable=False))
    op.create_table(
        'feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('from_user', sa.String(length=32), nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('complaint', sa.Boolean(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('source_key', sa.String(length=120), nullable=True),
        sa.Column('logged_by', sa.String(length=32), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.CheckConstraint('score IS NULL OR (score >= 1 AND score <= 5)', name=op.f('ck_feedback_score')),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_feedback_project_id_projects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
        sa.UniqueConstraint('project_id', 'source_key', name=op.f('uq_feedback_project_id_source_key')),
    )
    op.create_index('ix_feedback_project_id_created_at', 'feedback', ['project_id', 'created_at'], unique=False)
    op.create_table(
        'surveys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('occurrence', sa.String(length=80), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('opened_at', UTC, nullable=False),
        sa.Column('closes_at', UTC, nullable=False),
        sa.Column('closed_at', UTC, nullable=True),
        sa.Column('opened_by', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_surveys_project_id_projects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
        sa.UniqueConstraint('project_id', 'occurrence', name=op.f('uq_surveys_project_id_occurrence')),
    )
    op.create_table(
        'survey_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('answered_at', UTC, nullable=False),
        sa.Column('changed_at', UTC, nullable=True),
        sa.CheckConstraint('score >= 1 AND score <= 5', name=op.f('ck_survey_answers_score')),
        sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_answers_survey_id_surveys'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers')),
        sa.UniqueConstraint('survey_id', 'user_id', name=op.f('uq_survey_answers_survey_id_user_id')),
    )
    op.create_table(
        'follow_ups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.String(length=32), nullable=False),
        sa.Column('opened_at', UTC, nullable=False),
        sa.Column('resolved_at', UTC, nullable=True),
        sa.Column('resolved_by', sa.String(length=32), nullable=True),
        sa.Column('resolution', sa.Text(), nullable=True),
        sa.CheckConstraint("source IN ('survey', 'feedback')", name=op.f('ck_follow_ups_source')),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_follow_ups_project_id_projects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups')),
        sa.UniqueConstraint('source', 'record_id', name=op.f('uq_follow_ups_source_record_id')),
    )
    op.create_index('ix_follow_ups_project_id_resolved_at', 'follow_ups', ['project_id', 'resolved_at'],
                    unique=False)
    op.create_table(
        'risks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('likelihood', sa.String(length=8), nullable=False),
        sa.Column('impact', sa.String(length=8), nullable=False),
        sa.Column('response', sa.String(length=12), nullable=True),
        sa.Column('owner_id', sa.String(length=32), nullable=True),
        sa.Column('review_date', sa.Date(), nullable=True),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('changed_at', UTC, nullable=False),
        sa.Column('closed_at', UTC, nullable=True),
        sa.Column('closed_by', sa.String(length=32), nullable=True),
        sa.Column('close_note', sa.Text(), nullable=True),
        sa.Column('change_request_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("likelihood IN ('low', 'medium', 'high')", name=op.f('ck_risks_likelihood')),
        sa.CheckConstraint("impact IN ('low', 'medium', 'high')", name=op.f('ck_risks_impact')),
        sa.CheckConstraint("response IS NULL OR response IN ('avoid', 'mitigate', 'transfer', 'accept')",
                           name=op.f('ck_risks_response')),
        sa.CheckConstraint("state IN ('open', 'closed')", name=op.f('ck_risks_state')),
        sa.ForeignKeyConstraint(['change_request_id'], ['change_requests.id'],
                                name=op.f('fk_risks_change_request_id_change_requests'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_risks_project_id_projects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_risks')),
        sa.UniqueConstraint('project_id', 'number', name=op.f('uq_risks_project_id_number')),
    )


def downgrade() -> None:
    op.drop_table('risks')
    op.drop_index('ix_follow_ups_project_id_resolved_at', table_name='follow_ups')
    op.drop_table('follow_ups')
    op.drop_table('survey_answers')
    op.drop_table('surveys')
    op.drop_index('ix_feedback_project_id_created_at', table_name='feedback')
    op.drop_table('feedback')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('survey_schedule')
        batch_op.drop_column('risks_filed')
