"""The risk register through the real app (signed commands and form submissions, Slack stubbed), on SQLite and
PostgreSQL: adding (by command and by form), scoring and ordering, showing with history, updating, closing and
escalating into a change request; every refusal (told in a sentence only the person sees, nothing stored); clients
and the client's channel refused without a word about the risks; and a canary: no risk's words ever reach the
client's channel, whatever the team does with them.
"""
from __future__ import annotations

import html
import json
import re
import threading
from datetime import date, datetime, timezone
from typing import Any

import pytest
from sqlalchemy import or_, select

from bot.services import risks as service
from storage.models import AuditEntry, ChangeRequest, Project, Risk
from tests.helpers import count, mention, said

REFUSAL = "Risks are the team's: use `/risk` in the project's internal channel."


# -- helpers ---------------------------------------------------------------------------------------------------------
def risk(app, text: str, *, user: str = "U0LEAD", channel: str = "C0INTERNAL", answer: bool = True):
    return app.command(text, name="/risk", user=user, channel=channel, answer=answer)


def ok(reply, *says: str) -> str:
    assert reply.status == 200, reply
    assert reply.json.get("response_type") == "ephemeral", reply.body  # only the person sees a risk answer
    text = said(reply)
    assert "⚠️" not in reply.json.get("text", ""), text
    for words in says:
        assert words in text, (words, text)
    return text


def refused(reply, *says: str) -> str:
    assert reply.status == 200, reply
    assert reply.json.get("response_type") == "ephemeral", reply.body
    text = said(reply)
    assert "⚠️" in reply.json.get("text", ""), text  # told as a problem, not as a success
    for words in says:
        assert words in text, (words, text)
    return text


def add(app, text: str, **kw: Any) -> str:
    return ok(risk(app, f"add {text}", **kw), "Added R-")


def row(db, number: int = 1, key: str = "acme") -> Risk:
    with db.read() as s:
        return s.scalar(select(Risk).join(Project, Project.id == Risk.project_id)
                        .where(Project.key == key, Risk.number == number))


def change(db, number: int = 1) -> ChangeRequest:
    with db.read() as s:
        return s.scalars(select(ChangeRequest).where(ChangeRequest.number == number)).one()


def audits(db, action: str) -> list[AuditEntry]:
    with db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def snapshot(db) -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    with db.read() as s:
        risks = [tuple(r) for r in s.execute(select(
            Risk.id, Risk.project_id, Risk.number, Risk.description, Risk.likelihood, Risk.impact, Risk.response,
            Risk.owner_id, Risk.review_date, Risk.state, Risk.changed_at, Risk.closed_at, Risk.closed_by,
            Risk.close_note, Risk.change_request_id).order_by(Risk.id))]
        audit = [tuple(a) for a in s.execute(
            select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.target)
            .where(or_(AuditEntry.action.like("risk.%"), AuditEntry.action.like("change.%")))
            .order_by(AuditEntry.id))]
        filed = [tuple(p) for p in s.execute(select(Project.key, Project.risks_filed, Project.changes_filed)
                                            .order_by(Project.id))]
        requests = [tuple(c) for c in s.execute(select(ChangeRequest.id, ChangeRequest.title, ChangeRequest.state)
                                                .order_by(ChangeRequest.id))]
    return {"risks": risks, "audit": audit, "filed": filed, "requests": requests}


def form(app, text: str = "", *, user: str = "U0LEAD", channel: str = "C0INTERNAL") -> dict:
    """Open the form with a bare command; returns the view Slack was asked to open."""
    before = len(app.fake.calls_to("views.open"))
    reply = risk(app, text, user=user, channel=channel, answer=False)
    assert reply.status == 200 and reply.body == "", reply.body
    return app.fake.wait_for("views.open", count=before + 1, timeout=5)[-1].args["view"]


def block(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def to_shared(app) -> list[str]:
    """Every payload that reached the client's channel: posts, card updates, ephemerals, response_url answers."""
    app.jobs.drain()
    app.rt.outbox.drain()
    found = [json.dumps(c.args, ensure_ascii=False) for c in app.fake.calls
             if c.method in ("chat.postMessage", "chat.update", "chat.postEphemeral")
             and c.args.get("channel") == "C0SHARED"]
    found += [json.dumps(c.args, ensure_ascii=False) for c in app.fake.calls_to("response_url")
              if c.url.startswith("/response/C0SHARED/")]
    return [html.unescape(f) for f in found]


R1 = "likelihood=low impact=medium The copy may arrive late"


# -- scoring ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("likelihood, impact, expected", [
    ("low", "low", 1), ("low", "medium", 2), ("low", "high", 3), ("medium", "low", 2), ("medium", "medium", 4),
    ("medium", "high", 6), ("high", "low", 3), ("high", "medium", 6), ("high", "high", 9),
])
def test_the_score_is_likelihood_times_impact(likelihood, impact, expected):
    assert service.score(likelihood, impact) == expected


# -- adding and listing ----------------------------------------------------------------------------------------------
def test_risks_are_numbered_per_project_scored_and_listed_highest_first(project, db, clock):
    assert "score 2/9 (likelihood low × impact medium)" in add(project, R1)
    assert "score 9/9" in add(project, 'likelihood=high impact=high response=mitigate owner=<@U0TEAM|sam> '
                                       'review="next friday" The payment provider may change its API')
    assert "score 6/9" in add(project, "likelihood=medium impact=high The designer is on leave in December")
    assert "score 6/9" in add(project, "likelihood=high impact=medium review=2026-12-01 Hosting renewal")
    # The word `add` may be left out.
    assert "Added R-5" in ok(risk(project, "likelihood=low impact=low A font licence lapses"))

    r2 = row(db, 2)
    assert (r2.number, r2.likelihood, r2.impact, r2.response, r2.owner_id, r2.review_date, r2.state,
            r2.created_by) == (2, "high", "high", "mitigate", "U0TEAM", date(2026, 11, 27), "open", "U0LEAD")
    assert r2.description == "The payment provider may change its API"
    with db.read() as s:
        assert s.scalar(select(Project.risks_filed).where(Project.key == "acme")) == 5
    added = audits(db, "risk.add")
    assert len(added) == 5 and added[1].detail["score"] == 9 and added[1].detail["owner"] == "U0TEAM"
    assert added[1].detail["review"] == "2026-11-27" and added[1].actor_id == "U0LEAD"

    listed = ok(risk(project, "list"), "Risks of `acme` (open)")
    order = [listed.index(f"*R-{n}*") for n in (2, 4, 3, 1, 5)]  # equal scores: the nearer review first
    assert order == sorted(order), listed
    assert "<@U0TEAM>" in listed and "review Fri 27 Nov 2026" in listed and "mitigate" in listed

    # A review date gone by says so.
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc))
    assert "review overdue (was Fri 27 Nov 2026)" in ok(risk(project, "list"))
    # Nothing was posted anywhere: risk answers are for the person alone.
    project.jobs.drain()
    assert project.fake.calls_to("chat.postMessage") == []


def test_a_team_member_adds_with_a_mention_of_anyone_on_the_team(project, db):
    add(project, f"owner=<@U0LEAD> {R1}", user="U0TEAM")
    assert (row(db).created_by, row(db).owner_id) == ("U0TEAM", "U0LEAD")


# -- the form --------------------------------------------------------------------------------------------------------
def test_bare_risk_opens_the_form_which_adds_and_says_what_is_wrong_beside_the_field(project, db):
    view = form(project)  # bare `/risk`
    assert view["callback_id"] == "risk-add"
    for block_id in ("likelihood", "impact"):
        element = block(view, block_id)["element"]
        assert element["type"] == "static_select" and not block(view, block_id)["optional"]
        assert [o["value"] for o in element["options"]] == ["low", "medium", "high"]
    assert block(view, "response")["element"]["type"] == "static_select" and block(view, "response")["optional"]
    assert block(view, "owner")["element"]["type"] == "users_select"
    assert block(view, "review")["element"]["type"] == "datepicker"
    assert block(form(project, "add"), "description")  # bare `/risk add` too

    empty = project.submit(view, {"description": "  ", "likelihood": "high", "impact": "high"})
    assert empty.json["response_action"] == "errors" and "Describe the risk" in empty.json["errors"]["description"]
    assert count(db, Risk) == 0

    good = project.submit(view, {"description": "The API vendor may deliver late", "likelihood": "high",
                                 "impact": "medium", "response": "mitigate", "owner": "U0TEAM",
                                 "review": "2026-12-15"})
    assert good.status == 200 and good.body == ""
    r = row(db)
    assert (r.description, r.likelihood, r.impact, r.response, r.owner_id, r.review_date) == (
        "The API vendor may deliver late", "high", "medium", "mitigate", "U0TEAM", date(2026, 12, 15))
    project.rt.outbox.drain()
    [told] = project.fake.wait_for("chat.postEphemeral", timeout=5)
    assert (told.args["channel"], told.args["user"]) == ("C0INTERNAL", "U0LEAD")
    assert "Added R-1" in json.dumps(told.args) and "score 6/9" in json.dumps(told.args)
    assert project.fake.calls_to("chat.postMessage") == []


FORM_REFUSALS = [
    ({"likelihood": "extreme"}, "likelihood", "`likelihood=extreme` isn't a level"),
    ({"impact": None}, "impact", "Give the impact"),
    ({"response": "ignore"}, "response", "`response=ignore` isn't a response"),
    ({"review": "2026-11-01"}, "review", "Sun 01 Nov 2026 is in the past"),
    ({"description": "&" * 601}, "description", "3,005 characters long as Slack counts them"),
    ({"owner": "U0CLIENT"}, "owner", "<@U0CLIENT> is on the client's side"),
    ({"owner": "nobody"}, "owner", "Choose the owner"),
]


@pytest.mark.parametrize("typed, field, says", FORM_REFUSALS, ids=[f for _, f, _ in FORM_REFUSALS])
def test_the_form_refuses_bad_input_beside_the_field_and_stores_nothing(project, db, typed, field, says):
    view = form(project)
    for block_id, value in typed.items():
        element = block(view, block_id)["element"]
        if element["type"] == "static_select" and value is not None:  # a forged option, as a forger sends it
            element["options"].append({"text": {"type": "plain_text", "text": value}, "value": value})
    before = snapshot(db)
    values = {"description": "The API vendor may deliver late", "likelihood": "high", "impact": "medium", **typed}
    reply = project.submit(view, values)
    assert reply.json.get("response_action") == "errors", reply.body
    assert says in html.unescape(reply.json["errors"][field]), reply.json
    assert snapshot(db) == before and count(db, Risk) == 0


def test_a_forged_form_naming_another_project_or_channel_is_refused(project, db):
    project.fake.world.add_channel(id="C0SIDE", name="side", members=["U0OTHER"])
    assert "Created" in project.command("create key=side Side project", user="U0OTHER", channel="C0SIDE").text
    project.jobs.drain()
    view = form(project)
    values = {"description": "The API vendor may deliver late", "likelihood": "high", "impact": "high"}
    before = snapshot(db)
    for metadata, says in [
        ({"channel_id": "C0INTERNAL", "project": "side"}, "not on the team of `side`"),
        ({"channel_id": "C0SIDE", "project": None}, "not on the team of `side`"),  # Slack never said they are there
        ({"channel_id": "C0SHARED", "project": None}, REFUSAL),
        ({"channel_id": "C0SHARED", "project": "acme"}, REFUSAL),
    ]:
        forged = {**view, "private_metadata": json.dumps(metadata)}
        reply = project.submit(forged, values)
        assert reply.json.get("response_action") == "errors", reply.body
        assert says in html.unescape(json.dumps(reply.json["errors"], ensure_ascii=False)), (metadata, reply.body)
    assert snapshot(db) == before and count(db, Risk) == 0
    project.rt.outbox.drain()
    assert project.fake.calls_to("chat.postEphemeral") == []


def test_a_form_slack_will_not_open_is_said_with_what_to_type_instead(project, db):
    project.fake.fail_next("views.open", error="expired_trigger_id")
    told = risk(project, "")  # the answer follows through response_url
    assert "didn't open the form" in said(told) and "/risk add likelihood=" in said(told)


# -- showing, updating, closing --------------------------------------------------------------------------------------
def test_update_changes_what_is_given_and_audits_before_and_after(project, db):
    add(project, f"response=accept {R1}")
    reply = ok(risk(project, "update R-1 likelihood=high owner=<@U0TEAM> review=2026-12-15 The copy may arrive "
                             "two weeks late"), "Updated R-1", "likelihood low → high", "owner none → <@U0TEAM>",
               "review none → Tue 15 Dec 2026", "Now score 6/9")
    assert "impact" not in reply.split("Now")[0]  # unchanged fields are not said
    r = row(db)
    assert (r.likelihood, r.impact, r.response, r.owner_id, r.review_date, r.description) == (
        "high", "medium", "accept", "U0TEAM", date(2026, 12, 15), "The copy may arrive two weeks late")
    [entry] = audits(db, "risk.update")
    assert entry.detail["before"] == {"description": "The copy may arrive late", "likelihood": "low", "owner": None,
                                      "review": None}
    assert entry.detail["after"] == {"description": "The copy may arrive two weeks late", "likelihood": "high",
                                     "owner": "U0TEAM", "review": "2026-12-15"}
    assert entry.detail["score"] == [2, 6]
    # Only the description: the options may be left out.
    ok(risk(project, "update R-1 The copy may not arrive"), "description → “The copy may not arrive”")
    assert row(db).likelihood == "high" and len(audits(db, "risk.update")) == 2


def test_show_gives_the_risk_with_its_history_from_the_audit_log(project, db):
    add(project, R1)
    risk(project, "update R-1 likelihood=high response=mitigate")
    risk(project, "close R-1 The client sent the copy", user="U0TEAM")
    shown = ok(risk(project, "show R-1"), "*R-1* — closed, score 6/9 (likelihood high × impact medium)",
               "The copy may arrive late", "Closed by <@U0TEAM>", "The client sent the copy")
    history = shown[shown.index("*History*"):]
    lines = ["<@U0LEAD> added it (score 2/9)",
             "<@U0LEAD> updated likelihood low → high; response none → mitigate (score 2/9 → 6/9)",
             "<@U0TEAM> closed it: The client sent the copy"]
    positions = [history.index(line) for line in lines]
    assert positions == sorted(positions), history


def test_closing_needs_a_note_and_closing_twice_is_refused(project, db):
    add(project, R1)
    add(project, "likelihood=high impact=high The hosting may be slow")
    refused(risk(project, "close R-1"), "Say why it is closed")
    ok(risk(project, "close R-1 The client sent the copy"), "Closed *R-1*")
    r = row(db)
    assert (r.state, r.closed_by, r.close_note) == ("closed", "U0LEAD", "The client sent the copy")
    before = snapshot(db)
    refused(risk(project, "close R-1 Again", user="U0TEAM"), "R-1 was already closed by <@U0LEAD> on Tue 24 Nov",
            "nothing was changed")
    refused(risk(project, "update R-1 likelihood=high"), "R-1 is closed, so it can't be updated")
    refused(risk(project, "escalate R-1 Move the launch"), "R-1 is closed, so it can't be escalated")
    assert snapshot(db) == before
    [closed] = audits(db, "risk.close")
    assert closed.detail["note"] == "The client sent the copy" and closed.detail["to"] == "closed"
    # Closed risks leave the open list; `state=` shows them.
    listed = ok(risk(project, "list"))
    assert "R-2" in listed and "*R-1*" not in listed
    assert "*R-1*" in ok(risk(project, "list state=closed")) and "*R-2*" not in ok(risk(project, "list state=closed"))
    both = ok(risk(project, "list state=all"))
    assert both.index("*R-2*") < both.index("*R-1*")


def test_two_people_closing_at_once_close_once(project, db):
    add(project, R1)
    replies: list = []
    threads = [threading.Thread(target=lambda u=u: replies.append(risk(project, f"close R-1 Gone ({u})", user=u)))
               for u in ("U0LEAD", "U0TEAM")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    texts = sorted(said(r) for r in replies)
    assert sum("Closed *R-1*" in t for t in texts) == 1 and sum("already closed" in t for t in texts) == 1, texts
    assert len(audits(db, "risk.close")) == 1


# -- escalating ------------------------------------------------------------------------------------------------------
SECRET = "The payment provider Zebrapay may drop our card scheme"
TITLE = "Move the launch after the payment API update"


def test_escalating_files_a_change_request_with_what_was_typed_linked_both_ways(project, db):
    add(project, f"likelihood=high impact=high {SECRET}")
    reply = ok(risk(project, f'escalate R-1 priority=high description="Two more weeks for the new payment API" '
                             f"{TITLE}"), f"Escalated *R-1* to *CR-1: {TITLE}*", "the client's too")
    cr, r = change(db), row(db)
    assert (cr.title, cr.description, cr.priority, cr.requested_by, cr.filed_by, cr.source, cr.state) == (
        TITLE, "Two more weeks for the new payment API", "high", "U0LEAD", "U0LEAD", "risk", "submitted")
    assert cr.source_key == f"risk:{r.id}"  # the way back from the request to the risk
    assert r.change_request_id == cr.id and r.state == "open"  # still a risk until someone closes it
    assert "Zebrapay" not in reply  # the answer names the request, not the risk's words
    [escalated] = audits(db, "risk.escalate")
    assert escalated.detail["change"] == "CR-1" and escalated.actor_id == "U0LEAD"

    # The request's cards, in the internal and the client channel, show only what was typed.
    project.jobs.drain()
    posts = {c.args["channel"]: json.dumps(c.args, ensure_ascii=False) for c in project.fake.calls_to(
        "chat.postMessage") if not c.failed and "CR-1" in c.args.get("text", "")}
    assert set(posts) == {"C0INTERNAL", "C0SHARED"}
    for text in posts.values():
        assert TITLE in text and "Zebrapay" not in text
    assert "Escalated from risk R-1" in posts["C0INTERNAL"]  # the team sees where it came from
    # The client never does ("CR-1" is the request's own name).
    assert not re.search(r"(?<![A-Z])R-1", posts["C0SHARED"]) and "risk" not in posts["C0SHARED"].lower()

    assert "escalated to CR-1 (submitted)" in ok(risk(project, "show R-1"), "History", "escalated it to CR-1")
    assert "escalated to CR-1" in ok(risk(project, "list"))

    # Twice: refused with a sentence; no second request, no second number.
    before = snapshot(db)
    refused(risk(project, "escalate R-1 Another title", user="U0TEAM"),
            "R-1 was already escalated to CR-1 by <@U0LEAD> on Tue 24 Nov", "nothing was filed")
    assert snapshot(db) == before and count(db, ChangeRequest) == 1

    # It can still be closed, and the link stays.
    ok(risk(project, "close R-1 Handled by CR-1"))
    assert row(db).change_request_id == cr.id


def test_two_people_escalating_at_once_file_one_change_request(project, db):
    add(project, f"likelihood=high impact=high {SECRET}")
    replies: list = []
    threads = [threading.Thread(target=lambda u=u: replies.append(risk(project, f"escalate R-1 {TITLE} ({u})",
                                                                       user=u)))
               for u in ("U0LEAD", "U0TEAM")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    texts = [said(r) for r in replies]
    assert all("Escalated *R-1* to *CR-1" in t or "already escalated to CR-1" in t for t in texts), texts
    assert count(db, ChangeRequest) == 1 and len(audits(db, "risk.escalate")) == 1
    assert row(db).change_request_id == change(db).id
    with db.read() as s:
        assert s.scalar(select(Project.changes_filed).where(Project.key == "acme")) == 1


# -- bad input -------------------------------------------------------------------------------------------------------
BAD = [
    ("add likelihood=extreme impact=high The vendor may be late", ["`likelihood=extreme` isn't a level",
                                                                    "`low`, `medium` or `high`"]),
    ("add likelihood=high The vendor may be late", ["Give the impact", "`impact=low`"]),
    ("add likelihood=high impact= The vendor may be late", ["`impact=` needs a value"]),
    ("add impact=high The vendor may be late", ["Give the likelihood"]),
    ("add likelihood=high impact=high response=ignore The vendor may be late", ["`response=ignore` isn't a response"]),
    ("add likelihood=high impact=high owner=nobody The vendor may be late", ["`owner=nobody` should mention a person"]),
    ("add likelihood=high impact=high owner=<@U0CLIENT> The vendor may be late", ["<@U0CLIENT> is on the client's "
                                                                                  "side"]),
    ("add likelihood=high impact=high review=yesterday The vendor may be late", ["Mon 23 Nov 2026 is in the past"]),
    ("add likelihood=high impact=high review=someday The vendor may be late", ["I can't read `someday`"]),
    ("add likelihood=high impact=high", ["Describe the risk"]),
    ("add likelihood=high impact=high   ", ["Describe the risk"]),
    ("add likelihood=high impact=high " + "x" * 3001, ["3,001 characters long as Slack counts them", "3,000"]),
    ("add likelihood=high impact=high " + "&amp;" * 601, ["3,005 characters long as Slack counts them"]),
    ("show R-99", ["`acme` has no risk R-99", "`/risk list` shows them"]),
    ("show R-abc", ["Which risk?", "`R-3`"]),
    ("show", ["Which risk?"]),
    ("update R-99 likelihood=high", ["`acme` has no risk R-99"]),
    ("update R-abc likelihood=high", ["Which risk?"]),
    ("update R-1", ["Say what changes"]),
    ("update R-1 likelihood=extreme", ["`likelihood=extreme` isn't a level"]),
    ("update R-1 impact=", ["`impact=` needs a value"]),
    ("update R-1 response=ignore", ["`response=ignore` isn't a response"]),
    ("update R-1 owner=nobody", ["`owner=nobody` should mention a person"]),
    ("update R-1 owner=<@U0CLIENT>", ["<@U0CLIENT> is on the client's side"]),
    ("update R-1 review=yesterday", ["is in the past"]),
    ("update R-1 review=someday", ["I can't read `someday`"]),
    ("update R-1 likelihood=low impact=medium", ["Nothing changed: R-1 already says that"]),
    ("update R-1 " + "x" * 3001, ["3,001 characters long"]),
    ("close R-99 Gone", ["`acme` has no risk R-99"]),
    ("close R-abc Gone", ["Which risk?"]),
    ("close R-1", ["Say why it is closed"]),
    ("close R-1 " + "n" * 1001, ["The note is 1,001 characters long"]),
    ("escalate R-99 Move the launch", ["`acme` has no risk R-99"]),
    ("escalate R-abc Move the launch", ["Which risk?"]),
    ("escalate R-1", ["Give the change request a title"]),
    ("escalate R-1 priority=asap Move the launch", ["`priority=asap` isn't a priority"]),
    ("escalate R-1 " + "t" * 201, ["The title is 201 characters long"]),
    ("list state=pending", ["`state=pending` isn't a state of risks"]),
]


@pytest.mark.parametrize("text, says", BAD, ids=[t[:60] for t, _ in BAD])
def test_bad_input_is_refused_with_a_sentence_and_nothing_is_stored(project, db, text, says):
    add(project, R1)
    project.fake.clear()
    before = snapshot(db)
    refused(risk(project, text), *says)
    assert snapshot(db) == before
    project.jobs.drain()
    project.rt.outbox.drain()
    assert project.fake.calls_to("chat.postMessage") == [] and project.fake.calls_to("views.open") == []


# -- clients and the client's channel --------------------------------------------------------------------------------
ANYTHING = ["", "add", "add likelihood=high impact=high The client may cancel", "likelihood=extreme impact=x Y",
            "list", "list state=all", "list project=acme", "show R-1", "show R-99", "show R-abc",
            "update R-1 likelihood=high", "close R-1 Gone", "escalate R-1 Move the launch", "R-1"]


@pytest.mark.parametrize("user", ["U0CLIENT", "U0LEAD", "U0TEAM"])
def test_every_subcommand_is_refused_in_the_client_channel_without_a_word_about_the_risks(project, db, user):
    add(project, f"likelihood=high impact=high {SECRET}")
    project.fake.clear()
    before = snapshot(db)
    for text in ANYTHING:
        shown = refused(risk(project, text, user=user, channel="C0SHARED"), REFUSAL)
        assert "Zebrapay" not in shown and "R-1" not in shown and "score" not in shown, (text, shown)
    assert snapshot(db) == before
    assert to_shared(project) == [] and project.fake.calls_to("views.open") == []


def test_a_client_is_refused_everywhere(project, db):
    add(project, f"likelihood=high impact=high {SECRET}")
    before = snapshot(db)
    for text in ("list", "show R-1", "add likelihood=high impact=high X"):
        shown = refused(risk(project, text, user="U0CLIENT", channel="C0INTERNAL"),
                        "People on the client's side can use Liaison only in the channel they share")
        assert "Zebrapay" not in shown
    # A client given a client role is refused in the shared channel like everyone there.
    assert "client approver" in project.command("role <@U0CLIENT> client_approver").text
    refused(risk(project, "list", user="U0CLIENT", channel="C0SHARED"), REFUSAL)
    assert snapshot(db)["risks"] == before["risks"]


def test_someone_not_on_the_team_is_refused(project, db):
    add(project, f"likelihood=high impact=high {SECRET}")
    shown = refused(risk(project, "list project=acme", user="U0OTHER", channel="C0GENERAL"),
                    "You're not on the team of `acme`")
    assert "Zebrapay" not in shown


# -- the canary ------------------------------------------------------------------------------------------------------
def test_no_risk_words_ever_reach_the_client_channel(project, db):
    """Everything the team does with risks, and everything the client's channel sees meanwhile: not one payload that
    reached #acme-shared holds a word of any risk. Escalation posts a change-request card there: the typed title."""
    secrets = [SECRET, "Quokka contractor may leave", "Narwhal hosting bill may triple", "Ocelot copy late"]
    answers: list[str] = []  # what the commands answered, in both channels

    def run(text: str, **kw: Any) -> str:
        reply = risk(project, text, **kw)
        answers.append(said(reply))
        if kw.get("channel") == "C0SHARED":
            shared_acks.append(said(reply))
        return said(reply)

    shared_acks: list[str] = []
    run(f"add likelihood=high impact=high owner=<@U0TEAM> review=\"next friday\" {secrets[0]}")
    run(f"add likelihood=medium impact=medium {secrets[1]}")
    view = form(project)
    project.submit(view, {"description": secrets[2], "likelihood": "low", "impact": "high"})
    run(f"update R-2 likelihood=high {secrets[3]}")
    run("show R-1")
    run("list state=all")
    run(f'escalate R-1 description="Two more weeks for the new payment API" {TITLE}')
    run("close R-3 Not a risk any more")
    # The same, tried from the client's channel, by the team and by the client.
    for user in ("U0LEAD", "U0CLIENT"):
        for text in ("list", "show R-1", "show R-2", f"add likelihood=low impact=low {secrets[1]}",
                     "escalate R-2 Another title", ""):
            run(text, user=user, channel="C0SHARED")
    # What the client's channel sees of the project meanwhile.
    assert mention(project, "changes", ts="1764000000.000500", event_id="Ev0RISKCANARY1").status == 200
    assert mention(project, "status", ts="1764000000.000600", event_id="Ev0RISKCANARY2").status == 200
    shared_acks.append(said(project.command("show CR-1", name="/change", user="U0CLIENT", channel="C0SHARED")))
    project.command("digest")

    everything = "\n".join(answers)
    assert all(s in everything for s in (secrets[0], secrets[3])), "the canary checks nothing"
    assert row(db, 2).description == secrets[3] and row(db, 3).description == secrets[2]
    shared = to_shared(project) + shared_acks
    assert any(TITLE in p for p in shared), "the escalated request's card is in the client's channel"
    for payload in shared:
        for words in [*secrets, "Zebrapay", "Quokka", "Narwhal", "Ocelot"]:
            assert words not in payload, (words, payload)
        assert not re.search(r"(?<![A-Za-z])R-\d", payload), payload  # not even a risk's number (CR-1 is fine)
