"""Client feedback and its follow-ups through the real app (signed requests, the Slack stub), on SQLite and
PostgreSQL: recorded by the team (command, form) and by the client (mention, stored and thanked once however often
Slack delivers it); listed for the team only; a low score or a complaint raises an alert card in the internal
channel only, resolved with a note from its button's form (once: a second press is told who was first), handed on,
and reminded to its owner once each working day after two until resolved; and every refusal."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot import payloads
from bot.services import followups
from handlers import feedback as feedback_handlers
from scheduler import service
from scheduler.followups import KIND
from storage.models import AuditEntry, Delivery, Feedback, FollowUp, Project, Survey, SurveyAnswer, Workspace
from tests.conftest import TEAM
from tests.helpers import count, mention, ticks_at_once

CASEY = "<@U0CLIENT|casey>"


def shown(payload) -> str:
    return json.dumps(payload, ensure_ascii=False)


def day(month: int, d: int, hour: int = 9, minute: int = 5) -> datetime:
    return datetime(2026, month, d, hour, minute, tzinfo=UTC)  # London is on UTC in winter


def fb(app, text: str, *, user: str = "U0LEAD", channel: str = "C0INTERNAL"):
    return app.command(text, name="/feedback", user=user, channel=channel)


def alert_cards(app, channel: str | None = None) -> list:
    """The follow-up cards posted (not in a thread, not a direct message), oldest first."""
    return [c for c in app.fake.calls_to("chat.postMessage")
            if not c.failed and c.args.get("text", "").startswith("F-") and "thread_ts" not in c.args
            and c.args["channel"].startswith("C") and (channel is None or c.args["channel"] == channel)]


def latest(app, channel: str, ts: str) -> dict:
    updates = [c for c in app.fake.calls_to("chat.update") if (c.args["channel"], c.args["ts"]) == (channel, ts)]
    if updates:
        return updates[-1].args
    return next(c.args for c in app.fake.calls_to("chat.postMessage") if c.ts == ts)


def the_feedback(db) -> list[Feedback]:
    with db.read() as session:
        return list(session.scalars(select(Feedback).order_by(Feedback.id)))


def follow_up(db, follow_up_id: int | None = None) -> FollowUp:
    with db.read() as session:
        query = select(FollowUp).order_by(FollowUp.id.desc())  # the latest
        if follow_up_id is not None:
            query = query.where(FollowUp.id == follow_up_id)
        return session.scalars(query).first()


def audited(db, prefix: str) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like(f"{prefix}%"))
                                    .order_by(AuditEntry.id)))


def project_id(db, key: str = "acme") -> int:
    with db.read() as session:
        return session.scalar(select(Project.id).where(Project.key == key))


def open_form(app, value: str, *, user: str = "U0LEAD", channel: str = "C0INTERNAL", message_ts: str | None = None):
    """Press Resolved with `value`; the form Slack was asked to open."""
    before = len(app.fake.calls_to("views.open"))
    ack = app.send(payloads.block_actions("followup.resolve", value, user_id=user, team_id=TEAM, channel_id=channel,
                                          message_ts=message_ts, response_url=app.fake.response_url(channel, user)))
    assert ack.status == 200 and ack.body == ""
    return app.fake.wait_for("views.open", count=before + 1, timeout=5)[-1].args["view"]


def low_score(app, db, text: str = "The launch slipped again and nobody told us", score: int = 2) -> FollowUp:
    reply = fb(app, f"score={score} from={CASEY} {text}")
    assert "Recorded feedback from <@U0CLIENT>" in reply.text, reply.text
    app.jobs.drain()
    return follow_up(db)


def snapshot(db) -> tuple:
    with db.read() as session:
        return (session.execute(select(FollowUp.id, FollowUp.owner_id, FollowUp.resolved_at, FollowUp.resolution)
                                .order_by(FollowUp.id)).all(),
                session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)))


# -- recording -------------------------------------------------------------------------------------------------------
def test_the_team_records_feedback_heard_on_a_call_attributed_to_a_client_person(project, db):
    reply = fb(project, "score=4 Happy with the new design")
    assert "Who said it? Add `from=@person`" in reply.text and count(db, Feedback) == 0
    assert "is on the team" in fb(project, "score=4 from=<@U0TEAM|sam> Happy").text
    reply = fb(project, f"score=4 from={CASEY} Happy with the new design, said so on the Tuesday call")
    assert "Recorded feedback from <@U0CLIENT> on `acme` (score 4/5)." in reply.text
    assert "follow-up" not in reply.text  # a good score raises nothing
    # With exactly one person on the client's side, `from=` may be left out.
    assert "client" in project.command("role <@U0CLIENT> client").text
    assert "Recorded feedback from <@U0CLIENT>" in fb(project, "Liked the demo").text
    project.jobs.drain()
    rows = the_feedback(db)
    assert [(r.from_user, r.score, r.complaint, r.source, r.logged_by) for r in rows] == [
        ("U0CLIENT", 4, False, "command", "U0LEAD"), ("U0CLIENT", None, False, "command", "U0LEAD")]
    assert count(db, FollowUp) == 0 and alert_cards(project) == []
    assert audited(db, "feedback.") == ["feedback.log", "feedback.log"]


def test_a_low_score_raises_an_alert_card_in_the_internal_channel_only(project, db):
    reply = fb(project, f"score=2 from={CASEY} The launch slipped again and nobody told us")
    row = follow_up(db)
    assert f"It raised follow-up *F-{row.id}*, owned by <@U0LEAD>" in reply.text
    assert (row.source, row.owner_id, row.resolved_at) == ("feedback", "U0LEAD", None)
    assert row.record_id == the_feedback(db)[0].id
    project.jobs.drain()
    [card] = alert_cards(project)
    assert card.args["channel"] == "C0INTERNAL"
    text = shown(card.args)
    for words in (f"F-{row.id}: Low score (2/5) from <@U0CLIENT>", "The launch slipped again", "<@U0LEAD>",
                  "recorded with `/feedback` by <@U0LEAD>"):
        assert words in text, words
    assert [b["text"]["text"] for b in payloads.buttons(card.args)] == ["Resolved"]
    assert not [c for c in project.fake.calls_to("chat.postMessage") if c.args.get("channel") == "C0SHARED"]
    assert audited(db, "f") == ["feedback.log", "followup.open"]


def test_a_complaint_raises_an_alert_whatever_the_score_and_a_middling_score_does_not(project, db):
    fb(project, f"score=3 from={CASEY} Fine, I suppose")
    assert count(db, FollowUp) == 0
    fb(project, f"score=4 from={CASEY} complaint=yes Invoices keep going to the wrong address")
    project.jobs.drain()
    [card] = alert_cards(project, "C0INTERNAL")
    assert "Complaint from <@U0CLIENT>" in card.args["text"] and "wrong address" in shown(card.args)
    assert count(db, FollowUp) == 1 and alert_cards(project, "C0SHARED") == []


def test_the_form_records_feedback_and_says_what_is_wrong_beside_the_field(project, db):
    ack = project.command("", name="/feedback", answer=False)
    assert ack.status == 200 and ack.body == ""
    view = project.fake.wait_for("views.open", timeout=5)[0].args["view"]
    empty = project.submit(view, {"from": "U0CLIENT", "text": "  "})
    assert empty.json["response_action"] == "errors" and "text" in empty.json["errors"]
    long = project.submit(view, {"from": "U0CLIENT", "text": "x" * 3001})
    assert "keep it to 3,000" in long.json["errors"]["text"]
    team = project.submit(view, {"from": "U0TEAM", "text": "Sam said it"})
    assert "is on the team" in team.json["errors"]["from"]
    assert count(db, Feedback) == 0
    ok = project.submit(view, {"from": "U0CLIENT", "score": "1", "complaint": "yes",
                               "text": "The site was down during their board meeting"})
    assert ok.status == 200 and ok.body == ""
    [row] = the_feedback(db)
    assert (row.from_user, row.score, row.complaint, row.source) == ("U0CLIENT", 1, True, "form")
    project.jobs.drain()
    [card] = alert_cards(project)
    assert card.args["channel"] == "C0INTERNAL" and "board meeting" in shown(card.args)
    told = project.fake.wait_for("chat.postEphemeral", timeout=5)[-1].args
    assert "Recorded feedback" in shown(told) and told["user"] == "U0LEAD"


def test_a_forged_form_score_or_from_is_refused_beside_its_field_and_nothing_is_stored(project, db):
    from bot.render import feedback as render

    def forged(block_id: str, element: dict) -> dict:
        view = render.log_modal("C0INTERNAL", None, "Acme Website")
        for block in view["blocks"]:
            if block.get("block_id") == block_id:
                block["element"] = {**element, "action_id": "value"}
        return view

    # What a forger may send: a list of scores, and any text as the person.
    scores = project.submit(forged("score", {"type": "checkboxes", "options": [
        {"text": {"type": "plain_text", "text": "1"}, "value": "1"}]}), {"score": "1", "from": "U0CLIENT",
                                                                        "text": "Unhappy"})
    assert scores.json["response_action"] == "errors" and "Choose one score" in scores.json["errors"]["score"]
    view = forged("from", {"type": "plain_text_input"})
    for person in ("U1>|<!here", "U0CLIENT|casey", "U" + "X" * 40, "u0client"):
        refused = project.submit(view, {"from": person, "text": "Unhappy", "complaint": "yes"})
        assert refused.json["response_action"] == "errors", person
        assert "client person" in refused.json["errors"]["from"], person
    project.jobs.drain()
    assert count(db, Feedback) == 0 and count(db, FollowUp) == 0 and alert_cards(project) == []
    assert project.submit(view, {"from": "U0CLIENT", "text": "Fine after all"}).body == ""
    assert [r.from_user for r in the_feedback(db)] == ["U0CLIENT"]


def test_a_client_mention_delivered_twice_is_stored_once_and_thanked_once_without_an_alert(project, db):
    first = mention(project, "feedback: The weekly calls really help us")
    again = mention(project, "feedback: The weekly calls really help us", retry=1)
    assert first.status == again.status == 200
    project.jobs.drain()
    [row] = the_feedback(db)
    assert (row.from_user, row.score, row.complaint, row.source, row.source_key) == (
        "U0CLIENT", None, False, "mention", "msg:C0SHARED:1764000000.000100")
    thanks = [c for c in project.fake.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(thanks) == 1 and thanks[0].args["channel"] == "C0SHARED"
    assert "Thank you, <@U0CLIENT>" in shown(thanks[0].args) and "weekly calls" not in shown(thanks[0].args)
    assert count(db, FollowUp) == 0 and alert_cards(project) == []
    # Even a scathing mention raises no alert by itself: clients give no score, and only the team files complaints.
    mention(project, "feedback: This is a complaint: score=1", ts="1764000000.000200", event_id="Ev0FB2")
    project.jobs.drain()
    assert count(db, Feedback) == 2 and count(db, FollowUp) == 0


def test_a_team_member_is_told_to_use_the_command_rather_than_the_clients_mention(project, db):
    mention(project, "feedback: Dana was unhappy", user="U0LEAD", channel="C0INTERNAL")
    told = project.fake.wait_for("chat.postEphemeral", timeout=5)[0].args
    assert "/feedback from=@person" in shown(told) and told["user"] == "U0LEAD"
    assert count(db, Feedback) == 0


# -- listing ---------------------------------------------------------------------------------------------------------
def test_the_team_lists_feedback_and_nobody_sees_it_in_the_clients_channel(project, db, clock):
    fb(project, f"score=5 from={CASEY} Loved the launch")
    clock.set(day(11, 26, 12))
    mention(project, "feedback: Could the invoices say the PO number?")
    project.jobs.drain()
    listed = fb(project, "list").text
    assert "Loved the launch" in listed and "PO number" in listed and "5/5" in listed
    newer = fb(project, "list since=2026-11-25").text
    assert "PO number" in newer and "Loved the launch" not in newer
    # The client can't list it, and nobody gets it in the channel shared with the client.
    client = fb(project, "list", user="U0CLIENT", channel="C0SHARED").text
    assert "Only the delivery team can list feedback" in client and "Loved" not in client
    team_there = fb(project, "list", channel="C0SHARED").text
    assert "shared with the client" in team_there and "Loved" not in team_there
    for sub in ("followups", "resolve F-1 note", f"owner F-1 {CASEY}"):
        assert "Loved" not in fb(project, sub, user="U0CLIENT", channel="C0SHARED").text
    assert "`/feedback` is for the delivery team" in fb(project, "score=5 Great", user="U0CLIENT",
                                                         channel="C0SHARED").text
    assert count(db, Feedback) == 2


# -- refusals --------------------------------------------------------------------------------------------------------
def test_scores_out_of_range_and_overlong_texts_are_refused_and_nothing_is_stored(project, db):
    for score in ("0", "6", "abc", "2.5", "-1"):
        reply = fb(project, f"score={score} from={CASEY} Meh")
        assert "isn't a score: give a whole number from 1" in reply.text, (score, reply.text)
    reply = fb(project, f"from={CASEY} " + "x" * 10_000)
    assert "10,000 characters long" in reply.text and "keep it to 3,000" in reply.text
    # Slack's count: `&` is five characters to Slack, so 700 of them are 3,500.
    assert "3,500 characters long as Slack counts them" in fb(project, f"from={CASEY} " + "&" * 700).text
    assert "must be `yes` or `no`" in fb(project, f"complaint=maybe from={CASEY} Hm").text
    mention(project, "feedback: " + "y" * 10_000)
    told = project.fake.wait_for("chat.postEphemeral", timeout=5)[0].args
    assert "keep it to 3,000" in shown(told)
    project.jobs.drain()
    assert count(db, Feedback) == 0 and count(db, FollowUp) == 0 and audited(db, "f") == []


# -- resolving -------------------------------------------------------------------------------------------------------
def test_resolved_opens_a_form_whose_note_resolves_it_and_changes_the_card_in_place(project, db):
    row = low_score(project, db)
    [card] = alert_cards(project)
    view = open_form(project, str(row.id), message_ts=card.ts)
    assert view["callback_id"] == "followup-resolve" and f"F-{row.id}" in shown(view)
    empty = project.submit(view, {"note": " "})
    assert empty.json["response_action"] == "errors" and "note" in empty.json["errors"]
    assert follow_up(db).resolved_at is None
    ok = project.submit(view, {"note": "Called Casey; we send a weekly plan from now on"}, user="U0TEAM")
    assert ok.status == 200 and ok.body == ""
    done = follow_up(db)
    assert (done.resolved_by, done.resolution) == ("U0TEAM", "Called Casey; we send a weekly plan from now on")
    project.jobs.drain()
    now = latest(project, "C0INTERNAL", card.ts)
    assert "Resolved by <@U0TEAM>" in shown(now) and "weekly plan" in shown(now)
    assert payloads.buttons(now) == [] and len(alert_cards(project)) == 1  # changed in place, not posted again
    assert audited(db, "followup.") == ["followup.open", "followup.resolve"]


def test_a_second_press_or_a_second_form_is_told_who_resolved_it_first(project, db):
    row = low_score(project, db)
    [card] = alert_cards(project)
    first = open_form(project, str(row.id), message_ts=card.ts)
    second = open_form(project, str(row.id), user="U0TEAM", message_ts=card.ts)
    assert project.submit(first, {"note": "Apologised and credited a day"}).body == ""
    late = project.submit(second, {"note": "Me too"}, user="U0TEAM")
    assert late.json["response_action"] == "errors"
    assert "already resolved by <@U0LEAD>" in late.json["errors"]["note"]
    opened = len(project.fake.calls_to("views.open"))
    again = project.press_value("followup.resolve", str(row.id), user="U0TEAM", message_ts=card.ts)
    assert f"F-{row.id} was already resolved by <@U0LEAD>" in again.text
    assert again.json["replace_original"] is False
    project.rt.outbox.drain()
    assert len(project.fake.calls_to("views.open")) == opened
    assert "already resolved" in fb(project, f"resolve F-{row.id} Once more").text
    assert follow_up(db).resolution == "Apologised and credited a day"
    assert audited(db, "followup.") == ["followup.open", "followup.resolve"]


def test_the_command_resolves_reassigns_and_lists_open_follow_ups(project, db):
    row = low_score(project, db)
    fb(project, f"score=5 complaint=yes from={CASEY} Happy overall but the invoices are wrong")
    project.jobs.drain()
    listed = fb(project, "followups").text
    assert f"F-{row.id}" in listed and f"F-{row.id + 1}" in listed and "owner <@U0LEAD>" in listed

    # Handed on: the card shows the new owner, who hears of it by direct message.
    assert f"F-{row.id} is now owned by <@U0TEAM> (was <@U0LEAD>)." in fb(
        project, f"owner F-{row.id} <@U0TEAM|sam>").text
    assert follow_up(db, row.id).owner_id == "U0TEAM"
    project.jobs.drain()
    card = alert_cards(project)[0]
    assert "<@U0TEAM>" in shown(latest(project, "C0INTERNAL", card.ts)["blocks"][1])
    dm = [c for c in project.fake.calls_to("chat.postMessage") if c.args["channel"] == "U0TEAM"]
    assert len(dm) == 1 and "handed you" in shown(dm[0].args)
    assert "already <@U0TEAM>'s" in fb(project, f"owner F-{row.id} <@U0TEAM|sam>").text
    assert "isn't on the team of `acme`" in fb(project, f"owner F-{row.id} <@U0CLIENT|casey>").text
    assert "isn't on the team of `acme`" in fb(project, f"owner F-{row.id} <@U0OTHER|pat>").text
    assert "Name the new owner" in fb(project, f"owner F-{row.id} sam").text
    assert "has no follow-up F-99999" in fb(project, "resolve F-99999 Done").text
    assert "Say what was done" in fb(project, f"resolve F-{row.id}").text

    assert f"Resolved F-{row.id}" in fb(project, f"resolve F-{row.id} Sent a revised plan").text
    assert "already resolved" in fb(project, f"owner F-{row.id} <@U0LEAD|alex>").text
    listed = fb(project, "followups").text
    assert f"F-{row.id}*" not in listed and f"F-{row.id + 1}" in listed
    assert audited(db, "followup.") == ["followup.open", "followup.open", "followup.reassign", "followup.resolve"]


def test_a_survey_answer_raises_the_same_card_with_its_score_and_comment_but_not_its_author(project, db):
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    with project.rt.db.transaction() as session:
        survey = Survey(project_id=project_id(db), occurrence="now:test", channel_id="C0SHARED", opened_at=now,
                        closes_at=now + timedelta(days=7))
        session.add(survey)
        session.flush()
        answer = SurveyAnswer(survey_id=survey.id, user_id="U0CLIENT", score=1,
                              comment="Too slow to answer our e-mails", answered_at=now)
        session.add(answer)
        session.flush()
        follow_up_id = followups.open_for(session, project_id(db), "survey", answer.id, now)
        assert feedback_handlers.post_alert(project.rt, session, project_id(db), follow_up_id)
    project.jobs.drain()
    [card] = alert_cards(project)
    text = shown(card.args)
    assert card.args["channel"] == "C0INTERNAL"
    assert "Low survey score (1/5)" in text and "Too slow to answer our e-mails" in text
    assert "U0CLIENT" not in text  # answers are anonymous
    view = open_form(project, str(follow_up_id), message_ts=card.ts)
    project.submit(view, {"note": "Named a second contact for e-mail"})
    project.jobs.drain()
    assert "Resolved by <@U0LEAD>" in shown(latest(project, "C0INTERNAL", card.ts))


# -- forged button values --------------------------------------------------------------------------------------------
def test_made_up_values_and_other_workspaces_follow_ups_are_not_found(project, db):
    row = low_score(project, db)
    before = snapshot(db)
    for value in ("abc", "", "0", "-1", "9" * 40, str(row.id + 1), f"{row.id}:1"):
        answer = project.press_value("followup.resolve", value)
        assert "names a follow-up I can't find" in answer.text, value
    with db.transaction() as session:  # the same follow-up, now in a project of another workspace
        session.add(Workspace(team_id="T0ELSEWHERE", name="Elsewhere", created_at=datetime.now(UTC)))
        session.flush()
        session.execute(update(Project).where(Project.key == "acme").values(team_id="T0ELSEWHERE"))
    assert "can't find" in project.press_value("followup.resolve", str(row.id)).text
    project.rt.outbox.drain()
    assert snapshot(db) == before and project.fake.calls_to("views.open") == []


def test_a_value_naming_another_projects_follow_up_is_checked_against_that_project(project, db):
    assert "Created" in project.command("create key=side Side project", user="U0OTHER", channel="C0GENERAL").text
    fb(project, f"score=1 from={CASEY} Their grievance", user="U0OTHER", channel="C0GENERAL")
    ours = low_score(project, db, "Our grievance")
    with db.read() as session:
        theirs = session.scalar(select(FollowUp.id).where(FollowUp.project_id == project_id(db, "side")))
    before = snapshot(db)
    answer = project.press_value("followup.resolve", str(ours.id), user="U0OTHER", channel="C0GENERAL")
    assert "not on the team of `acme`" in answer.text and "Our grievance" not in answer.text
    answer = project.press_value("followup.resolve", str(theirs), user="U0CLIENT", channel="C0SHARED")
    assert "There is no project `side`" in answer.text and "Their grievance" not in answer.text
    answer = project.press_value("followup.resolve", str(ours.id), user="U0CLIENT", channel="C0SHARED")
    assert "Only the delivery team can resolve follow-ups" in answer.text
    # A form whose metadata names another project's follow-up is refused beside the note.
    from bot.render import feedback as render

    card = followups.FollowUpCard(theirs, project_id(db), "acme", "Acme Website", "UTC", "U0LEAD",
                                  datetime.now(UTC), None, None, None,
                                  followups.Origin("feedback", 1, 1, False, "x", "U0CLIENT", "U0LEAD", "command", None))
    forged = project.submit(render.resolve_modal(card, "C0INTERNAL"), {"note": "Sneaky"})
    assert forged.json["response_action"] == "errors" and "isn't one of this project's" in shown(forged.json)
    project.rt.outbox.drain()
    assert snapshot(db) == before and project.fake.calls_to("views.open") == []


# -- reminders -------------------------------------------------------------------------------------------------------
def reminders(app, since: int = 0) -> list[dict]:
    """The follow-up reminders sent by direct message, from the `since`-th on."""
    return [c.args for c in app.fake.calls_to("chat.postMessage")
            if not c.failed and c.args["channel"].startswith("U") and c.args["text"].startswith("F-")][since:]


def test_the_owner_is_reminded_after_two_working_days_once_each_working_day_until_resolved(project, db, clock):
    project.command("schedule off")  # only reminders go out
    row = low_score(project, db)  # opened on Tuesday 24 November, 10:00
    project.fake.clear()
    seen: dict[str, list[dict]] = {}
    for d in range(25, 31):
        clock.set(day(11, d))
        before = len(reminders(project))
        if d == 27:
            ticks_at_once(project, db, clock)  # four schedulers at once: still one reminder
        service.tick(project.rt)
        service.tick(project.rt)
        seen[f"11-{d}"] = reminders(project, before)
    clock.set(day(12, 1, 8, 55))
    assert service.tick(project.rt).sent == 0  # not before 09:00 in London
    # Handed on before Tuesday's reminder: it goes to the new owner.
    assert "now owned by <@U0TEAM>" in fb(project, f"owner F-{row.id} <@U0TEAM|sam>").text
    clock.set(day(12, 1))
    before = len(reminders(project))
    service.tick(project.rt)
    seen["12-01"] = reminders(project, before)

    # Wednesday and Thursday are its first two working days, Friday the third: reminded; never at the weekend.
    assert [d for d, sent in seen.items() if sent] == ["11-27", "11-30", "12-01"]
    assert all(len(seen[d]) == 1 for d in ("11-27", "11-30", "12-01"))
    assert [seen[d][0]["channel"] for d in ("11-27", "11-30", "12-01")] == ["U0LEAD", "U0LEAD", "U0TEAM"]
    friday = shown(seen["11-27"][0])
    for words in (f"F-{row.id}", "Acme Website", "open for 3 working days", "Low score (2/5) from <@U0CLIENT>",
                  "The launch slipped again", f"/feedback resolve F-{row.id}"):
        assert words in friday, words
    assert [b["text"]["text"] for b in payloads.buttons(seen["11-27"][0])] == ["Resolved"]
    assert "open for 4 working days" in shown(seen["11-30"][0])
    assert not [c for c in project.fake.calls_to("chat.postMessage") if c.args["channel"] == "C0SHARED"]

    # Resolved: no more reminders.
    clock.set(day(12, 1, 11))
    fb(project, f"resolve F-{row.id} Weekly plan agreed", user="U0TEAM")
    before = len(reminders(project))
    for d in (2, 3):
        clock.set(day(12, d))
        service.tick(project.rt)
    assert reminders(project, before) == []
    with db.read() as session:
        rows = session.execute(select(Delivery.occurrence, Delivery.subject, Delivery.channel_id, Delivery.state)
                               .where(Delivery.kind == KIND).order_by(Delivery.id)).all()
    assert [(r.occurrence, r.channel_id) for r in rows] == [
        (f"fu{row.id}@2026-11-27", "U0LEAD"), (f"fu{row.id}@2026-11-30", "U0LEAD"),
        (f"fu{row.id}@2026-12-01", "U0TEAM")]
    assert {(r.subject, r.state) for r in rows} == {(f"followup:{row.id}", "sent")}


def test_a_follow_up_resolved_within_two_working_days_is_never_reminded(project, db, clock):
    project.command("schedule off")
    row = low_score(project, db)
    clock.set(day(11, 26, 15))
    fb(project, f"resolve F-{row.id} Sorted on the phone")
    for d in (27, 30):
        clock.set(day(11, d))
        service.tick(project.rt)
    assert reminders(project) == []


def test_an_owner_given_a_client_role_is_not_reminded_and_the_leads_are_instead(project, db, clock):
    project.command("schedule off")
    row = low_score(project, db, "The CFO wants to cancel")  # Tuesday 24 November
    assert "now owned by <@U0TEAM>" in fb(project, f"owner F-{row.id} <@U0TEAM|sam>").text
    assert "is now client of `acme`" in project.command("role <@U0TEAM> client").text
    project.jobs.drain()
    project.fake.clear()
    clock.set(day(11, 27))  # its reminder day
    service.tick(project.rt)
    service.tick(project.rt)
    assert [c for c in project.fake.calls_to("chat.postMessage") if c.args["channel"] == "U0TEAM"] == []
    [sent] = reminders(project)
    assert sent["channel"] == "U0LEAD" and "The CFO wants to cancel" in shown(sent)
    with db.read() as session:
        rows = session.execute(select(Delivery.occurrence, Delivery.channel_id).where(Delivery.kind == KIND)).all()
    assert [tuple(r) for r in rows] == [(f"fu{row.id}@2026-11-27", "U0LEAD")]
    # Back on the team: reminded again from the next working day.
    assert "<@U0TEAM> is now" in project.command("role <@U0TEAM> team").text
    clock.set(day(11, 30))
    service.tick(project.rt)
    assert [r["channel"] for r in reminders(project)] == ["U0LEAD", "U0TEAM"]
