"""CSAT surveys through the real app: the lead sets when they go out (`/project survey`) or sends one now; the client
answers 1-5 with the buttons of its card in their shared channel (once per person, changeable) and may add a
comment; the card counts the answers and never says who gave what; a low score alerts the team once; the survey
closes after seven days and says so; scheduled surveys go out once per occurrence whatever the schedulers."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot import payloads
from bot.render.surveys import QUESTION
from bot.runtime import build_runtime
from bot.services import cards
from bot.services import surveys as service_surveys
from handlers import card_kinds
from scheduler import service
from scheduler.kinds import KINDS
from storage.models import (
    AuditEntry,
    Delivery,
    FollowUp,
    Job,
    Project,
    Survey,
    SurveyAnswer,
    Workspace,
)
from tests.conftest import START
from tests.helpers import acme, count, ticks_at_once


@pytest.fixture
def project(app):
    """acme with its digests off, so that a tick posts only surveys."""
    acme(app)
    app.command("schedule off")
    app.jobs.drain()
    app.fake.clear()
    return app


def shown(args) -> str:
    return json.dumps(args, ensure_ascii=False)


def survey_posts(app, channel: str | None = None) -> list:
    return [c for c in app.fake.calls_to("chat.postMessage")
            if not c.failed and c.args.get("text", "").startswith(QUESTION)
            and (channel is None or c.args["channel"] == channel)]


def latest(app, channel: str, ts: str) -> dict:
    """What a posted card shows now: its last chat.update, or the post itself."""
    updates = [c for c in app.fake.calls_to("chat.update") if (c.args["channel"], c.args["ts"]) == (channel, ts)]
    if updates:
        return updates[-1].args
    return next(c.args for c in app.fake.calls_to("chat.postMessage") if c.ts == ts)


def words(card: dict) -> str:
    """The card's words, without its buttons (whose values name the scores they give)."""
    return shown([card.get("text"), *[b for b in card.get("blocks", []) if b.get("type") != "actions"]])


def send_now(app) -> object:
    """`/project survey now` by the lead; the card posted in the client's channel."""
    assert "Survey sent" in app.command("survey now").text
    app.jobs.drain()
    [card] = survey_posts(app, "C0SHARED")
    return card


def only_survey(db) -> Survey:
    with db.read() as session:
        return session.scalars(select(Survey)).one()


def answers(db) -> list[tuple[str, int, str | None, bool]]:
    with db.read() as session:
        return [(a.user_id, a.score, a.comment, a.changed_at is not None)
                for a in session.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id))]


def views_opened(app) -> list[dict]:
    app.rt.outbox.drain()
    return [c.args["view"] for c in app.fake.calls_to("views.open")]


def schedule(db) -> str:
    with db.read() as session:
        return session.scalar(select(Project.survey_schedule).where(Project.key == "acme"))


def add_person(app, user_id: str, team_id: str, in_shared: bool = True) -> None:
    app.fake.world.add_user(id=user_id, name=user_id.lower(), team_id=team_id)
    if in_shared:
        app.fake.world.channels["C0SHARED"].members.append(user_id)


# -- the schedule ----------------------------------------------------------------------------------------------------
def test_the_lead_sets_when_surveys_go_out_and_sees_when_the_next_one_goes(project, db):
    assert "Surveys for `acme` are *off*" in project.command("survey").text
    reply = project.command("survey monthly")
    assert "now go out *monthly" in reply.text and "Next: Tue 01 Dec 2026 10:00 (Europe/London)" in reply.text
    assert schedule(db) == "monthly"
    with db.read() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "project.survey_schedule"))
    assert (entry.actor_id, entry.detail) == ("U0LEAD", {"before": "off", "after": "monthly"})
    # The team may look, only the lead may change it.
    assert "go out *monthly" in project.command("survey", user="U0TEAM").text
    refused = project.command("survey off", user="U0TEAM")
    assert "Only project leads" in refused.text and schedule(db) == "monthly"
    assert "Only project leads" in project.command("survey now", user="U0TEAM").text
    for bad in ("weekly", "monthly please", "every day", "0"):
        reply = project.command(f"survey {bad}")
        assert "say `monthly`, `after-milestone` or `off`" in reply.text, bad
    assert schedule(db) == "monthly"
    assert "Add" in project.command("add due=2026-12-04 Design sign-off", name="/milestone").text
    reply = project.command("survey after-milestone")
    assert "after each client-visible milestone" in reply.text
    assert "the working day after *Design sign-off* (due Fri 04 Dec) is done" in reply.text
    assert "now *off*" in project.command("survey off").text and schedule(db) == "off"
    with db.read() as session:
        assert session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "project.survey_schedule")
                              .order_by(AuditEntry.id.desc()).limit(1)) == {"before": "after-milestone",
                                                                           "after": "off"}


def test_the_dates_a_schedule_gives():
    assert service_surveys.first_working_day(2027, 5) == date(2027, 5, 3)  # 1 May 2027 is a Saturday
    assert service_surveys.first_working_day(2026, 12) == date(2026, 12, 1)
    at = service_surveys.monthly_at(datetime(2026, 7, 20, 12, tzinfo=UTC), "Europe/London")
    assert at.astimezone(UTC) == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # 10:00 summer time
    friday = datetime(2026, 12, 4, 15, tzinfo=UTC)
    assert service_surveys.after_milestone_at(friday, "Europe/London").date() == date(2026, 12, 7)
    late_friday_in_la = datetime(2026, 12, 5, 5, tzinfo=UTC)  # still Friday evening in Los Angeles
    assert service_surveys.after_milestone_at(late_friday_in_la, "America/Los_Angeles").date() == date(2026, 12, 7)


# -- answering -------------------------------------------------------------------------------------------------------
def test_a_survey_sent_now_is_answered_changed_commented_and_counted_anonymously(project, db):
    card = send_now(project)
    assert survey_posts(project, "C0INTERNAL") == []  # the client's question, in the client's channel only
    survey = only_survey(db)
    assert survey.occurrence.startswith("now:") and survey.opened_by == "U0LEAD"
    assert survey.closes_at - survey.opened_at == timedelta(days=7) and survey.channel_id == "C0SHARED"
    assert [(b["text"]["text"], b["value"]) for b in payloads.buttons(card.args)] == [
        (str(n), f"{survey.id}:{n}") for n in range(1, 6)]
    assert "No answers yet" in words(card.args)
    with db.read() as session:
        assert cards.posted(session, "survey", survey.id) == [("C0SHARED", card.ts)]

    answer = project.press(card, "4", user="U0CLIENT")
    assert "Thank you! You gave *4*" in answer.text and answer.json["replace_original"] is False
    assert answers(db) == [("U0CLIENT", 4, None, False)]
    [form] = views_opened(project)
    assert "You gave *4*" in shown(form)
    project.jobs.drain()
    assert "1 answer so far" in words(latest(project, "C0SHARED", card.ts))

    # Pressing again changes the answer: still one per person, and the count stays.
    updates = len(project.fake.calls_to("chat.update"))
    changed = project.press(card, "5", user="U0CLIENT")
    assert "Changed your answer from 4 to *5*" in changed.text
    assert answers(db) == [("U0CLIENT", 5, None, True)]
    project.jobs.drain()
    assert len(project.fake.calls_to("chat.update")) == updates

    # The comment goes with the answer, when the form is sent.
    accepted = project.submit(form, {"comment": "Great work on the homepage"}, user="U0CLIENT")
    assert accepted.status == 200 and accepted.body == ""
    assert answers(db) == [("U0CLIENT", 5, "Great work on the homepage", True)]

    # A second person of the client's: two answers, and the card never says who gave which score.
    add_person(project, "U0DANA", "T0CLIENT")
    assert "You gave *3*" in project.press(card, "3", user="U0DANA").text
    project.jobs.drain()
    now_shows = words(latest(project, "C0SHARED", card.ts))
    assert "2 answers so far" in now_shows
    for secret in ("U0CLIENT", "U0DANA", "casey", "homepage", "average", "You gave", "*3*", "*5*"):
        assert secret not in now_shows, secret
    for update_call in project.fake.calls_to("chat.update"):
        assert "U0CLIENT" not in shown(update_call.args) and "homepage" not in shown(update_call.args)


def test_a_comment_over_3000_characters_is_refused_beside_the_field(project, db):
    card = send_now(project)
    project.press(card, "4", user="U0CLIENT")
    [form] = views_opened(project)
    refused = project.submit(form, {"comment": "x" * 10_000}, user="U0CLIENT")
    assert refused.json["response_action"] == "errors"
    assert "10,000 characters" in refused.json["errors"]["comment"]
    assert answers(db) == [("U0CLIENT", 4, None, False)]
    ok = project.submit(form, {"comment": "y" * 3000}, user="U0CLIENT")
    assert ok.body == "" and answers(db)[0][2] == "y" * 3000


def test_a_low_score_alerts_the_team_once_and_a_changed_answer_never_twice(project, db):
    card = send_now(project)
    project.press(card, "1", user="U0CLIENT")
    with db.read() as session:
        [follow_up] = session.scalars(select(FollowUp)).all()
        answer_id = session.scalar(select(SurveyAnswer.id))
    assert (follow_up.source, follow_up.record_id, follow_up.owner_id) == ("survey", answer_id, "U0LEAD")
    with db.read() as session:
        alerts = [j.args for j in session.scalars(select(Job).where(Job.kind == "card.post"))
                  if j.args["kind"] == "followup"]
    assert alerts == [{"kind": "followup", "record_id": follow_up.id, "channel_id": "C0INTERNAL",
                       "audience": "internal"}]
    for score in ("2", "5", "1"):
        project.press(card, score, user="U0CLIENT")
    add_person(project, "U0DREW", "T0CLIENT")  # (each test its own people: the app remembers whom it saw)
    project.press(card, "4", user="U0DREW")
    assert count(db, FollowUp) == 1
    project.jobs.drain()
    if "followup" in {k.name for k in card_kinds()}:  # the alert's card (handlers.feedback renders it)
        [alert] = [c for c in project.fake.calls_to("chat.postMessage")
                   if c.args["channel"] == "C0INTERNAL" and not c.failed]
        assert "U0CLIENT" not in shown(alert.args)
        assert [c for c in project.fake.calls_to("chat.postMessage") if c.args["channel"] == "C0SHARED"] == [card]


def test_an_answer_that_turns_low_again_after_its_follow_up_was_resolved_opens_it_again(project, db):
    card = send_now(project)
    project.press(card, "1", user="U0CLIENT")
    with db.read() as session:
        [open_one] = session.scalars(select(FollowUp)).all()
    project.command(f"resolve F-{open_one.id} Called them", name="/feedback")
    with db.read() as session:
        [follow_up] = session.scalars(select(FollowUp)).all()
    assert follow_up.resolved_at is not None
    project.press(card, "5", user="U0CLIENT")  # happier: stays resolved
    with db.read() as session:
        assert session.scalars(select(FollowUp)).one().resolved_at is not None
    project.press(card, "2", user="U0CLIENT")  # unhappy again: the same alert is open again
    with db.read() as session:
        again = session.scalars(select(FollowUp)).one()
        reopened = session.scalar(select(func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.action == "followup.reopen"))
    assert (again.id, again.resolved_at, again.resolution, reopened) == (follow_up.id, None, None, 1)


# -- who may answer --------------------------------------------------------------------------------------------------
def test_the_team_and_people_on_no_team_are_refused_and_nothing_is_stored(project, db):
    card = send_now(project)
    for user in ("U0LEAD", "U0TEAM"):
        refused = project.press(card, "5", user=user)
        assert "the team's answers don't count" in refused.text and "nothing was stored" in refused.text
    refused = project.press(card, "5", user="U0OTHER")  # our organisation, on no team of acme
    assert "not on the team of `acme`" in refused.text
    assert answers(db) == [] and views_opened(project) == []


def test_only_the_clients_organisation_answers_once_anyone_of_it_is_named(project, db):
    card = send_now(project)
    add_person(project, "U0VENDOR", "T0VENDOR")  # a third organisation in the shared channel
    # Nobody named yet: anyone from another organisation in the client's channel is the client.
    assert "You gave *2*" in project.press(card, "2", user="U0VENDOR").text
    assert "client approver" in project.command("role <@U0CLIENT> client_approver").text
    refused = project.press(card, "1", user="U0VENDOR")
    assert "for the client's organisation" in refused.text and "<@U0LEAD>" in refused.text
    assert answers(db) == [("U0VENDOR", 2, None, False)]  # the earlier answer stays; this press changed nothing
    add_person(project, "U0ROBIN", "T0CLIENT")  # of the named approver's organisation, with no role of their own
    assert "You gave *4*" in project.press(card, "4", user="U0ROBIN").text
    add_person(project, "U0GUEST", "T0AGENCY")  # the client's person as a guest of ours, named a client
    assert "client" in project.command("role <@U0GUEST> client").text
    assert "You gave *5*" in project.press(card, "5", user="U0GUEST").text
    assert [a[:2] for a in answers(db)] == [("U0VENDOR", 2), ("U0ROBIN", 4), ("U0GUEST", 5)]


def test_forged_values_change_nothing(project, db):
    send_now(project)
    survey = only_survey(db)
    for value in (f"{survey.id}:0", f"{survey.id}:6", f"{survey.id}:abc", f"{survey.id}", f"{survey.id}:",
                  f"{survey.id}:4:4", "abc", "", f"{survey.id + 1}:4", f"{'9' * 40}:4", f"{survey.id}:-1"):
        refused = project.press_value("survey.score.4", value, user="U0CLIENT", channel="C0SHARED",
                                      user_team="T0CLIENT")
        assert "nothing was stored" in refused.text, value
    # A survey of another project, named from the client's channel of acme.
    assert "Created" in project.command("create key=side Side project", user="U0OTHER", channel="C0GENERAL").text
    project.jobs.drain()
    with db.transaction() as session:
        side = session.scalar(select(Project.id).where(Project.key == "side"))
        theirs = Survey(project_id=side, occurrence="now:theirs", channel_id="C0ELSEWHERE", opened_at=START,
                        closes_at=START + timedelta(days=7))
        session.add(theirs)
        session.flush()
        theirs_id = theirs.id
    refused = project.press_value("survey.score.4", f"{theirs_id}:4", user="U0CLIENT", channel="C0SHARED",
                                  user_team="T0CLIENT")
    assert "There is no project `side`" in refused.text
    # The comment form, its metadata made to name that survey.
    forged = {"type": "modal", "callback_id": "survey-comment",
              "private_metadata": json.dumps({"channel_id": "C0SHARED", "project": "acme", "survey": theirs_id}),
              "blocks": [{"type": "input", "block_id": "comment",
                          "element": {"type": "plain_text_input", "action_id": "value"}}]}
    refused_form = project.submit(forged, {"comment": "sneaky"}, user="U0CLIENT")
    assert "isn't one of this project's" in refused_form.json["errors"]["comment"]
    # acme's survey, now in a project of another workspace.
    with db.transaction() as session:
        session.add(Workspace(team_id="T0ELSEWHERE", name="Elsewhere", created_at=START))
        session.flush()
        session.execute(update(Project).where(Project.key == "acme").values(team_id="T0ELSEWHERE"))
    refused = project.press_value("survey.score.4", f"{survey.id}:4", user="U0CLIENT", channel="C0SHARED",
                                  user_team="T0CLIENT")
    assert "can't find" in refused.text
    assert answers(db) == [] and views_opened(project) == []


# -- closing ---------------------------------------------------------------------------------------------------------
def test_a_survey_closes_after_seven_days_says_so_and_refuses_later_presses(project, db, clock):
    card = send_now(project)
    project.press(card, "4", user="U0CLIENT")
    [form] = views_opened(project)
    project.jobs.drain()
    clock.set(START + timedelta(days=6, hours=23))
    service.tick(project.rt)
    assert only_survey(db).closed_at is None
    clock.set(START + timedelta(days=7, minutes=1))
    with db.read() as session:
        refreshes_before = session.scalar(select(Job.id).order_by(Job.id.desc()).limit(1))
    ticks_at_once(project, db, clock)
    service.tick(project.rt)
    assert only_survey(db).closed_at == START + timedelta(days=7, minutes=1)
    with db.read() as session:
        closing = [j.args for j in session.scalars(select(Job).where(Job.id > refreshes_before))
                   if j.kind == "card.refresh"]
    assert closing == [{"kind": "survey", "record_id": only_survey(db).id}]  # by one of the four schedulers
    project.jobs.drain()
    closed = latest(project, "C0SHARED", card.ts)
    assert payloads.buttons(closed) == []
    assert "This survey closed on Tue 01 Dec with 1 answer" in words(closed) and "(closed)" in closed["text"]
    late = project.press(card, "2", user="U0CLIENT")
    assert "This survey closed on Tue 01 Dec 2026" in late.text
    refused = project.submit(form, {"comment": "Late words"}, user="U0CLIENT")
    assert "closed on Tue 01 Dec 2026" in refused.json["errors"]["comment"]
    assert answers(db) == [("U0CLIENT", 4, None, False)] and count(db, FollowUp) == 0


# -- the scheduler ---------------------------------------------------------------------------------------------------
def deliveries(db) -> list[tuple[str, str, str, str]]:
    with db.read() as session:
        return [(d.kind, d.occurrence, d.channel_id, d.state) for d in session.scalars(
            select(Delivery).where(Delivery.kind.like("survey.%")).order_by(Delivery.id))]


def test_monthly_surveys_go_out_once_on_the_first_working_day_whatever_the_schedulers(project, db, clock):
    assert "monthly" in project.command("survey monthly").text
    clock.set(datetime(2026, 12, 1, 9, 59, tzinfo=UTC))  # London is on UTC in winter
    service.tick(project.rt)
    assert survey_posts(project) == []
    clock.set(datetime(2026, 12, 1, 10, 0, 30, tzinfo=UTC))
    ticks_at_once(project, db, clock)
    service.tick(project.rt)
    restarted = build_runtime(project.rt.settings, db=db, clock=clock)  # a new process, the same database
    service.tick(restarted)
    clock.set(datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
    service.tick(restarted)
    [card] = survey_posts(project)
    assert card.args["channel"] == "C0SHARED"
    assert deliveries(db) == [("survey.monthly", "monthly:2026-12", "C0SHARED", "sent")]
    survey = only_survey(db)
    assert (survey.occurrence, survey.opened_by) == ("monthly:2026-12", None)
    with db.read() as session:
        assert cards.posted(session, "survey", survey.id) == [("C0SHARED", card.ts)]
    # The scheduled card is a living one: an answer changes its count in place.
    project.press(card, "5", user="U0CLIENT")
    project.jobs.drain()
    assert "1 answer so far" in words(latest(project, "C0SHARED", card.ts))

    # January: closed in between (with its card), then the next month's on Friday 1 January.
    clock.set(datetime(2027, 1, 1, 10, 5, tzinfo=UTC))
    service.tick(project.rt)
    project.jobs.drain()
    assert "closed on" in words(latest(project, "C0SHARED", card.ts))
    assert [d[1] for d in deliveries(db)] == ["monthly:2026-12", "monthly:2027-01"]
    assert len(survey_posts(project)) == 2


def test_turning_surveys_on_never_sends_one_that_was_due_before(project, db, clock):
    clock.set(datetime(2026, 12, 1, 11, 0, tzinfo=UTC))  # an hour after this month's survey was due
    reply = project.command("survey monthly")
    assert "Next: Fri 01 Jan 2027 10:00" in reply.text
    service.tick(project.rt)
    assert survey_posts(project) == [] and deliveries(db) == []


def test_after_milestone_surveys_follow_each_client_visible_milestone_once(project, db, clock):
    assert "after each" in project.command("survey after-milestone").text
    project.command("add due=2026-12-04 Design sign-off", name="/milestone")
    project.command("add due=2026-12-04 internal=yes Internal QA", name="/milestone")
    project.command("add due=2026-12-11 Launch", name="/milestone")
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))  # Friday
    for name in ("Design sign-off", "Internal QA"):
        assert "done" in project.command(f"done {name}", name="/milestone").text
    project.jobs.drain()
    project.fake.clear()
    for at in (datetime(2026, 11, 28, 10, 5, tzinfo=UTC), datetime(2026, 11, 30, 9, 59, tzinfo=UTC)):
        clock.set(at)  # not at the weekend, nor before 10:00 on Monday
        service.tick(project.rt)
    assert survey_posts(project) == []
    clock.set(datetime(2026, 11, 30, 10, 0, 30, tzinfo=UTC))
    ticks_at_once(project, db, clock)
    service.tick(build_runtime(project.rt.settings, db=db, clock=clock))
    with db.read() as session:
        design = session.scalar(select(Survey.occurrence))
    assert len(survey_posts(project, "C0SHARED")) == 1
    assert design == "milestone-day:2026-11-27"
    assert deliveries(db) == [("survey.milestone", design, "C0SHARED", "sent")]
    assert survey_posts(project, "C0INTERNAL") == []
    # The next milestone done on Monday: its own survey on Tuesday, and only that one.
    clock.set(datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
    project.command("done Launch", name="/milestone")
    clock.set(datetime(2026, 12, 1, 10, 1, tzinfo=UTC))
    service.tick(project.rt)
    service.tick(project.rt)
    assert [d[1] for d in deliveries(db)] == [design, "milestone-day:2026-11-30"]
    assert len(survey_posts(project, "C0SHARED")) == 2 and count(db, Survey) == 2


def test_milestones_done_on_the_same_day_give_one_survey_the_next_working_day(project, db, clock):
    project.command("survey after-milestone")
    for name in ("Design", "Copy", "Staging"):
        project.command(f"add due=2026-12-04 {name}", name="/milestone")
    for hour, name in ((9, "Design"), (13, "Copy"), (23, "Staging")):  # Friday in London
        clock.set(datetime(2026, 11, 27, hour, 30, tzinfo=UTC))
        assert "done" in project.command(f"done {name}", name="/milestone").text
    project.jobs.drain()
    project.fake.clear()
    clock.set(datetime(2026, 11, 30, 10, 0, 30, tzinfo=UTC))  # Monday 10:00
    ticks_at_once(project, db, clock)
    service.tick(project.rt)
    project.jobs.drain()
    assert len(survey_posts(project, "C0SHARED")) == 1 and survey_posts(project, "C0INTERNAL") == []
    assert count(db, Survey) == 1
    assert deliveries(db) == [("survey.milestone", "milestone-day:2026-11-27", "C0SHARED", "sent")]


def test_the_kind_is_registered():
    assert any(k.owns("survey.monthly") and k.owns("survey.milestone") for k in KINDS)
