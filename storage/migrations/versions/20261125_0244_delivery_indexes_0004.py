"""delivery indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 02:44:25.010491
"""
from alembic import op
import sqlalchemy as sa

import storage.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_state_due_at'))
        batch_op.create_index('ix_deliveries_due_at', ['due_at'], unique=False)
        batch_op.create_index('ix_deliveries_last_sent', ['project_id', 'kind', 'state', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_last_sent')
        batch_op.drop_index('ix_deliveries_due_at')
        batch_op.create_index(batch_op.f('ix_deliveries_state_due_at'), ['state', 'due_at'], unique=False)

