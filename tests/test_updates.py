"""/update, @Liaison update: and the message shortcut, through signed requests against the real app."""
from __future__ import annotations

import json
import threading
import urllib.parse

import pytest
from sqlalchemy import select

from bot import payloads
from bot.services.updates import current_status
from storage.models import AuditEntry, Project, Update
from tests.conftest import TEAM
from tests.helpers import count, mention, posts


def status(db, audience: str) -> tuple[str | None, int | None]:
    """The project's health and progress as a digest for this audience would show them."""
    with db.read() as session:
        project_id = session.scalar(select(Project.id))
        return current_status(session, [project_id], audience)[project_id]


def stored(db) -> list[Update]:
    with db.read() as session:
        return list(session.scalars(select(Update).order_by(Update.id)))


def test_update_in_internal_channel_is_internal_sets_health_and_shows_a_card(project, db):
    reply = project.command("status=amber progress=40 Waiting on copy <!channel>", name="/update")
    assert reply.json["response_type"] == "ephemeral" and "Logged update `#" in reply.text
    # The card is posted to the channel (so that it can change in place later), not an in_channel answer.
    [card] = posts(project.fake, "C0INTERNAL", timeout=5)
    assert "Waiting on copy" in card and "40%" in card and "internal only" in card
    assert "<!channel>" not in card and "Waiting on copy @channel" in card  # a word, never a ping
    [u] = stored(db)
    assert (u.visibility, u.health, u.progress, u.source) == ("internal", "amber", 40, "command")
    assert status(db, "internal") == ("amber", 40) and status(db, "client") == (None, None)
    assert count(db, AuditEntry, AuditEntry.action == "update.log") == 1


def test_shared_update_and_client_channel_update_are_client_visible(project, db):
    project.command("share=yes status=green Design signed off", name="/update")
    project.command("Homepage live on staging", name="/update", channel="C0SHARED")
    assert [u.visibility for u in stored(db)] == ["client", "client"]
    assert status(db, "client")[0] == "green"


@pytest.mark.parametrize("text, says", [
    ("", "Say what happened"),
    ("status=green", "Say what happened"),
    ("progress=140 Nearly there", "0 to 100"),
    ("progress=abc Nearly there", "0 to 100"),
    ("status=purple Odd", "isn't a status"),
    ("share=maybe Hmm", "`yes` or `no`"),
    ("colour=red Hmm", "has no option"),
])
def test_bad_update_input_is_refused_ephemerally_and_nothing_is_stored(project, db, text, says):
    reply = project.command(text, name="/update")
    assert reply.json["response_type"] == "ephemeral" and says in reply.text
    assert stored(db) == []


def test_update_outside_a_bound_channel_says_how(project, db):
    reply = project.command("Did things", name="/update", channel="C0GENERAL")
    assert "isn't linked" in reply.text and stored(db) == []
    reply = project.command("project=acme Did things", name="/update", channel="C0GENERAL")
    assert reply.json["response_type"] == "ephemeral" and len(stored(db)) == 1


def test_client_logs_by_mention_once_however_many_deliveries(project, db):
    replies: list = []
    threads = [threading.Thread(target=lambda r=r: replies.append(mention(project, "update: Copy is attached",
                                                                           retry=r)))
               for r in (None, 1, 1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status for r in replies} == {200}
    [u] = stored(db)
    assert (u.author_id, u.visibility, u.source, u.text) == ("U0CLIENT", "client", "mention", "Copy is attached")
    project.jobs.drain()
    assert len([p for p in posts(project.fake, "C0SHARED") if "Copy is attached" in p]) == 1


def test_client_cannot_set_status_by_mention_and_is_told(project, db):
    mention(project, "update: status=red all bad")
    # The text is logged as typed (clients can't use options), so nothing is lost; status stays the team's.
    [u] = stored(db)
    assert u.health is None and u.text == "status=red all bad"


def test_mention_without_update_gets_help(project, db):
    mention(project, "hello there", event_id="Ev0HELLO")
    assert stored(db) == []
    [answer] = project.fake.wait_for("chat.postMessage")
    assert answer.args["thread_ts"] == "1764000000.000100" and "@Liaison status" in json.dumps(answer.args)


def shortcut(app, text: str, channel: str = "C0SHARED"):
    body = json.dumps({
        "type": "message_action", "callback_id": "log_status_update", "trigger_id": "1.2.3",
        "team": {"id": TEAM}, "user": {"id": "U0TEAM"}, "channel": {"id": channel},
        "response_url": app.fake.response_url(channel, "U0TEAM"),
        "message": {"type": "message", "user": "U0CLIENT", "text": text, "ts": "1764000000.000200"},
    })
    form = "payload=" + urllib.parse.quote(body)
    reply = app.post(form, {"content-type": "application/x-www-form-urlencoded",
                            **payloads.sign("test-signing-secret", form)})
    assert reply.status == 200
    return json.dumps(app.fake.wait_for("response_url")[0].args)


def test_message_shortcut_captures_the_message_with_author_and_permalink(project, db):
    assert "logged" in shortcut(project, "We approve the mockups")
    project.jobs.drain()
    [u] = stored(db)
    assert (u.author_id, u.logged_by, u.source, u.visibility) == ("U0CLIENT", "U0TEAM", "shortcut", "client")
    assert u.permalink and u.permalink.startswith("http")
    project.fake.clear()
    assert "already logged" in shortcut(project, "We approve the mockups")  # the same message again
    assert len(stored(db)) == 1


def test_message_shortcut_outside_a_project_or_on_an_empty_message_says_why(project, db):
    assert "isn't linked" in shortcut(project, "Hello", channel="C0GENERAL")
    project.fake.clear()
    assert "no text to log" in shortcut(project, "   ")
    assert stored(db) == []


def test_only_the_author_edits_or_deletes_and_both_are_audited(project, db):
    project.command("First", name="/update", user="U0TEAM")
    [u] = stored(db)
    listing = project.command("list", name="/update")
    assert listing.json["response_type"] == "ephemeral" and "First" in listing.text
    assert "edited" in project.command(f"edit {u.id} First, corrected", name="/update", user="U0TEAM").text
    assert "(edited)" in project.command("list", name="/update").text
    refused = project.command(f"delete {u.id}", name="/update", user="U0OTHER", channel="C0INTERNAL")
    assert f"Only <@U0TEAM>, who wrote update #{u.id}, can delete it" in refused.text
    lead = project.command(f"edit {u.id} Something else", name="/update")  # the lead can't rewrite it either
    assert "can change its words" in lead.text and "/update hide" in lead.text
    assert "deleted" in project.command(f"delete {u.id}", name="/update", user="U0TEAM").text
    assert "First, corrected" not in project.command("list", name="/update").text
    actions = [a for (a,) in _audit(db)]
    assert actions.count("update.edit") == 1 and actions.count("update.delete") == 1


def test_client_list_shows_only_client_visible_updates(project, db):
    project.command("Internal note about budget", name="/update")
    project.command("Shared progress", name="/update", channel="C0SHARED")
    text = project.command("list", name="/update", user="U0CLIENT", channel="C0SHARED").text
    assert "Shared progress" in text and "budget" not in text


def _audit(db):
    with db.read() as session:
        return session.execute(select(AuditEntry.action)).all()


def test_deleting_the_update_that_set_the_status_brings_back_the_one_before(project, db, clock):
    project.command("status=green progress=30 On track", name="/update")
    clock.advance(minutes=5)
    project.command("status=red progress=35 Blocked, wrong project", name="/update")
    assert status(db, "internal") == ("red", 35)
    wrong = stored(db)[-1]
    project.command(f"delete {wrong.id}", name="/update")
    assert status(db, "internal") == ("green", 30)
