"""The clock side: APScheduler jobs that post digests and reminders (built by a later issue)."""
