"""Storage behaves the same on SQLite and PostgreSQL, including when two writers race."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from sqlalchemy import func, select, text

from bot.actors import Actor
from bot.errors import BadInput
from bot.services import projects
from bot.services.projects import ChannelFacts, draft_project
from storage.db import Database
from storage.models import AuditEntry, Project

NOW = datetime(2026, 11, 24, 10, tzinfo=timezone.utc)
LEAD = Actor("T0AGENCY", "U0LEAD")


def draft(name: str):
    return draft_project(name, client=None, due=None, tz=None, key=None, default_tz="UTC", now=NOW)


def test_failed_unit_of_work_leaves_nothing(clean_db):
    db = clean_db
    try:
        with db.transaction() as session:
            projects.create_project(session, LEAD, draft("Acme"), ChannelFacts("C1", "one", False), NOW)
            raise RuntimeError("boom after the insert")
    except RuntimeError:
        pass
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Project)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_two_writers_racing_for_one_key_make_one_project(clean_db):
    db = clean_db
    results: list[str] = []
    barrier = threading.Barrier(4)

    def create(i: int) -> None:
        barrier.wait()
        try:
            with db.transaction() as session:
                projects.create_project(session, LEAD, draft("Acme"), ChannelFacts(f"C{i}", "c", False), NOW)
            results.append("created")
        except BadInput:
            results.append("refused")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["created", "refused", "refused", "refused"]
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Project)) == 1


def test_times_come_back_as_aware_utc(clean_db):
    with clean_db.transaction() as session:
        projects.create_project(session, LEAD, draft("Acme"), ChannelFacts("C1", "one", False), NOW)
    with clean_db.read() as session:
        created = session.scalar(select(Project.created_at))
    assert created == NOW and created.tzinfo is not None


def test_audit_entries_cannot_be_edited_or_deleted(clean_db):
    import pytest

    with clean_db.transaction() as session:
        projects.create_project(session, LEAD, draft("Acme"), ChannelFacts("C1", "one", False), NOW)
    for change in ("edit", "delete"):
        with pytest.raises(PermissionError):
            with clean_db.transaction() as session:
                entry = session.scalar(select(AuditEntry))
                if change == "edit":
                    entry.action = "forged"
                else:
                    session.delete(entry)
    with clean_db.read() as session:
        assert session.scalars(select(AuditEntry.action)).all() == ["project.create"]


def test_sqlite_web_workers_leave_copying_the_log_back_to_the_scheduler(tmp_path):
    """A web worker's commit never stops to copy SQLite's write-ahead log back into the database (3-4 ms with its
    fsyncs, on about one `/update` in 130): the scheduler process does that (`Database.checkpoint`, every second).
    Anyone else checkpoints as SQLite does by default, after the commit that takes the log past 1,000 pages."""
    def fill(db: Database) -> tuple[int, int]:  # 300 commits of about six pages each
        with db.transaction() as session:
            session.execute(text("CREATE TABLE filler (x BLOB)"))
        for _ in range(300):
            with db.transaction() as session:
                session.execute(text("INSERT INTO filler VALUES (randomblob(20000))"))
        return db.checkpoint()

    web = Database(f"sqlite:///{tmp_path}/web.db", background_checkpoints=True)
    pages, copied = fill(web)
    assert pages > 1500 and copied == pages  # all of it still in the log, until the scheduler's checkpoint
    with web.transaction() as session:
        session.execute(text("INSERT INTO filler VALUES (1)"))
    assert web.checkpoint() == (1, 1)  # after a checkpoint, the log starts again from its beginning
    alone = Database(f"sqlite:///{tmp_path}/alone.db")
    pages, _ = fill(alone)
    assert pages < 1100  # checkpointed along the way by its own commits
    web.dispose()
    alone.dispose()
