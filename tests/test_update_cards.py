"""A client's words are never rewritten: only the author edits, the lead can hide (with a reason, audited), and
every card posted for an update follows it: changed in place when edited or hidden, removed when deleted."""
from __future__ import annotations

import json

from sqlalchemy import select

from bot import payloads
from storage.models import AuditEntry, Card, Update
from tests.conftest import TEAM
from tests.helpers import count


def client_says(app, text: str, ts: str = "1764000000.000700") -> Update:
    event = {"type": "app_mention", "user": "U0CLIENT", "text": f"<@U0LIAISON> update: {text}", "channel": "C0SHARED",
             "ts": ts}
    assert app.send(payloads.event(event, team_id=TEAM)).status == 200
    app.jobs.drain()
    with app.rt.db.read() as session:
        return session.scalars(select(Update).order_by(Update.id.desc())).first()


def calls(app, method: str) -> list[dict]:
    return [c.args for c in app.fake.calls_to(method) if not c.failed]


def test_the_lead_cannot_rewrite_a_clients_words_and_the_digest_keeps_them(project, db):
    u = client_says(project, "We are NOT happy with the delays")
    reply = project.command(f"edit {u.id} We are happy", name="/update")
    assert "can change its words" in reply.text
    project.jobs.drain()
    assert calls(project, "chat.update") == []
    with db.read() as session:
        assert session.get(Update, u.id).text == "We are NOT happy with the delays"
    digest = project.command("digest preview", channel="C0SHARED").text
    assert "We are NOT happy with the delays" in digest and "We are happy" not in digest.replace("NOT happy", "")


def test_the_lead_hides_an_update_with_a_reason_audited_and_its_card_says_so(project, db):
    u = client_says(project, "Please call me on +44 7700 900123")
    [(channel, ts)] = [(card.channel_id, card.ts) for card in db_cards(db)]
    assert channel == "C0SHARED"
    assert "Say why" in project.command(f"hide {u.id}", name="/update").text
    assert "hidden" in project.command(f"hide {u.id} Personal phone number", name="/update").text
    project.jobs.drain()
    [update] = calls(project, "chat.update")
    assert (update["channel"], update["ts"]) == (channel, ts)
    shown = json.dumps(update)
    assert "hidden by <@U0LEAD>" in shown and "Personal phone number" in shown and "7700" not in shown
    assert "7700" not in project.command("digest preview", channel="C0SHARED").text
    assert "7700" not in project.command("list", name="/update").text
    with db.read() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "update.hide"))
        assert "7700" in entry.detail["text"] and entry.detail["reason"] == "Personal phone number"
    refused = project.command(f"hide {u.id} again", name="/update", user="U0TEAM")
    assert "Only project leads" in refused.text


def only_update(db) -> Update:
    with db.read() as session:
        return session.scalars(select(Update)).one()


def db_cards(db) -> list[Card]:  # the cards of updates
    with db.read() as session:
        return list(session.scalars(select(Card).where(Card.kind == "update").order_by(Card.id)))


def test_an_edited_update_says_edited_on_its_card_in_lists_and_in_the_digest(project, db):
    project.command("share=yes Staging is live", name="/update")
    project.jobs.drain()
    [card] = db_cards(db)
    u = only_update(db)
    project.command(f"edit {u.id} Staging is live for review", name="/update")
    project.jobs.drain()
    [update] = calls(project, "chat.update")
    assert (update["channel"], update["ts"]) == (card.channel_id, card.ts)
    assert "Staging is live for review" in json.dumps(update) and "edited" in json.dumps(update)
    assert "(edited)" in project.command("list", name="/update").text
    assert "(edited)" in project.command("digest preview", channel="C0SHARED").text


def test_deleting_an_update_removes_its_card(project, db):
    project.command("Oops, wrong project", name="/update")
    project.jobs.drain()
    [card] = db_cards(db)
    u = only_update(db)
    assert "deleted" in project.command(f"delete {u.id}", name="/update").text
    project.jobs.drain()
    assert [(d["channel"], d["ts"]) for d in calls(project, "chat.delete")] == [(card.channel_id, card.ts)]
    assert db_cards(db) == []


def test_a_card_slack_refuses_to_change_is_reported_and_the_change_stays(project, db):
    project.command("Draft note", name="/update")
    project.jobs.drain()
    u = only_update(db)
    project.fake.fail_next("chat.update", error="cant_update_message")
    reply = project.command(f"edit {u.id} Final note", name="/update")
    assert "edited" in reply.text
    project.jobs.drain()
    told = [json.dumps(c.args) for c in project.fake.calls_to("response_url")]
    assert any("didn't let me change its card" in t for t in told)
    assert count(db, Update, Update.text == "Final note") == 1


def test_an_edit_made_while_the_card_is_being_posted_still_reaches_the_card(project, db):
    """Jobs run side by side: the refresh of an edit can run before the card it should change is remembered.
    The card then shows the edit all the same."""
    project.fake.latency = 0.3  # Slack is slow: the card is still on its way when the edit is made
    try:
        assert "Logged" in project.command("Staging is live", name="/update").text
        with db.read() as session:
            [u] = session.scalars(select(Update))
        assert "edited" in project.command(f"edit {u.id} Staging is live for review", name="/update").text
        project.jobs.drain()
    finally:
        project.fake.latency = 0.0
    [posted] = [c for c in project.fake.calls_to("chat.postMessage") if c.args["channel"] == "C0INTERNAL"]
    shown = [c.args for c in project.fake.calls if c.method in ("chat.postMessage", "chat.update")
             and c.args.get("channel") == "C0INTERNAL"]
    assert "for review" in json.dumps(shown[-1]["blocks"])
    assert all(c.args["ts"] == posted.ts for c in project.fake.calls_to("chat.update"))
