"""PostgreSQL: a statement that queues jobs NOTIFYs the job runners itself (delivered at its transaction's commit)

Every runner LISTENs on the channel `liaison_jobs` (bot/jobs.py), so a job queued by any process starts at once.
Until now the code that queued a job sent `NOTIFY` as a statement of its own; a trigger says it in the same round
trip as the insert, whoever inserts. SQLite has no NOTIFY: its runners poll, and this revision does nothing there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 17:00:00
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION liaison_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('liaison_jobs', '');
            RETURN NULL;
        END $$
    """)
    op.execute("CREATE TRIGGER jobs_notify AFTER INSERT ON jobs FOR EACH STATEMENT "
               "EXECUTE FUNCTION liaison_jobs_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER jobs_notify ON jobs")
    op.execute("DROP FUNCTION liaison_jobs_notify()")
