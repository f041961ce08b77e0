"""Change requests as a client and a team live them, through the real app: filed by the client's mention, by the
command, the form or the shortcut; assessed by the team; approved or rejected by the client's button; started and
done; with cards changed in place in both channels, milestones moved on approval, and the history kept."""
from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

from sqlalchemy import select

from bot import payloads
from storage.models import AuditEntry, ChangeRequest, Milestone
from tests.conftest import TEAM
from tests.helpers import count, mention


def shown(payload) -> str:
    return json.dumps(payload, ensure_ascii=False)


def change(db, number: int = 1) -> ChangeRequest:
    with db.read() as session:
        return session.scalars(select(ChangeRequest).where(ChangeRequest.number == number)).one()


def cards_in(app, channel: str) -> list:
    """The change-request cards posted in a channel, oldest first."""
    return [c for c in app.fake.calls_to("chat.postMessage")
            if c.args.get("channel") == channel and "CR-" in c.args.get("text", "") and not c.failed
            and "thread_ts" not in c.args]


def latest(app, channel: str, ts: str) -> dict:
    """What a posted card shows now: its last chat.update, or the post itself."""
    updates = [c for c in app.fake.calls_to("chat.update") if (c.args["channel"], c.args["ts"]) == (channel, ts)]
    if updates:
        return updates[-1].args
    return next(c.args for c in app.fake.calls_to("chat.postMessage") if c.ts == ts)


def approver(app) -> None:
    assert "client approver" in app.command("role <@U0CLIENT> client_approver", channel="C0INTERNAL").text


def milestone(app, text: str = "add due=2026-12-04 Design sign-off") -> None:
    assert "Added" in app.command(text, name="/milestone").text
    app.jobs.drain()


def said(reply) -> str:
    return shown(reply.json)


def mid(db, name: str = "Design sign-off") -> int:
    with db.read() as session:
        return session.scalar(select(Milestone.id).where(Milestone.name == name))


def open_form(app, action_id: str, value: str, *, user: str = "U0LEAD", channel: str = "C0INTERNAL",
              message_ts: str | None = None) -> dict:
    """Press a button that opens a form; returns the form Slack was asked to open."""
    ack = app.send(payloads.block_actions(action_id, value, user_id=user, team_id=TEAM, channel_id=channel,
                                          message_ts=message_ts, response_url=app.fake.response_url(channel, user)))
    assert ack.status == 200 and ack.body == ""
    return app.fake.wait_for("views.open", timeout=5)[-1].args["view"]


def due_of(db, name: str) -> date:
    with db.read() as session:
        return session.scalar(select(Milestone.due_date).where(Milestone.name == name))


def test_the_whole_lifecycle_as_client_and_team_live_it(project, db):
    approver(project)
    milestone(project)  # Fri 04 Dec 2026
    # The client asks, by mention in the shared channel (they can't use our slash commands).
    assert mention(project, "change: Add a newsletter signup to the home page").status == 200
    project.jobs.drain()
    cr = change(db)
    assert (cr.state, cr.requested_by, cr.filed_by, cr.source) == ("submitted", "U0CLIENT", "U0CLIENT", "mention")
    [internal] = cards_in(project, "C0INTERNAL")
    [client] = cards_in(project, "C0SHARED")
    assert "CR-1" in internal.args["text"] and "Add a newsletter signup" in shown(internal.args["blocks"])
    assert [b["text"]["text"] for b in payloads.buttons(internal.args)] == ["Assess", "Withdraw"]
    assert payloads.buttons(client.args) == []  # nothing for the client to decide yet
    thread = [c for c in project.fake.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert "Filed *CR-1" in shown(thread[-1].args)

    # The team assesses: 3 working days, 2,500 EUR, moving the design sign-off; scope notes kept internal.
    reply = project.command(f"assess CR-1 days=3 cost=2500 currency=EUR milestones={mid(db)} internal=yes Form plus "
                            "the margin we lose on it", name="/change")
    assert "Assessed CR-1: +3 working days, +2,500 EUR" in reply.text
    project.jobs.drain()
    client_now = latest(project, "C0SHARED", client.ts)
    internal_now = latest(project, "C0INTERNAL", internal.ts)
    assert "margin we lose" in shown(internal_now["blocks"])
    assert "margin" not in shown(client_now)  # internal notes never reach the client's card
    assert [b["text"]["text"] for b in payloads.buttons(client_now)] == ["Approve", "Reject"]
    assert "<@U0CLIENT> approves or rejects" in shown(client_now)

    # The client approves with the button on their card: the milestone moves by 3 working days.
    answer = project.press(_call(project, client.ts), "Approve", user="U0CLIENT")
    assert "Approved CR-1." in answer.text and answer.json["replace_original"] is False
    assert change(db).state == "approved" and change(db).decided_by == "U0CLIENT"
    assert due_of(db, "Design sign-off") == date(2026, 12, 9)  # Fri 04 Dec + 3 working days = Wed 09 Dec
    project.jobs.drain()
    team_told = [c for c in project.fake.calls_to("chat.postMessage")
                 if c.args.get("channel") == "C0INTERNAL" and "milestones moved" in c.args.get("text", "")]
    assert "Fri 04 Dec → Wed 09 Dec 2026" in shown(team_told[-1].args)
    client_now = latest(project, "C0SHARED", client.ts)
    assert payloads.buttons(client_now) == [] and "Approved by <@U0CLIENT>" in shown(client_now)
    # The milestone's own card changed in place too.
    milestone_card = next(c for c in project.fake.calls_to("chat.postMessage") if "Milestone" in c.args["text"])
    assert "Wed 09 Dec" in shown(latest(project, "C0INTERNAL", milestone_card.ts))

    # The team starts and finishes it with the buttons of its card.
    assert "Started CR-1" in project.press(_call(project, internal.ts), "Start").text
    project.jobs.drain()
    assert "Marked CR-1 done" in project.press(_call(project, internal.ts), "Done").text
    project.jobs.drain()
    assert change(db).state == "done"
    assert payloads.buttons(latest(project, "C0INTERNAL", internal.ts)) == []

    # The history settles any later dispute: every move, who and when.
    history = said(project.command("show CR-1", name="/change"))
    for line in ("<@U0CLIENT> filed", "<@U0LEAD> assessed (submitted → assessed)",
                 "<@U0CLIENT> approved (assessed → approved)", "started (approved → in progress)",
                 "marked done (in progress → done)"):
        assert line in history
    with db.read() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("change.%"))
                                       .order_by(AuditEntry.id)))
    assert actions == ["change.file", "change.assess", "change.approve", "change.start", "change.done"]


def _call(app, ts: str):
    """The posted message with this ts, with its buttons as they are now (after any chat.update)."""
    post = next(c for c in app.fake.calls_to("chat.postMessage") if c.ts == ts)
    channel = post.args["channel"]
    return SimpleNamespace(args={**latest(app, channel, ts), "channel": channel}, ts=ts)


def test_the_client_sees_the_budget_move_and_the_client_list_shows_only_client_fields(project, db):
    approver(project)
    assert "48,000 EUR" in project.command('edit budget="48000 EUR"').text
    project.command("Redesign the footer", name="/change")
    project.command("assess CR-1 days=0 cost=6500 currency=EUR internal=yes We underquoted", name="/change")
    project.jobs.drain()
    [client] = cards_in(project, "C0SHARED")
    project.press(_call(project, client.ts), "Approve", user="U0CLIENT")
    assert mention(project, "changes", ts="1764000000.000300", event_id="Ev0LIST").status == 200
    project.jobs.drain()
    listed = [c for c in project.fake.calls_to("chat.postMessage") if c.args.get("thread_ts")][-1]
    text = shown(listed.args)
    assert "CR-1" in text and "approved" in text and "underquoted" not in text
    listed_team = project.command("list", name="/change").text
    assert "CR-1" in listed_team and "+6,500 EUR" in listed_team


def test_a_mention_delivered_twice_files_one_request(project, db):
    first = mention(project, "change: A dark mode")
    again = mention(project, "change: A dark mode", retry=1)
    assert first.status == again.status == 200
    project.jobs.drain()
    assert count(db, ChangeRequest) == 1 and change(db).number == 1
    assert len(cards_in(project, "C0SHARED")) == 1
    # The next one gets the next number: the retry took none.
    mention(project, "change: A light mode", ts="1764000000.000200", event_id="Ev0CHANGE2")
    assert change(db, 2).title == "A light mode"


def test_the_file_form_files_with_requester_and_priority_and_says_what_is_wrong_beside_the_field(project, db):
    assert project.command("", name="/change", answer=False).body == ""
    view = project.fake.wait_for("views.open", timeout=5)[0].args["view"]
    wrong = project.submit(view, {"title": "   "})
    assert wrong.json["response_action"] == "errors" and "title" in wrong.json["errors"]
    assert count(db, ChangeRequest) == 0
    ok = project.submit(view, {"title": "Add a careers page", "description": "With three job ads",
                               "requested_by": "U0CLIENT", "priority": "urgent"})
    assert ok.status == 200 and ok.body == ""
    cr = change(db)
    assert (cr.title, cr.description, cr.requested_by, cr.priority, cr.source) == (
        "Add a careers page", "With three job ads", "U0CLIENT", "urgent", "form")
    project.jobs.drain()
    assert len(cards_in(project, "C0INTERNAL")) == len(cards_in(project, "C0SHARED")) == 1


def test_the_assess_button_opens_a_form_whose_errors_point_at_the_field(project, db):
    milestone(project)
    project.command("Add a blog", name="/change")
    project.jobs.drain()
    [internal] = cards_in(project, "C0INTERNAL")
    view = open_form(project, "change.assess", str(change(db).id), message_ts=internal.ts)
    bad = project.submit(view, {"days": "2", "cost": "1000", "currency": "EURO"})
    assert bad.json["response_action"] == "errors" and "ISO 4217" in bad.json["errors"]["currency"]
    assert change(db).state == "submitted"
    good = project.submit(view, {"days": "2", "cost": "1000", "currency": "GBP", "notes": "Three templates",
                                 "milestones": str(mid(db))})
    assert good.status == 200 and good.body == ""
    cr = change(db)
    assert (cr.state, cr.days, cr.cost_cents, cr.currency, cr.milestone_ids) == ("assessed", 2, 100000, "GBP", [mid(db)])


def test_rejecting_by_button_asks_why_and_shows_it(project, db):
    approver(project)
    project.command("Add a shop", name="/change")
    project.command("assess CR-1 days=20 cost=30000 currency=EUR", name="/change")
    project.jobs.drain()
    [client] = cards_in(project, "C0SHARED")
    view = open_form(project, "change.reject", f"{change(db).id}:1", user="U0CLIENT", channel="C0SHARED",
                     message_ts=client.ts)
    empty = project.submit(view, {"reason": " "}, user="U0CLIENT")
    assert empty.json["response_action"] == "errors" and change(db).state == "assessed"
    project.submit(view, {"reason": "Not this year"}, user="U0CLIENT")
    cr = change(db)
    assert (cr.state, cr.decided_by, cr.decision_note) == ("rejected", "U0CLIENT", "Not this year")
    project.jobs.drain()
    assert "Rejected by <@U0CLIENT>" in shown(latest(project, "C0SHARED", client.ts))
    assert "Not this year" in shown(latest(project, "C0INTERNAL", cards_in(project, "C0INTERNAL")[0].ts))


def test_the_lead_overrides_with_a_reason_shown_as_such_everywhere(project, db):
    project.command("Add a map", name="/change")
    project.command("assess CR-1 days=1 cost=500 currency=EUR", name="/change")
    reply = project.command("approve CR-1 override=yes Dana approved it on the phone", name="/change")
    assert "Approved CR-1 on the client's behalf" in reply.text
    cr = change(db)
    assert (cr.state, cr.override, cr.decided_by) == ("approved", True, "U0LEAD")
    project.jobs.drain()
    for channel in ("C0INTERNAL", "C0SHARED"):
        text = shown(latest(project, channel, cards_in(project, channel)[0].ts))
        assert "on the client's behalf (override)" in text and "Dana approved it on the phone" in text
    assert "on the client's behalf (override)" in project.command("show CR-1", name="/change").text


def test_reassessing_an_approved_request_voids_the_approval_moves_milestones_back_and_asks_the_client(project, db):
    approver(project)
    milestone(project)
    project.command("Add search", name="/change")
    project.command(f"assess CR-1 days=5 cost=1000 currency=EUR milestones={mid(db)}", name="/change")
    project.jobs.drain()
    [client] = cards_in(project, "C0SHARED")
    project.press(_call(project, client.ts), "Approve", user="U0CLIENT")
    assert due_of(db, "Design sign-off") == date(2026, 12, 11)
    reply = project.command(f"assess CR-1 days=8 cost=1500 currency=EUR milestones={mid(db)}", name="/change")
    assert "no longer holds" in said(reply) and "Fri 11 Dec → Fri 04 Dec" in said(reply)
    cr = change(db)
    assert (cr.state, cr.version, cr.decided_by, cr.approved_version) == ("assessed", 2, None, None)
    assert due_of(db, "Design sign-off") == date(2026, 12, 4)
    project.jobs.drain()
    asked = [c for c in project.fake.calls_to("chat.postMessage")
             if c.args.get("channel") == "C0SHARED" and "re-assessed" in c.args.get("text", "")]
    assert asked and "<@U0CLIENT>" in shown(asked[-1].args)
    # The card shows the new assessment with buttons for it; the old card's button (version 1) is refused.
    stale = project.press_value("change.approve", f"{cr.id}:1", user="U0CLIENT", channel="C0SHARED")
    assert "changed after that card was shown" in stale.text and change(db).state == "assessed"
    fresh = payloads.buttons(latest(project, "C0SHARED", client.ts))
    assert fresh[0]["value"] == f"{cr.id}:2"


def test_withdrawing_an_approved_request_moves_its_milestones_back(project, db):
    milestone(project)
    project.command("Add chat", name="/change")
    project.command(f"assess CR-1 days=2 cost=0 currency=EUR milestones={mid(db)}", name="/change")
    project.command("approve CR-1 override=yes Agreed in the weekly call", name="/change")
    assert due_of(db, "Design sign-off") == date(2026, 12, 8)
    reply = project.command("withdraw CR-1 Client dropped it", name="/change")
    assert "Withdrew CR-1" in reply.text and "moved back" in reply.text
    assert change(db).state == "withdrawn" and due_of(db, "Design sign-off") == date(2026, 12, 4)
    project.jobs.drain()
    card = shown(latest(project, "C0INTERNAL", cards_in(project, "C0INTERNAL")[0].ts))
    assert "withdrawn" in card and "Approved by <@U0LEAD>" in card and "Rejected" not in card
    assert payloads.buttons(latest(project, "C0INTERNAL", cards_in(project, "C0INTERNAL")[0].ts)) == []


def test_the_shortcut_opens_the_form_filled_in_from_the_message_and_files_it_once_with_its_link(project, db):
    """What the client's card will show is read (and may be reworded) before anything is filed: the message may
    sit in an internal channel."""
    text = "Could the logo be bigger? " + "It is hard to see on phones. " * 10
    message = {"type": "message", "user": "U0CLIENT", "text": text, "ts": "1764000000.000900"}
    body, ctype = payloads.message_action("file_change_request", message, user_id="U0LEAD",
                                          channel_id="C0SHARED", team_id=TEAM,
                                          response_url=project.fake.response_url("C0SHARED", "U0LEAD"))
    assert project.send((body, ctype)).status == 200
    view = project.fake.wait_for("views.open", timeout=5)[-1].args["view"]
    assert count(db, ChangeRequest) == 0  # nothing filed before the form is sent
    assert project.submit(view, {"title": "A bigger logo on phones"}).body == ""
    again = project.submit(view, {"title": "A bigger logo on phones"})  # the same message, once more
    assert again.json["response_action"] == "errors" and "already filed" in shown(again.json)
    project.jobs.drain()  # its link is asked of Slack after the form has closed
    cr = change(db)
    assert (cr.requested_by, cr.filed_by, cr.source, cr.title) == ("U0CLIENT", "U0LEAD", "shortcut",
                                                                  "A bigger logo on phones")
    assert cr.description == text.strip() and cr.permalink and count(db, ChangeRequest) == 1


def test_a_long_mention_is_filed_with_its_first_words_as_title_and_all_of_it_as_description(project, db):
    text = "Please add " + "a very long list of things " * 12
    assert mention(project, f"change: {text}").status == 200
    cr = change(db)
    assert len(cr.title) <= 200 and cr.title.endswith("…") and cr.description == text.strip()


def test_an_approve_button_that_names_no_assessment_approves_nothing(project, db):
    approver(project)
    project.command("Add a map", name="/change")
    project.command("assess CR-1 days=1 cost=500 currency=EUR", name="/change")
    for value in (str(change(db).id), f"{change(db).id}:"):
        answer = project.press_value("change.approve", value, user="U0CLIENT", channel="C0SHARED")
        assert "names no assessment" in answer.text or "can't find" in answer.text
    assert change(db).state == "assessed"


def test_a_form_slack_will_not_open_is_said_to_the_person_with_what_to_type_instead(project, db):
    project.command("Add a blog", name="/change")
    project.jobs.drain()
    project.fake.fail_next("views.open", error="expired_trigger_id")
    url = project.fake.response_url("C0INTERNAL", "U0LEAD")
    ack = project.send(payloads.block_actions("change.assess", str(change(db).id), user_id="U0LEAD", team_id=TEAM,
                                              channel_id="C0INTERNAL", response_url=url))
    assert ack.status == 200
    told = project.fake.wait_for("response_url", timeout=5, where=lambda c: url.endswith(c.url))[0].args
    assert "didn't open the form" in told["text"] and "/change assess CR-1" in told["text"]
    assert told["replace_original"] is False and change(db).state == "submitted"


def test_a_form_naming_an_internal_channel_its_submitter_is_not_in_files_nothing(project, db):
    """A form's channel is what it was opened with, not Slack's word (as a command's channel is): pat, in our
    organisation but in none of the project's channels, gets nothing by naming #acme-internal."""
    from bot.render import changes as render

    view = render.file_modal("C0INTERNAL", None, "Acme Website")
    refused = project.submit(view, {"title": "Sneaky change"}, user="U0OTHER")
    assert refused.json["response_action"] == "errors"
    assert "not on the team of `acme`" in json.dumps(refused.json["errors"])
    assert count(db, ChangeRequest) == 0
    ok = project.submit(view, {"title": "A real change"}, user="U0TEAM")  # sam is in #acme-internal
    assert ok.status == 200 and ok.body == "" and change(db).title == "A real change"


def test_reassessing_keeps_internal_notes_internal_unless_the_team_says_otherwise(project, db):
    project.command("Add a blog", name="/change")
    project.command("assess CR-1 days=2 cost=12345.67 currency=EUR internal=yes Our margin is thin", name="/change")
    project.jobs.drain()
    [internal] = cards_in(project, "C0INTERNAL")
    view = open_form(project, "change.assess", str(change(db).id), message_ts=internal.ts)
    assert project.submit(view, {"days": "3"}).body == ""  # only the days changed; the rest as the form showed it
    cr = change(db)
    assert (cr.days, cr.cost_cents, cr.notes_internal, cr.notes) == (3, 1234567, True, "Our margin is thin")
    project.command("assess CR-1 days=4 cost=1 currency=EUR Still thin", name="/change")  # no internal=: kept
    assert change(db).notes_internal is True
    project.jobs.drain()
    [client] = cards_in(project, "C0SHARED")
    assert "thin" not in shown(latest(project, "C0SHARED", client.ts))


def test_withdrawing_one_of_two_approvals_of_a_milestone_takes_back_its_own_days_only(project, db):
    milestone(project)  # Fri 04 Dec
    for title, days in (("Add search", 3), ("Add chat", 2)):
        project.command(title, name="/change")
    for number, days in ((1, 3), (2, 2)):
        project.command(f"assess CR-{number} days={days} cost=0 currency=EUR milestones={mid(db)}", name="/change")
        project.command(f"approve CR-{number} override=yes Agreed on the call", name="/change")
    assert due_of(db, "Design sign-off") == date(2026, 12, 11)  # + 3 + 2 working days
    project.command("withdraw CR-1 Not needed", name="/change")
    assert due_of(db, "Design sign-off") == date(2026, 12, 8)  # CR-2's 2 working days stay
    project.jobs.drain()
    card = shown(latest(project, "C0INTERNAL", cards_in(project, "C0INTERNAL")[0].ts))
    assert "Moved:" not in card  # what it moved was taken back


def test_the_budget_keeps_the_currency_the_requests_were_assessed_in(project, db):
    assert "48,000 EUR" in project.command('edit budget="48000 EUR"').text
    project.command("Add a map", name="/change")
    project.command("assess CR-1 days=1 cost=500 currency=EUR", name="/change")
    refused = project.command('edit budget="50000 USD"')
    assert "assessed in EUR" in refused.text
    assert "50,000 EUR" in project.command('edit budget="50000 EUR"').text  # the amount may change
