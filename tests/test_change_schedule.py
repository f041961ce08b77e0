"""Change requests in the scheduler and the digests: the client is reminded of a request awaiting its decision once
each working day after two, in its own channel only, by one scheduler of many; both digests show the requests
(never their notes) and what the approved ones add to the budget and the due date."""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from bot.render.digests import digest_message
from bot.runtime import build_runtime
from bot.services.changes import Totals
from bot.services.digests import Changes, Digest, DigestChange, SectionProvider, collect_changes, compose
from scheduler import service
from scheduler.changes import KIND
from scheduler.kinds import KINDS
from storage.models import ChangeRequest, Delivery, Project
from tests.helpers import acme, count, posts, ticks_at_once

TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # the fixtures' START; London is on UTC in winter


def day(month: int, d: int, hour: int = 9, minute: int = 5) -> datetime:
    return datetime(2026, month, d, hour, minute, tzinfo=UTC)


@pytest.fixture
def project(app):
    """acme with its digests off (so that only reminders go out) and U0CLIENT as the client's approver."""
    acme(app)
    app.command("schedule off")
    assert "client approver" in app.command("role <@U0CLIENT> client_approver").text
    app.jobs.drain()
    app.fake.clear()
    return app


def project_id(db) -> int:
    with db.read() as session:
        return session.scalar(select(Project.id).where(Project.key == "acme"))


def add_change(db, number: int, title: str, state: str, *, changed_at: datetime, created_at: datetime | None = None,
               days: int | None = 5, cost_cents: int | None = 240_000, currency: str | None = "EUR",
               notes: str | None = "Margin is thin here: quote high", notes_internal: bool = True,
               decided_by: str | None = None, decided_at: datetime | None = None, override: bool = False,
               version: int = 1, project: int | None = None) -> int:
    assessed = state != "submitted"
    row = ChangeRequest(
        project_id=project or project_id(db), number=number, title=title, description="What the client asked for",
        requested_by="U0CLIENT", priority="normal", state=state, source="command", filed_by="U0CLIENT",
        created_at=created_at or changed_at, changed_at=changed_at, version=version if assessed else 0,
        days=days if assessed else None, cost_cents=cost_cents if assessed else None,
        currency=currency if assessed else None, notes=notes if assessed else None, notes_internal=notes_internal,
        milestone_ids=[], assessed_by="U0LEAD" if assessed else None, assessed_at=changed_at if assessed else None,
        decided_by=decided_by, decided_at=decided_at, decision_note="Lead's reason, for the team" if override else None,
        override=override, approved_version=version if state in ("approved", "in_progress", "done") else None,
        moved=[],
    )
    with db.transaction() as session:
        session.add(row)
        session.flush()
        return row.id


def change_posts(fake, channel: str | None = None) -> list[dict]:
    return [c.args for c in fake.calls_to("chat.postMessage")
            if not c.failed and "CR-" in c.args["text"] and (channel is None or c.args["channel"] == channel)]


def shown(args: dict) -> str:
    return json.dumps(args, ensure_ascii=False)


def tick_twice(app) -> list[dict]:
    """Two ticks a few minutes apart; what they posted about change requests."""
    before = len(change_posts(app.fake))
    service.tick(app.rt)
    service.tick(app.rt)
    return change_posts(app.fake)[before:]


# -- reminders -------------------------------------------------------------------------------------------------------
def test_the_client_is_reminded_after_two_working_days_then_once_each_working_day(project, db, clock):
    add_change(db, 1, "Newsletter signup", "assessed", changed_at=TUESDAY)  # assessed on Tuesday 24 November
    seen = {}
    for d in range(25, 31):
        clock.set(day(11, d))
        seen[d] = tick_twice(project)
    clock.set(day(12, 1, 8, 55))  # before 09:00 in London
    assert tick_twice(project) == []
    clock.set(day(12, 1))
    seen[31] = tick_twice(project)

    # Wednesday and Thursday are its first two working days; Friday the third: reminded. Not at the weekend.
    assert [d for d in seen if seen[d]] == [27, 30, 31]
    assert all(len(seen[d]) == 1 for d in (27, 30, 31))
    friday, monday = seen[27][0], seen[30][0]
    assert {a["channel"] for d in (27, 30, 31) for a in seen[d]} == {"C0SHARED"}  # the client's channel only
    assert change_posts(project.fake, "C0INTERNAL") == []
    text = shown(friday)
    for words in ("CR-1 Newsletter signup", "Acme Website", "awaiting a decision for 3 working days",
                  "+5 working days, +2,400 EUR", "<@U0CLIENT>", "approve or reject it on the request's card"):
        assert words in text
    assert "<@U0CLIENT>" in friday["text"]  # the approver is notified
    assert "4 working days" in shown(monday)
    for args in change_posts(project.fake):
        assert "Margin is thin" not in shown(args)  # the team's notes stay with the team
    with db.read() as session:
        rows = session.execute(select(Delivery.occurrence, Delivery.subject, Delivery.state)
                               .where(Delivery.kind == KIND).order_by(Delivery.id)).all()
    change_id = session_change_id(db, 1)
    assert [r.occurrence for r in rows] == [f"cr{change_id}:v1@2026-11-27", f"cr{change_id}:v1@2026-11-30",
                                            f"cr{change_id}:v1@2026-12-01"]
    assert {(r.subject, r.state) for r in rows} == {(f"change:{change_id}:v1", "sent")}


def session_change_id(db, number: int) -> int:
    with db.read() as session:
        return session.scalar(select(ChangeRequest.id).where(ChangeRequest.number == number))


def test_other_states_are_never_reminded(project, db, clock):
    for n, state in enumerate(("submitted", "approved", "rejected", "in_progress", "done", "withdrawn"), 1):
        add_change(db, n, f"Change {n}", state, changed_at=TUESDAY, decided_by="U0CLIENT", decided_at=TUESDAY)
    for d in (27, 30):
        clock.set(day(11, d))
        assert tick_twice(project) == []


def test_without_an_approver_the_reminder_says_the_lead_must_name_one(app, db, clock):
    acme(app)
    app.command("schedule off")
    app.jobs.drain()
    app.fake.clear()
    add_change(db, 1, "Newsletter signup", "assessed", changed_at=TUESDAY)
    clock.set(day(11, 27))
    [reminder] = tick_twice(app)
    assert reminder["channel"] == "C0SHARED"
    text = shown(reminder)
    assert "the project lead must name an approver with `/project role @person client_approver`" in text
    assert "<@" not in text


def test_several_schedulers_and_a_restart_still_post_it_once(project, db, clock):
    add_change(db, 1, "Newsletter signup", "assessed", changed_at=TUESDAY)
    clock.set(day(11, 27))
    reports = ticks_at_once(project, db, clock)
    assert sum(r.sent for r in reports) == 1
    restarted = build_runtime(project.rt.settings, db=db, clock=clock)  # a new process, the same database
    assert service.tick(restarted).sent == 0
    clock.set(day(11, 27, 14, 0))  # later that day, within the grace period
    assert service.tick(restarted).sent == 0 and service.tick(project.rt).sent == 0
    assert len(change_posts(project.fake)) == 1
    assert count(db, Delivery, Delivery.kind == KIND) == 1


def test_reminders_stop_once_decided_and_a_new_assessment_starts_the_count_afresh(project, db, clock):
    decided = add_change(db, 1, "Newsletter signup", "assessed", changed_at=TUESDAY)
    reassessed = add_change(db, 2, "Dark mode", "assessed", changed_at=TUESDAY, days=3, cost_cents=100_000)
    clock.set(day(11, 27))
    assert sorted(a["text"][:4] for a in tick_twice(project)) == ["CR-1", "CR-2"]

    with db.transaction() as session:
        session.execute(update(ChangeRequest).where(ChangeRequest.id == decided).values(
            state="approved", changed_at=day(11, 27, 11), decided_by="U0CLIENT", decided_at=day(11, 27, 11),
            approved_version=1))
        session.execute(update(ChangeRequest).where(ChangeRequest.id == reassessed).values(
            version=2, days=4, changed_at=day(11, 27, 12), assessed_at=day(11, 27, 12)))
    seen = {}
    for month, d in ((11, 30), (12, 1), (12, 2), (12, 3)):
        clock.set(day(month, d))
        seen[d] = [a["text"][:4] for a in tick_twice(project)]
    # CR-1 is decided: never again. CR-2's new assessment (Friday) waits Monday, Tuesday, then Wednesday is its third.
    assert seen == {30: [], 1: [], 2: ["CR-2"], 3: ["CR-2"]}
    last = change_posts(project.fake)[-1]
    assert "+4 working days" in shown(last) and "awaiting a decision for 4 working days" in shown(last)
    with db.read() as session:
        subjects = set(session.scalars(select(Delivery.subject).where(Delivery.kind == KIND)))
    assert subjects == {f"change:{decided}:v1", f"change:{reassessed}:v1", f"change:{reassessed}:v2"}


def test_the_kind_is_registered():
    assert any(k.owns(KIND) for k in KINDS)


# -- the digest section ----------------------------------------------------------------------------------------------
def digest_posts(fake, channel: str) -> list[str]:
    """The digests posted to the channel, as readable text (mrkdwn, unescaped)."""
    return [shown(json.loads(p)) for p in posts(fake, channel) if "Digest" in p or "Project update" in p]


def test_both_digests_show_change_requests_without_notes_and_the_approved_impact(app, db, clock):
    acme(app)  # weekly digests on Monday at 09:00; due 2027-03-31
    with db.transaction() as session:
        session.execute(update(Project).where(Project.key == "acme").values(budget_cents=4_800_000,
                                                                            budget_currency="EUR"))
    clock.set(day(11, 25, 9, 0))
    assert "Digest posted to 2 channels" in app.command("digest").text  # the last digest: Wednesday 09:00
    app.jobs.drain()
    filed = day(11, 24, 12)
    add_change(db, 1, "Newsletter signup", "approved", created_at=filed, changed_at=day(11, 26, 15),
               decided_by="U0CLIENT", decided_at=day(11, 26, 15), notes="Secret margin note")
    add_change(db, 2, "Dark mode", "assessed", created_at=filed, changed_at=day(11, 25, 10), days=3,
               cost_cents=100_000, notes="A note the client may read", notes_internal=False)
    add_change(db, 3, "Chat widget", "rejected", created_at=filed, changed_at=day(11, 27, 10), decided_by="U0LEAD",
               decided_at=day(11, 27, 10), override=True)
    add_change(db, 4, "Extra language", "submitted", changed_at=day(11, 26, 10))
    add_change(db, 5, "Old idea", "rejected", created_at=filed, changed_at=day(11, 24, 15), decided_by="U0CLIENT",
               decided_at=day(11, 24, 15))  # decided before the last digest
    app.fake.clear()

    clock.set(datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC))
    service.tick(app.rt)
    [internal] = digest_posts(app.fake, "C0INTERNAL")
    [client] = digest_posts(app.fake, "C0SHARED")
    for text in (internal, client):
        assert "Change requests" in text and "quiet period" not in text
        assert "*New* (1)" in text and "*CR-4* Extra language — submitted" in text
        assert "*CR-2* Dark mode — waiting 3 working days · +3 working days, +1,000 EUR" in text
        assert "*Decided* (2)" in text
        assert "*CR-1* Newsletter signup — approved by <@U0CLIENT> · +5 working days, +2,400 EUR" in text
        assert "*CR-3* Chat widget — rejected by <@U0LEAD> on the client's behalf (override)" in text
        assert "CR-5" not in text and "Old idea" not in text
        assert "Approved changes so far* (1 change request)" in text
        assert "Budget: 48,000 EUR + 2,400 EUR approved (+5.0 %) = 50,400 EUR" in text
        assert "Due date: Wed 31 Mar 2027 + 5 working days approved → Wed 07 Apr 2027" in text
        # No notes at all, the client's or the team's, and no decision reasons.
        for secret in ("Secret margin note", "A note the client may read", "Margin is thin", "Lead's reason"):
            assert secret not in text
    assert "Awaiting the client's decision* (1)" in internal and "Awaiting your decision* (1)" in client

    # A week later nothing new was filed or decided: a quiet period, which still shows what awaits and the impact.
    app.fake.clear()
    clock.set(datetime(2026, 12, 7, 9, 0, 30, tzinfo=UTC))
    service.tick(app.rt)
    [client] = digest_posts(app.fake, "C0SHARED")
    assert "quiet period" in client and "*New*" not in client and "*Decided*" not in client
    assert "*CR-2* Dark mode — waiting 8 working days" in client
    assert "Budget: 48,000 EUR + 2,400 EUR approved (+5.0 %)" in client


def test_a_project_without_change_requests_shows_no_section(project, db, clock):
    reply = project.command("digest preview", channel="C0SHARED", user="U0CLIENT")
    assert "Project update" in reply.text and "Change requests" not in reply.text and "Approved" not in reply.text


def test_the_section_renders_nothing_when_empty_and_without_approved_impact():
    at = datetime(2026, 11, 30, 9, tzinfo=UTC)

    def render(section: Changes, audience: str = "client") -> str:
        return shown(digest_message(Digest(1, "acme", "Acme", None, "UTC", audience, None, None, at, at,
                                                sections=(section,))))

    baseline = Totals(4_800_000, "EUR", datetime(2027, 3, 31).date())
    assert "Change requests" not in render(Changes()) and "Change requests" not in render(Changes(totals=baseline))
    # Approved requests that add nothing: nothing to say either.
    assert "Change requests" not in render(Changes(totals=Totals(4_800_000, "EUR", None, (), 0, 2)))
    only_impact = render(Changes(totals=Totals(None, None, None, (("EUR", 50_000), ("USD", 20_000)), 2, 1)))
    assert "Approved changes so far* (1 change request)" in only_impact
    assert "Budget: _no baseline_ + 500 EUR + 200 USD approved" in only_impact
    assert "Due date: _no date_ + 2 working days approved" in only_impact
    mixed = render(Changes(totals=Totals(4_800_000, "EUR", None, (("EUR", 480_000), ("USD", 20_000)), 0, 2)))
    assert "48,000 EUR + 4,800 EUR + 200 USD approved (+10.0 % in EUR) = 52,800 EUR + 200 USD" in mixed
    awaiting = render(Changes(awaiting=(DigestChange(7, "Dark <!channel> mode", "assessed", 0, 0, "EUR", 0),)))
    assert "*CR-7* Dark" in awaiting and "assessed today · no schedule impact, no extra cost" in awaiting
    assert "<!channel>" not in awaiting


def test_the_section_takes_the_same_queries_for_one_project_or_many(project, db, clock):
    first = project_id(db)
    ids = [first]
    with db.transaction() as session:
        for n in range(3):
            p = Project(team_id="T0AGENCY", key=f"other-{n}", name=f"Other {n}", timezone="Europe/Paris",
                        created_by="U0LEAD", created_at=TUESDAY - timedelta(days=3), digest_schedule="off")
            session.add(p)
            session.flush()
            ids.append(p.id)
    for pid in ids:
        add_change(db, 1, "Newsletter signup", "approved", changed_at=TUESDAY, decided_by="U0CLIENT",
                   decided_at=TUESDAY, project=pid)
        add_change(db, 2, "Dark mode", "assessed", changed_at=TUESDAY, project=pid)
    provider = (SectionProvider((Changes,), collect_changes),)
    clock.set(day(11, 30))
    statements: list[str] = []

    def counted(project_ids: list[int]) -> dict:
        statements.clear()
        with db.read() as session:
            found = compose(session, project_ids, clock.now(), sections=provider)
        return {"statements": list(statements), "digests": found}

    me = threading.get_ident()  # the job runner shares the engine: its polling isn't ours

    def listener(conn, cursor, statement, *rest) -> None:
        if threading.get_ident() == me:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        one, many = counted([first]), counted(ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(one["statements"]) == len(many["statements"])
    for pid in ids:
        [changes] = [s for s in many["digests"][(pid, "client")].sections if isinstance(s, Changes)]
        assert [c.ref for c in changes.awaiting] == ["CR-2"] and changes.totals.approved_days == 5
