"""cards: the messages posted for a record, so they can be updated in place or removed; updates a lead hid

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 10:00:00
"""
from alembic import op
import sqlalchemy as sa

import storage.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('ts', sa.String(length=32), nullable=False),
        sa.Column('posted_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_cards_project_id_projects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cards')),
        sa.UniqueConstraint('channel_id', 'ts', name=op.f('uq_cards_channel_id')),
    )
    op.create_index('ix_cards_record', 'cards', ['kind', 'record_id'], unique=False)
    with op.batch_alter_table('updates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_at', storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hidden_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('hidden_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('updates', schema=None) as batch_op:
        batch_op.drop_column('hidden_reason')
        batch_op.drop_column('hidden_by')
        batch_op.drop_column('hidden_at')
    op.drop_index('ix_cards_record', table_name='cards')
    op.drop_table('cards')
