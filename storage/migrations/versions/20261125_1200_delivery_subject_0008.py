"""deliveries.subject: what a delivery is about beyond its project ("milestone:12:2026-12-01"), so that overdue
reminders are counted by milestone without reading it back out of the occurrence; existing reminders get theirs

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 12:00:00
"""
from alembic import op
import sqlalchemy as sa

import storage.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=80), nullable=True))
        batch_op.create_index('ix_deliveries_subject', ['subject'], unique=False)
    # A reminder's occurrence is "m<id>:<due date>", "@<day>" added for an overdue one: its subject is the milestone.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, occurrence FROM deliveries WHERE kind LIKE 'reminder.%'")).all()
    subjects = []
    for delivery_id, occurrence in rows:
        milestone_id, _, due = occurrence.split("@", 1)[0].removeprefix("m").partition(":")
        subjects.append({"id": delivery_id, "subject": f"milestone:{milestone_id}:{due}"})
    if subjects:
        bind.execute(sa.text("UPDATE deliveries SET subject = :subject WHERE id = :id"), subjects)


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_subject')
        batch_op.drop_column('subject')
