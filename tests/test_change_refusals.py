"""Change requests: bad input and attempts to do what one may not, through signed requests against the real app.

Each refusal is checked twice: the person is told, in a sentence only they see (a command's ephemeral ack, or a
button's response_url answer that doesn't replace the card), and nothing was stored or changed: the requests, their
state and assessment, the milestones' due dates and the audit log are exactly as before.
"""
from __future__ import annotations

import html
import json
import re
import threading
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import or_, select, update

from bot import payloads
from storage.models import AuditEntry, ChangeRequest, Milestone, Project, Workspace
from tests.conftest import TEAM
from tests.helpers import count, mention, said

TITLE = "Add a newsletter signup"


# -- what is stored --------------------------------------------------------------------------------------------------
def snapshot(db) -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    with db.read() as s:
        requests = [tuple(r) for r in s.execute(select(
            ChangeRequest.id, ChangeRequest.project_id, ChangeRequest.number, ChangeRequest.title,
            ChangeRequest.priority, ChangeRequest.requested_by, ChangeRequest.state, ChangeRequest.version,
            ChangeRequest.days, ChangeRequest.cost_cents, ChangeRequest.currency, ChangeRequest.notes,
            ChangeRequest.milestone_ids, ChangeRequest.decided_by, ChangeRequest.decision_note,
            ChangeRequest.override, ChangeRequest.approved_version, ChangeRequest.moved, ChangeRequest.changed_at,
        ).order_by(ChangeRequest.id))]
        milestones = [tuple(m) for m in s.execute(select(Milestone.id, Milestone.due_date, Milestone.done_at)
                                                  .order_by(Milestone.id))]
        audit = [tuple(a) for a in s.execute(
            select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.target)
            .where(or_(AuditEntry.action.like("change.%"), AuditEntry.action == "milestone.move"))
            .order_by(AuditEntry.id))]
        filed = [tuple(p) for p in s.execute(select(Project.key, Project.changes_filed).order_by(Project.id))]
    return {"requests": requests, "milestones": milestones, "audit": audit, "filed": filed}


def cr(db, number: int = 1, key: str = "acme") -> ChangeRequest:
    with db.read() as s:
        return s.scalar(select(ChangeRequest).join(Project, Project.id == ChangeRequest.project_id)
                        .where(Project.key == key, ChangeRequest.number == number))


def audits(db, action: str) -> list[tuple[str, str]]:
    with db.read() as s:
        return [tuple(a) for a in s.execute(select(AuditEntry.actor_id, AuditEntry.target)
                                            .where(AuditEntry.action == action).order_by(AuditEntry.id))]


def due_dates(db) -> dict[int, Any]:
    with db.read() as s:
        return dict(s.execute(select(Milestone.id, Milestone.due_date)).all())


# -- what the person is told -----------------------------------------------------------------------------------------
def refused_command(reply, *says: str) -> str:
    assert reply.status == 200, reply
    assert reply.json.get("response_type") == "ephemeral", reply.body
    text = said(reply)
    assert "⚠️" in reply.json.get("text", ""), text  # told as a problem, not as a success
    for words in says:
        assert words in text, (words, text)
    return text


def refused_press(reply, *says: str) -> str:
    assert reply.json.get("response_type") == "ephemeral", reply.body
    assert reply.json.get("replace_original") is False, reply.body  # said beside the card, never instead of it
    text = said(reply)
    assert "⚠️" in reply.json.get("text", ""), text
    for words in says:
        assert words in text, (words, text)
    return text


# -- getting a request where a test wants it -------------------------------------------------------------------------
def file(app, title: str = TITLE, *, user: str = "U0LEAD", channel: str = "C0INTERNAL") -> None:
    reply = app.command(title, name="/change", user=user, channel=channel)
    assert "Filed CR-" in reply.text, reply.text
    app.jobs.drain()


def assess(app, ref: str = "CR-1", options: str = "days=2 cost=3000 currency=EUR", notes: str = "New form") -> None:
    reply = app.command(f"assess {ref} {options} {notes}", name="/change")
    assert f"Assessed {ref}" in reply.text, reply.text
    app.jobs.drain()


def approve_for_client(app, ref: str = "CR-1") -> None:
    reply = app.command(f"approve {ref} override=yes Dana approved it by phone", name="/change")
    assert f"Approved {ref} on the client's behalf" in reply.text, reply.text
    app.jobs.drain()


def run(app, verb: str, ref: str = "CR-1") -> None:
    reply = app.command(f"{verb} {ref}", name="/change")
    assert reply.json.get("response_type") == "ephemeral" and "⚠️" not in reply.text, reply.text
    app.jobs.drain()


def approver(app, user: str = "U0CLIENT") -> None:
    reply = app.command(f"role <@{user}> client_approver")
    assert "is now client approver" in reply.text, reply.text
    app.jobs.drain()


def outsider(app, user: str = "U0DANA", team: str = "T0CLIENT", channel: str = "C0SHARED") -> str:
    """Someone of another organisation, in the shared channel."""
    app.fake.world.add_user(id=user, name=user.lower(), real_name=user, team_id=team)
    app.fake.world.channels[channel].members.append(user)
    return user


def milestone(app, name: str = "Design sign-off", due: str = "2026-12-15", *, user: str = "U0LEAD",
              channel: str = "C0INTERNAL") -> int:
    reply = app.command(f"add due={due} {name}", name="/milestone", user=user, channel=channel)
    assert "Added" in reply.text, reply.text
    app.jobs.drain()
    with app.rt.db.read() as s:
        return s.scalar(select(Milestone.id).where(Milestone.name == name))


def side_project(app) -> None:
    """Pat's own project, `side`, in #general (Pat is on no team of acme)."""
    reply = app.command("create key=side Side project", user="U0OTHER", channel="C0GENERAL")
    assert "Created" in reply.text, reply.text
    app.jobs.drain()


def card(app, number: int = 1, channel: str = "C0SHARED") -> SimpleNamespace:
    """CR-<number>'s card in `channel` as it shows now: its post, with the blocks of its latest update."""
    app.jobs.drain()
    app.rt.outbox.drain()
    head = re.compile(rf"^CR-{number}: ")
    [posted] = [c for c in app.fake.calls_to("chat.postMessage")
                if not c.failed and c.args.get("channel") == channel and head.match(c.args.get("text", ""))]
    updates = [c for c in app.fake.calls_to("chat.update")
               if not c.failed and c.args.get("channel") == channel and c.args.get("ts") == posted.ts]
    shown = updates[-1].args if updates else posted.args
    return SimpleNamespace(args={**shown, "channel": channel}, ts=posted.ts)


def labels(message) -> list[str]:
    return [b["text"]["text"] for b in payloads.buttons(message.args)]


def views_opened(app) -> int:
    return len(app.fake.calls_to("views.open"))


# -- /change: filing -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, says", [
    ("priority=high", "Say what should change"),
    ("priority=high by=<@U0CLIENT>", "Say what should change"),
    ("priority=asap Add a newsletter signup", "`priority=asap` isn't a priority"),
    ("by=nobody Add a newsletter signup", "`by=nobody` should mention a person"),
    ("x" * 201, "The title is 201 characters long"),
    ("Add a newsletter signup " + "and more " * 25, "keep it to 200"),
])
def test_filing_bad_input_is_refused_and_nothing_is_filed(project, db, text, says):
    before = snapshot(db)
    refused_command(project.command(text, name="/change"), says)
    assert snapshot(db) == before
    assert count(db, ChangeRequest) == 0 and count(db, AuditEntry, AuditEntry.action.like("change.%")) == 0
    project.jobs.drain()
    assert not [c for c in project.fake.calls_to("chat.postMessage") if "CR-" in json.dumps(c.args)]


def test_a_title_of_exactly_200_characters_is_filed(project, db):
    """The other side of the limit, so the refusal above is the limit and not something else."""
    file(project, "y" * 200)
    assert count(db, ChangeRequest) == 1


# -- /change assess: bad numbers, money, milestones ------------------------------------------------------------------
BAD_ASSESSMENTS = [
    ("days=-2 cost=3000 currency=EUR", ["`days=-2` is negative"]),
    ("days=99999 cost=3000 currency=EUR", ["`days=99999`", "ten years"]),
    ("days=abc cost=3000 currency=EUR", ["`days=abc` must be a whole number"]),
    ("days=2.5 cost=3000 currency=EUR", ["`days=2.5` must be a whole number"]),
    ("days=2 cost=-5 currency=EUR", ["`cost=-5` is negative"]),
    ("days=2 cost=2000000000 currency=EUR", ["`cost=`", "1,000,000,000"]),
    ("days=2 cost=abc currency=EUR", ["`cost=abc` is not an amount"]),
    ("days=2 cost=3000 currency=EURO", ["`EURO` is not an ISO 4217 currency code"]),
    ("days=2 cost=3000 currency=XYZ", ["`XYZ` is not an ISO 4217 currency code"]),
    ("cost=3000 currency=EUR", ["Give the schedule impact in working days", "days="]),
    ("days=2 currency=EUR", ["Give the budget impact", "cost="]),
    ("days=2 cost=3000", ["Name the currency by its ISO 4217 code"]),
    ("days=2 cost=3000 currency=EUR milestones=abc", ["`milestones=abc` should list milestone numbers"]),
]


@pytest.mark.parametrize("options, says", BAD_ASSESSMENTS, ids=[o for o, _ in BAD_ASSESSMENTS])
def test_bad_assessment_is_refused_and_nothing_changes(project, db, options, says):
    """On a new request (CR-1, submitted) and on one assessed before (CR-2, whose assessment stays as it was)."""
    file(project)
    file(project, "Second change")
    assess(project, "CR-2", "days=1 cost=500 currency=EUR")
    before = snapshot(db)
    for ref in ("CR-1", "CR-2"):
        refused_command(project.command(f"assess {ref} {options} Scope notes", name="/change"), *says)
    assert snapshot(db) == before
    assert (cr(db, 1).state, cr(db, 1).version) == ("submitted", 0)
    assert (cr(db, 2).state, cr(db, 2).version, cr(db, 2).days, cr(db, 2).cost_cents) == ("assessed", 1, 1, 50000)


def test_the_same_assessment_well_formed_is_accepted(project, db):
    """The counterpart of the refusals: days, cost and currency as they should be are stored."""
    file(project)
    assess(project, "CR-1", "days=0 cost=1,000,000,000 currency=eur")
    row = cr(db)
    assert (row.state, row.days, row.cost_cents, row.currency) == ("assessed", 0, 100_000_000_000, "EUR")


def test_a_cost_in_another_currency_than_the_budget_is_refused(project, db):
    reply = project.command('edit budget="48000 EUR"')
    assert "⚠️" not in reply.text, reply.text
    project.jobs.drain()
    file(project)
    before = snapshot(db)
    reply = project.command("assess CR-1 days=2 cost=3000 currency=USD Scope", name="/change")
    refused_command(reply, "The budget of `acme` is in EUR; give the cost in EUR too")
    assert snapshot(db) == before


def test_assessing_with_another_projects_milestone_is_refused(project, db):
    own = milestone(project)
    side_project(project)
    theirs = milestone(project, "Side launch", user="U0OTHER", channel="C0GENERAL")
    file(project)
    before = snapshot(db)
    for named in (str(theirs), f"{own},{theirs}"):
        reply = project.command(f"assess CR-1 days=2 cost=0 currency=EUR milestones={named} Scope", name="/change")
        refused_command(reply, f"`acme` has no milestone #{theirs}")
    assert snapshot(db) == before
    assert cr(db).milestone_ids in ([], None)


def test_assessing_with_a_done_milestone_is_refused(project, db):
    done = milestone(project)
    assert "done" in project.command("done Design sign-off", name="/milestone").text
    project.jobs.drain()
    file(project)
    before = snapshot(db)
    reply = project.command(f"assess CR-1 days=2 cost=0 currency=EUR milestones={done} Scope", name="/change")
    refused_command(reply, f"Milestone #{done} is already done")
    assert snapshot(db) == before


def test_a_forged_assessment_form_naming_another_projects_milestone_is_refused(project, db):
    """The form only offers acme's open milestones; a submission naming Pat's is refused beside the field."""
    milestone(project)
    side_project(project)
    theirs = milestone(project, "Side launch", user="U0OTHER", channel="C0GENERAL")
    file(project)
    internal = card(project, 1, "C0INTERNAL")
    [assess_button] = [b for b in payloads.buttons(internal.args) if b["text"]["text"] == "Assess"]
    ack = project.send(payloads.block_actions("change.assess", assess_button["value"], user_id="U0LEAD",
                                              team_id=TEAM, channel_id="C0INTERNAL", message_ts=internal.ts,
                                              block_id=assess_button["block_id"]))
    assert ack.status == 200
    [opened] = project.fake.wait_for("views.open", timeout=10)
    view = opened.args["view"]
    [block] = [b for b in view["blocks"] if b.get("block_id") == "milestones"]
    block["element"]["options"].append({"text": {"type": "plain_text", "text": "Side launch"},
                                        "value": str(theirs)})
    before = snapshot(db)
    reply = project.submit(view, {"days": "2", "cost": "0", "currency": "EUR", "milestones": str(theirs)})
    assert reply.json.get("response_action") == "errors", reply.body
    assert f"`acme` has no milestone #{theirs}" in json.dumps(reply.json["errors"]), reply.body
    assert snapshot(db) == before


# -- who may assess, start, finish, withdraw -------------------------------------------------------------------------
@pytest.mark.parametrize("action, state, says", [
    ("change.assess", "submitted", "Clients can't assess change requests"),
    ("change.assess", "approved", "Clients can't assess change requests"),
    ("change.start", "approved", "Clients can't start change requests"),
    ("change.done", "in_progress", "Clients can't mark change requests done"),
    ("change.withdraw", "assessed", "Clients can't withdraw change requests"),
])
@pytest.mark.parametrize("is_approver", [False, True], ids=["client", "client_approver"])
def test_a_client_pressing_a_team_button_is_refused(project, db, action, state, says, is_approver):
    """The client's card has no such buttons; a forged press from the shared channel is refused."""
    if is_approver:
        approver(project)
    file(project)
    if state != "submitted":
        assess(project)
    if state in ("approved", "in_progress"):
        approve_for_client(project)
    if state == "in_progress":
        run(project, "start")
    assert cr(db).state == state
    shared = card(project)
    shown = labels(shared)
    assert not {"Assess", "Re-assess", "Start", "Done", "Withdraw"} & set(shown), shown
    before, forms = snapshot(db), views_opened(project)
    answer = project.press_value(action, str(cr(db).id), user="U0CLIENT", channel="C0SHARED", message_ts=shared.ts,
                                 user_team="T0CLIENT")
    refused_press(answer, says)
    assert snapshot(db) == before
    project.rt.outbox.drain()
    assert views_opened(project) == forms  # no assessment form was opened for the client


# -- who may approve -------------------------------------------------------------------------------------------------
def test_a_team_member_approving_without_override_is_told_about_override(project, db):
    approver(project)
    file(project)
    assess(project)
    before = snapshot(db)
    for user in ("U0TEAM", "U0LEAD"):  # the lead too: without override=yes the client decides
        reply = project.command("approve CR-1", name="/change", user=user)
        refused_command(reply, "The client decides on change requests, not the team", "Ask <@U0CLIENT> to decide",
                        "`/change approve CR-1 override=yes <why>`")
    reply = project.command("reject CR-1 Too dear", name="/change", user="U0TEAM")
    refused_command(reply, "The client decides", "`/change reject CR-1 override=yes <why>`")
    assert snapshot(db) == before and cr(db).state == "assessed"


def test_without_an_approver_the_team_is_told_to_name_one(project, db):
    file(project)
    assess(project)
    before = snapshot(db)
    refused_command(project.command("approve CR-1", name="/change", user="U0TEAM"),
                    "/project role @person client_approver", "override=yes")
    assert snapshot(db) == before


def test_a_team_member_pressing_approve_on_the_clients_card_is_refused(project, db):
    approver(project)
    file(project)
    assess(project)
    shared = card(project)
    before = snapshot(db)
    refused_press(project.press(shared, "Approve", user="U0TEAM"), "The client decides on change requests",
                  "override=yes")
    assert snapshot(db) == before


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_the_lead_overriding_without_a_reason_is_refused(project, db, verb):
    file(project)
    assess(project)
    before = snapshot(db)
    for text in (f"{verb} CR-1 override=yes", f"{verb} CR-1 override=yes   "):
        refused_command(project.command(text, name="/change"), "Say why",
                        f"`/change {verb} CR-1 override=yes <why the client isn't deciding>`")
    assert snapshot(db) == before and cr(db).state == "assessed"


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_a_team_member_overriding_is_refused(project, db, verb):
    approver(project)
    file(project)
    assess(project)
    before = snapshot(db)
    reply = project.command(f"{verb} CR-1 override=yes Dana said so on the phone", name="/change", user="U0TEAM")
    refused_command(reply, f"Only the project lead can {verb} on the client's behalf")
    assert snapshot(db) == before and cr(db).state == "assessed"


def test_override_must_be_yes_or_no(project, db):
    file(project)
    assess(project)
    before = snapshot(db)
    refused_command(project.command("approve CR-1 override=maybe Phone call", name="/change"), "override")
    assert snapshot(db) == before


def test_approving_a_request_with_no_assessment_says_what_is_missing(project, db):
    approver(project)
    file(project)
    before = snapshot(db)
    reply = project.command("approve CR-1 override=yes Dana approved it by phone", name="/change")
    refused_command(reply, "CR-1 has no assessment yet", "schedule impact (working days)",
                    "budget impact (cost and currency)", "/change assess CR-1")
    # The client approver with a forged Approve (the client's card shows none before an assessment).
    shared = card(project)
    assert "Approve" not in labels(shared)
    answer = project.press_value("change.approve", f"{cr(db).id}:0", user="U0CLIENT", channel="C0SHARED",
                                 message_ts=shared.ts, user_team="T0CLIENT")
    refused_press(answer, "CR-1 has no assessment yet", "schedule impact", "budget impact")
    assert snapshot(db) == before and cr(db).state == "submitted"


@pytest.mark.parametrize("who, team, role", [
    ("U0DANA", "T0CLIENT", None),  # the client's organisation, in the shared channel, not an approver
    ("U0DANA", "T0CLIENT", "client"),  # named a client, not a client approver
    ("U0VENDOR", "T0VENDOR", None),  # a third organisation in the shared channel
])
def test_someone_of_another_organisation_who_is_not_an_approver_cannot_approve(project, db, who, team, role):
    approver(project)
    outsider(project, who, team)
    if role:
        assert "is now client of" in project.command(f"role <@{who}> {role}").text
    file(project)
    assess(project)
    shared = card(project)
    before = snapshot(db)
    answer = project.press(shared, "Approve", user=who)
    refused_press(answer, "Only the client's approvers (<@U0CLIENT>) can approve change requests")
    answer = project.press(shared, "Reject", user=who)
    refused_press(answer, "Only the client's approvers (<@U0CLIENT>) can reject change requests")
    project.rt.outbox.drain()
    assert snapshot(db) == before and cr(db).state == "assessed"
    assert views_opened(project) == 0  # no rejection form was opened


def test_the_client_is_refused_until_named_approver(project, db):
    file(project)
    assess(project)
    shared = card(project)
    before = snapshot(db)
    refused_press(project.press(shared, "Approve", user="U0CLIENT"), "Only the client's approvers",
                  "none named yet")
    assert snapshot(db) == before
    approver(project)  # the same press now counts: the refusal was about the role
    assert "Approved CR-1" in project.press(card(project), "Approve", user="U0CLIENT").text
    assert cr(db).state == "approved"


# -- forged button values --------------------------------------------------------------------------------------------
MADE_UP = ["abc", "", "0", "-1", "999999999999999999999", "5:abc", "{id}:abc", "{id}:-1", "{id}:1:1", "{id}x",
           "{next}", "{next}:1"]


@pytest.mark.parametrize("action", ["change.approve", "change.reject", "change.start", "change.withdraw",
                                    "change.assess"])
def test_a_made_up_value_is_not_found(project, db, action):
    approver(project)
    file(project)
    assess(project)
    row = cr(db)
    before = snapshot(db)
    user, channel = ("U0CLIENT", "C0SHARED") if action in ("change.approve", "change.reject") else \
        ("U0LEAD", "C0INTERNAL")
    for made_up in MADE_UP:
        value = made_up.format(id=row.id, next=row.id + 1)
        answer = project.press_value(action, value, user=user, channel=channel)
        refused_press(answer, "That button names a change request I can't find, so nothing was changed")
    project.rt.outbox.drain()
    assert snapshot(db) == before and views_opened(project) == 0


def test_a_value_naming_another_projects_request_is_checked_against_that_project(project, db):
    """Pat leads `side`; buttons naming acme's requests, pressed in Pat's channel, are refused; the client's
    approver pressing a button that names Pat's request is refused too."""
    approver(project)
    side_project(project)
    file(project, "Their change", user="U0OTHER", channel="C0GENERAL")  # side's CR-1
    reply = project.command("assess CR-1 days=1 cost=100 currency=EUR Side scope", name="/change", user="U0OTHER",
                            channel="C0GENERAL")
    assert "Assessed CR-1" in reply.text, reply.text
    file(project)  # acme's CR-1
    assess(project)
    approve_for_client(project)
    ours, theirs = cr(db, 1, "acme"), cr(db, 1, "side")
    before = snapshot(db)
    for action in ("change.start", "change.withdraw", "change.assess"):
        answer = project.press_value(action, str(ours.id), user="U0OTHER", channel="C0GENERAL")
        refused_press(answer, "not on the team of `acme`")
        assert "Add a newsletter signup" not in said(answer)
    for action in ("change.approve", "change.reject"):
        answer = project.press_value(action, f"{theirs.id}:{theirs.version}", user="U0CLIENT", channel="C0SHARED",
                                     user_team="T0CLIENT")
        text = refused_press(answer, "There is no project `side`")
        assert "Their change" not in text
    project.rt.outbox.drain()
    assert snapshot(db) == before and views_opened(project) == 0
    assert (cr(db, 1, "acme").state, cr(db, 1, "side").state) == ("approved", "assessed")


def test_a_value_naming_a_request_of_another_workspace_is_not_found(project, db):
    approver(project)
    file(project)
    assess(project)
    file(project, "Second change")
    assess(project, "CR-2")
    approve_for_client(project, "CR-2")
    first, second = cr(db, 1), cr(db, 2)
    with db.transaction() as session:  # the same requests, now in a project of another workspace
        session.add(Workspace(team_id="T0ELSEWHERE", name="Elsewhere", created_at=datetime.now(UTC)))
        session.flush()
        session.execute(update(Project).where(Project.key == "acme").values(team_id="T0ELSEWHERE"))
    before = snapshot(db)
    refused_press(project.press_value("change.start", str(second.id)), "can't find")
    refused_press(project.press_value("change.approve", f"{first.id}:{first.version}", user="U0CLIENT",
                                      channel="C0SHARED", user_team="T0CLIENT"), "can't find")
    assert snapshot(db) == before


def test_a_stale_version_is_refused_after_a_reassessment(project, db):
    ms = milestone(project)
    approver(project)
    file(project)
    assess(project, options=f"days=2 cost=3000 currency=EUR milestones={ms}")
    old = card(project)  # shows the first assessment: Approve carries "<id>:1"
    assert [b["value"] for b in payloads.buttons(old.args)] == [f"{cr(db).id}:1"] * 2
    assess(project, options=f"days=9 cost=9000 currency=EUR milestones={ms}")
    before, dues = snapshot(db), due_dates(db)
    answer = project.press(old, "Approve", user="U0CLIENT")
    refused_press(answer, "The assessment of CR-1 changed after that card was shown, so nothing was decided")
    answer = project.press(old, "Reject", user="U0CLIENT")
    refused_press(answer, "The assessment of CR-1 changed after that card was shown")
    project.rt.outbox.drain()
    assert snapshot(db) == before and due_dates(db) == dues and views_opened(project) == 0
    assert (cr(db).state, cr(db).version, cr(db).approved_version) == ("assessed", 2, None)
    assert "Approved CR-1" in project.press(card(project), "Approve", user="U0CLIENT").text  # the current card does


def test_a_stale_version_is_refused_after_an_approval_was_voided(project, db):
    """Approved at version 1, re-assessed (the approval no longer holds): the old Approve can't bring it back."""
    approver(project)
    file(project)
    assess(project)
    old = card(project)
    assert "Approved CR-1" in project.press(old, "Approve", user="U0CLIENT").text
    assess(project, options="days=5 cost=6000 currency=EUR")
    assert (cr(db).state, cr(db).version) == ("assessed", 2)
    before = snapshot(db)
    refused_press(project.press(old, "Approve", user="U0CLIENT"), "changed after that card was shown")
    assert snapshot(db) == before and cr(db).decided_by is None


# -- twice, or at the same time --------------------------------------------------------------------------------------
def test_pressing_approve_twice_approves_once_and_says_by_whom(project, db):
    ms = milestone(project)
    approver(project)
    approver(project, outsider(project))
    file(project)
    assess(project, options=f"days=2 cost=3000 currency=EUR milestones={ms}")
    shared = card(project)
    dues = due_dates(db)
    assert "Approved CR-1" in project.press(shared, "Approve", user="U0CLIENT").text
    moved = due_dates(db)
    assert moved[ms] > dues[ms]
    after = snapshot(db)
    for who in ("U0CLIENT", "U0DANA"):
        refused_press(project.press(shared, "Approve", user=who), "CR-1 was already approved by <@U0CLIENT>")
        refused_press(project.press(shared, "Reject", user=who), "already approved by <@U0CLIENT>")
    project.rt.outbox.drain()
    assert snapshot(db) == after and due_dates(db) == moved  # moved once, not twice
    assert audits(db, "change.approve") == [("U0CLIENT", f"change:{cr(db).id}")]
    assert len(audits(db, "milestone.move")) == 1 and views_opened(project) == 0


def _at_once(*calls) -> list[Any]:
    answers: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def go(i: int) -> None:
        barrier.wait()
        answers[i] = calls[i]()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return answers


def test_the_leads_approve_and_reject_at_once_exactly_one_wins(project, db):
    """Three requests, each raced (so both outcomes are likely to be seen)."""
    rounds = 3
    ms = milestone(project)
    for n in range(1, rounds + 1):
        file(project, f"Change {n}")
        assess(project, f"CR-{n}", f"days=1 cost=100 currency=EUR milestones={ms}")
    dues = due_dates(db)
    for n in range(1, rounds + 1):
        approve, reject = _at_once(
            lambda n=n: project.command(f"approve CR-{n} override=yes x", name="/change"),
            lambda n=n: project.command(f"reject CR-{n} override=yes y", name="/change"))
        state = cr(db, n).state
        assert state in ("approved", "rejected")
        won, lost = (approve, reject) if state == "approved" else (reject, approve)
        verb = "Approved" if state == "approved" else "Rejected"
        assert f"{verb} CR-{n} on the client's behalf" in said(won), said(won)
        refused_command(lost, f"CR-{n} was already {state} by <@U0LEAD>")
        row_id = cr(db, n).id
        decisions = [a for a in audits(db, "change.approve") + audits(db, "change.reject")
                     if a[1] == f"change:{row_id}"]
        assert decisions == [("U0LEAD", f"change:{row_id}")]
        assert cr(db, n).decision_note == ("x" if state == "approved" else "y")
    approvals = [n for n in range(1, rounds + 1) if cr(db, n).state == "approved"]
    # Each approval moved the milestone by its one working day, once.
    assert len(audits(db, "milestone.move")) == len(approvals)
    if not approvals:
        assert due_dates(db) == dues


def test_two_approvers_pressing_approve_at_once_approve_once(project, db):
    ms = milestone(project)
    approver(project)
    approver(project, outsider(project))
    file(project)
    assess(project, options=f"days=2 cost=3000 currency=EUR milestones={ms}")
    shared = card(project)
    first, second = _at_once(lambda: project.press(shared, "Approve", user="U0CLIENT"),
                             lambda: project.press(shared, "Approve", user="U0DANA"))
    row = cr(db)
    assert row.state == "approved" and row.decided_by in ("U0CLIENT", "U0DANA")
    won, lost = (first, second) if row.decided_by == "U0CLIENT" else (second, first)
    assert "Approved CR-1" in said(won), said(won)
    refused_press(lost, f"CR-1 was already approved by <@{row.decided_by}>")
    assert audits(db, "change.approve") == [(row.decided_by, f"change:{row.id}")]
    assert len(audits(db, "milestone.move")) == 1


def test_an_approver_and_the_leads_override_reject_at_once_one_wins(project, db):
    approver(project)
    file(project)
    assess(project)
    shared = card(project)
    press, reject = _at_once(lambda: project.press(shared, "Approve", user="U0CLIENT"),
                             lambda: project.command("reject CR-1 override=yes Out of budget", name="/change"))
    row = cr(db)
    assert row.state in ("approved", "rejected")
    if row.state == "approved":
        assert "Approved CR-1" in said(press)
        refused_command(reject, "CR-1 was already approved by <@U0CLIENT>")
    else:
        assert "Rejected CR-1 on the client's behalf" in said(reject)
        refused_press(press, "CR-1 was already rejected by <@U0LEAD>")
    assert len(audits(db, "change.approve") + audits(db, "change.reject")) == 1


# -- moves that aren't possible from where it is ---------------------------------------------------------------------
@pytest.mark.parametrize("verb, state, says", [
    ("start", "submitted", "CR-1 is *submitted*, so it can't be started; from here the team can assess it"),
    ("start", "assessed", "CR-1 is *assessed*, so it can't be started; from here the client can approve"),
    ("done", "approved", "CR-1 is *approved*, so it can't be marked done; from here the team can start it"),
    ("done", "submitted", "CR-1 is *submitted*, so it can't be marked done"),
    ("withdraw", "done", "CR-1 is *done*, so it can't be withdrawn; from here nothing more happens to it"),
    ("withdraw", "rejected", "CR-1 is *rejected*, so it can't be withdrawn; from here nothing more happens"),
    ("assess", "done", "CR-1 is *done*, so it can't be assessed"),
    ("assess", "in_progress", "CR-1 is *in progress*, so it can't be assessed; from here the team can mark it done"),
])
def test_an_illegal_move_names_the_state_and_what_is_possible(project, db, verb, state, says):
    file(project)
    if state != "submitted":
        assess(project)
    if state == "rejected":
        assert "Rejected CR-1" in project.command("reject CR-1 override=yes No budget", name="/change").text
    if state in ("approved", "in_progress", "done"):
        approve_for_client(project)
    if state in ("in_progress", "done"):
        run(project, "start")
    if state == "done":
        run(project, "done")
    assert cr(db).state == state
    before = snapshot(db)
    extra = " days=1 cost=1 currency=EUR Again" if verb == "assess" else ""
    refused_command(project.command(f"{verb} CR-1{extra}", name="/change"), says)
    assert snapshot(db) == before


@pytest.mark.parametrize("action, state, says", [
    ("change.start", "submitted", "CR-1 is *submitted*, so it can't be started"),
    ("change.done", "approved", "CR-1 is *approved*, so it can't be marked done"),
    ("change.withdraw", "done", "CR-1 is *done*, so it can't be withdrawn"),
])
def test_a_forged_button_for_an_illegal_move_is_refused(project, db, action, state, says):
    file(project)
    if state != "submitted":
        assess(project)
        approve_for_client(project)
    if state == "done":
        run(project, "start")
        run(project, "done")
    assert cr(db).state == state
    before = snapshot(db)
    refused_press(project.press_value(action, str(cr(db).id), message_ts=card(project, 1, "C0INTERNAL").ts), says)
    assert snapshot(db) == before


def test_withdrawn_and_rejected_requests_cannot_be_decided_again(project, db):
    approver(project)
    file(project)
    assess(project)
    shared = card(project)
    run(project, "withdraw")
    before = snapshot(db)
    text = refused_press(project.press(shared, "Approve", user="U0CLIENT"), "CR-1")
    assert "withdrawn" in text and "nothing more happens to it" in text
    refused_command(project.command("approve CR-1 override=yes Phone", name="/change"), "withdrawn")
    assert snapshot(db) == before and cr(db).state == "withdrawn"


@pytest.mark.parametrize("forged", ["²", "99999999999"])
def test_a_forged_assessment_form_with_a_made_up_milestone_value_is_refused(project, db, forged):
    """A milestone value no form offers (a superscript digit, a number beyond any id) is refused beside the field,
    like `milestones=` on the command, not answered with "something went wrong"."""
    milestone(project)
    file(project)
    internal = card(project, 1, "C0INTERNAL")
    [assess_button] = [b for b in payloads.buttons(internal.args) if b["text"]["text"] == "Assess"]
    project.send(payloads.block_actions("change.assess", assess_button["value"], user_id="U0LEAD", team_id=TEAM,
                                        channel_id="C0INTERNAL", message_ts=internal.ts,
                                        block_id=assess_button["block_id"]))
    [opened] = project.fake.wait_for("views.open", timeout=10)
    view = opened.args["view"]
    [block] = [b for b in view["blocks"] if b.get("block_id") == "milestones"]
    block["element"]["options"].append({"text": {"type": "plain_text", "text": "Made up"}, "value": forged})
    before = snapshot(db)
    reply = project.submit(view, {"days": "2", "cost": "0", "currency": "EUR", "milestones": forged})
    assert reply.json.get("response_action") == "errors", reply.body
    shown = json.dumps(reply.json["errors"], ensure_ascii=False)
    assert "Something went wrong" not in shown and "milestone" in shown, shown
    assert snapshot(db) == before


# -- clients typing what only the team (or the lead) may ------------------------------------------------------------
@pytest.mark.parametrize("text, says", [
    ("assess CR-1 days=1 cost=100 currency=EUR Cheap", "Clients can't assess change requests"),
    ("start CR-1", "Clients can't start change requests"),
    ("withdraw CR-1 Never mind", "Clients can't withdraw change requests"),
    ("approve CR-1 override=yes I say so", "`override=` is for the lead"),
    ("reject CR-1 override=yes I say so", "`override=` is for the lead"),
])
def test_a_client_approver_typing_team_commands_is_refused(project, db, text, says):
    approver(project)
    file(project)
    assess(project)
    if text.startswith("start"):
        approve_for_client(project)
    before = snapshot(db)
    refused_command(project.command(text, name="/change", user="U0CLIENT", channel="C0SHARED"), says)
    assert snapshot(db) == before


# -- @Liaison change: with nothing to file ---------------------------------------------------------------------------
def told_after(app, text: str):
    """`@Liaison <text>` by the client in the shared channel; what Slack was asked to show them alone."""
    assert mention(app, text).status == 200
    [told] = app.fake.wait_for("chat.postEphemeral", timeout=10)
    return told


@pytest.mark.parametrize("text, says", [
    ("change:   ", "Say what should change"),
    ("change: " + "z" * 3001, "The description is 3,001 characters long"),  # a long title is cut, not refused
])
def test_filing_by_mention_with_a_bad_title_is_refused_to_the_person_alone(project, db, text, says):
    told = told_after(project, text)
    assert (told.args["channel"], told.args["user"]) == ("C0SHARED", "U0CLIENT")
    assert says in html.unescape(json.dumps(told.args, ensure_ascii=False))
    assert count(db, ChangeRequest) == 0 and count(db, AuditEntry, AuditEntry.action.like("change.%")) == 0
