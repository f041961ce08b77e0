"""The scheduler's registered kinds and the digest's typed sections: a later kind is a planner and a composer, a
later section a provider; the team's milestone reminder is a living card; old ledgers keep counting after 0008."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, insert, select, text

from bot.clock import ManualClock
from bot.config import Settings
from bot.render.digests import digest_message
from bot.runtime import build_runtime
from bot.services import cards
from bot.services.digests import SECTIONS, Batch, Digest, Section, SectionProvider, Updates, compose
from scheduler import service
from scheduler.kinds import KINDS
from scheduler.plan import Composed, Facts, Planned, ScheduledKind
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.models import Delivery, Milestone, Project, ProjectChannel, Workspace
from tests.conftest import PG_ADMIN_URL
from tests.helpers import acme, posts

SUNDAY_9 = datetime(2026, 11, 29, 9, 5, tzinfo=UTC)  # Design sign-off (2 December) is due in 3 days


@pytest.fixture
def project(app):
    acme(app)
    app.command("Homepage on staging", name="/update", channel="C0SHARED")
    app.command("add due=2026-12-02 owner=<@U0TEAM|sam> Design sign-off", name="/milestone")
    app.command("schedule off")
    app.jobs.drain()
    app.fake.clear()
    return app


def milestone_id(db, name: str) -> int:
    with db.read() as session:
        return session.scalar(select(Milestone.id).where(Milestone.name == name))


def reminder(fake, channel: str):
    [call] = [c for c in fake.calls_to("chat.postMessage")
              if not c.failed and c.args["channel"] == channel and "due in 3 days" in c.args["text"]]
    return call


def test_the_team_reminder_has_a_mark_done_button_and_changes_in_place_with_the_milestone(project, db, clock):
    clock.set(SUNDAY_9)
    assert service.tick(project.rt).sent == 2
    internal, client = reminder(project.fake, "C0INTERNAL"), reminder(project.fake, "C0SHARED")
    assert [b["text"]["text"] for b in _buttons(internal)] == ["Mark done"]
    assert _buttons(client) == [] and "/milestone" not in json.dumps(client.args)
    design = milestone_id(db, "Design sign-off")
    with db.read() as session:
        shown = cards.posted(session, "milestone", design)
    assert ("C0INTERNAL", internal.ts) in shown and ("C0SHARED", client.ts) not in shown

    answer = project.press(internal, "Mark done")
    assert "Marked Design sign-off done" in answer.text
    project.jobs.drain()
    changed = [c for c in project.fake.calls_to("chat.update") if c.args["ts"] == internal.ts]
    assert [c.args["channel"] for c in changed] == ["C0INTERNAL"]
    assert "done" in json.dumps(changed[0].args["blocks"]) and "Mark done" not in json.dumps(changed[0].args)
    assert not [c for c in project.fake.calls_to("chat.update") if c.args["ts"] == client.ts]


def _buttons(call) -> list[dict]:
    return [e for b in call.args.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


@dataclass(frozen=True)
class Margin(Section):
    """A section for the team only (it declares no audience, so the default: internal)."""

    percent: int = 0


def margins(session, batch: Batch):
    for digest in batch.digests.values():
        yield digest, Margin(12)


def test_a_section_for_the_team_only_never_reaches_the_client_digest(project, db, clock):
    pid = _project_id(db)
    with db.read() as session:
        digests = compose(session, [pid], clock.now(), sections=(*SECTIONS, SectionProvider((Margin,), margins)))
        internal, client = digests[(pid, "internal")], digests[(pid, "client")]
        assert [type(s) for s in internal.sections][-1] is Margin
        assert Margin not in {type(s) for s in client.sections}
        assert "Homepage on staging" in json.dumps(digest_message(client))
        # A provider that says it fills client sections but hands over a team-only one is refused.
        liar = SectionProvider((Updates, Margin), margins)
        with pytest.raises(ValueError, match="Margin section can't go into the client digest"):
            compose(session, [pid], clock.now(), sections=(liar,))
    # And a client digest put together by hand can't be rendered with it.
    with pytest.raises(AssertionError, match="not for the client digest"):
        digest_message(Digest(pid, "acme", "Acme", None, "UTC", "client", None, None, clock.now(), clock.now(),
                              sections=(Updates(), Margin(12))))


def _project_id(db) -> int:
    with db.read() as session:
        return session.scalar(select(Project.id).where(Project.key == "acme"))


@dataclass(frozen=True)
class Hello:
    who: str

    @property
    def key(self) -> str:
        return f"hello:{self.who}"


def plan_hellos(session, now: datetime, facts: Facts) -> list[Planned[Hello]]:
    at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    return [Planned(p.id, "hello.team", "2026-11-29", channel, at, audience, Hello(p.key))
            for p in facts.projects for channel, audience in facts.channels[p.id] if audience == "internal"]


def compose_hellos(session, items: list[Planned[Hello]], now: datetime) -> list[Composed]:
    return [Composed({"text": f"Hello, {item.subject.who} team"}) for item in items]


HELLOS = ScheduledKind("hello.", plan_hellos, compose_hellos)


def test_a_new_kind_is_a_planner_and_a_composer_in_the_list(project, db, clock):
    clock.set(SUNDAY_9)
    assert service.tick(project.rt).sent == 2  # without it: only the reminders
    report = service.tick(project.rt, kinds=(*KINDS, HELLOS))
    assert report.sent == 1
    assert service.tick(project.rt, kinds=(*KINDS, HELLOS)).sent == 0  # once, as every kind
    assert [json.loads(p)["text"] for p in posts(project.fake, "C0INTERNAL")][-1] == "Hello, acme team"
    with db.read() as session:
        assert session.scalar(select(Delivery.subject).where(Delivery.kind == "hello.team")) == "hello:acme"


def test_no_two_kinds_share_a_prefix():
    prefixes = [k.prefix for k in KINDS]
    assert len(set(prefixes)) == len(prefixes)
    assert not [(a, b) for a in prefixes for b in prefixes if a != b and a.startswith(b)]


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path) -> Iterator[Database]:
    """A database at 0007, before deliveries had a subject."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path}/old.db")
        upgrade_to_head(database.engine, "0007")
        yield database
        database.dispose()
        return
    name = f"liaison_test_0008_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        upgrade_to_head(database.engine, "0007")
        yield database
    finally:
        database.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_overdue_reminders_sent_before_the_upgrade_still_count(old_database, slack):
    """Milestone 1 had its five overdue reminders before 0008, milestone 2 four: only milestone 2 gets one more."""
    at = datetime(2026, 11, 20, tzinfo=UTC)
    days = ["2026-11-26", "2026-11-27", "2026-11-30", "2026-12-01", "2026-12-02"]
    with old_database.engine.begin() as conn:
        conn.execute(insert(Workspace), [{"team_id": "T0AGENCY", "name": "", "created_at": at}])
        conn.execute(insert(Project), [{"id": 1, "team_id": "T0AGENCY", "key": "acme", "name": "Acme Website",
                                        "timezone": "UTC", "created_by": "U0LEAD", "created_at": at,
                                        "digest_schedule": "off"}])
        conn.execute(insert(ProjectChannel), [{"team_id": "T0AGENCY", "project_id": 1, "channel_id": "C0INTERNAL",
                                               "name": "acme-internal", "audience": "internal", "is_archived": False,
                                               "bound_by": "U0LEAD", "bound_at": at}])
        conn.execute(insert(Milestone), [{"id": n, "project_id": 1, "name": f"Step {n}", "due_date": date(2026, 11, 25),
                                          "visibility": "internal", "created_by": "U0LEAD", "created_at": at}
                                         for n in (1, 2)])
        conn.execute(insert(Delivery), [{
            "project_id": 1, "kind": "reminder.overdue", "occurrence": f"m{n}:2026-11-25@{day}",
            "channel_id": "C0INTERNAL", "due_at": datetime.fromisoformat(f"{day}T09:00+00:00"), "state": "sent",
            "attempts": 1, "sent_at": at,
        } for n, sent in ((1, days), (2, days[:4])) for day in sent])
    upgrade_to_head(old_database.engine)
    with old_database.read() as session:
        assert set(session.scalars(select(Delivery.subject))) == {"milestone:1:2026-11-25", "milestone:2:2026-11-25"}

    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret="s", database_url=old_database.url,
                        slack_api_url=slack.base_url, timezone="UTC")
    rt = build_runtime(settings, db=old_database, clock=ManualClock(datetime(2026, 12, 3, 9, 5, tzinfo=UTC)))
    assert service.tick(rt).sent == 1
    [sent] = [json.loads(p)["text"] for p in posts(slack, "C0INTERNAL")]
    assert sent.startswith("Step 2 is overdue")
