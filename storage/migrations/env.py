from alembic import context

from storage.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite can only ALTER by copying the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
