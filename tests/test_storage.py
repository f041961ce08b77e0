"""Storage behaves the same on SQLite and PostgreSQL, including when two writers race."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from sqlalchemy import func, select

from bot.actors import Actor
from bot.errors import BadInput
from bot.services import projects
from bot.services.projects import ChannelFacts, draft_project
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
