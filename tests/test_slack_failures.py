"""When Slack's Web API fails: retried where it helps, explained where it doesn't, never a crash or a lost input."""
from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Project


def projects(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Project))


def test_rate_limited_lookup_is_retried_after_retry_after(app, db):
    app.fake.fail_next("conversations.info", status=429, retry_after=1)
    reply = app.command("create Acme Website")
    assert "Created" in reply.text
    assert [c.failed for c in app.fake.calls_to("conversations.info")] == ["429", None]
    assert projects(db) == 1


def test_server_errors_are_retried(app, db):
    app.fake.world.add_user(id="U0NEWCOMER", name="nia")
    app.fake.fail_next("users.info", status=503, times=1)
    app.fake.fail_next("chat.postMessage", status=500, times=1)
    assert "Created" in app.command("create Acme Website", user="U0NEWCOMER").text
    assert [c.failed for c in app.fake.calls_to("users.info")] == ["503", None]
    posts = app.fake.wait_for("chat.postMessage", count=2)
    assert [p.failed for p in posts] == ["500", None]


def test_slack_down_for_the_lookup_means_a_clear_error_and_nothing_stored(app, db):
    app.fake.fail_next("conversations.info", status=500, times=10)
    reply = app.command("create Acme Website")
    assert reply.json["response_type"] == "ephemeral" and "nothing was done" in reply.text
    assert projects(db) == 0


def test_unknown_channel_asks_to_invite_the_bot(app, db):
    reply = app.command("create Acme Website", channel="C0MISSING")
    assert "/invite @Liaison" in reply.text
    assert projects(db) == 0


def test_not_in_public_channel_joins_and_posts(app, db):
    app.fake.world.add_channel(id="C0NEW", name="new-project", bot_is_member=False)
    app.command("create Acme Website", channel="C0NEW")
    post = app.fake.wait_for("chat.postMessage", where=lambda c: c.failed is None)[0]
    assert post.args["channel"] == "C0NEW"
    assert app.fake.calls_to("conversations.join")[0].args["channel"] == "C0NEW"


def test_private_channel_without_the_bot_asks_for_an_invite(app, db):
    app.fake.world.add_channel(id="G0PRIV", name="secret", is_private=True, bot_is_member=False)
    reply = app.command("create Acme Website", channel="G0PRIV")
    assert "/invite @Liaison" in reply.text
    assert projects(db) == 0


def test_post_refused_after_saving_tells_the_person_and_keeps_the_project(app, db):
    app.fake.fail_next("chat.postMessage", error="is_archived")
    reply = app.command("create Acme Website")
    assert "Created" in reply.text and "archived" in reply.text and "saved" in reply.text
    assert projects(db) == 1


def test_user_lookup_failing_gives_an_error_not_a_crash(app, db):
    app.fake.world.add_user(id="U0NEWBIE", name="nia")  # first seen now, so Slack must be asked who this is
    app.fake.fail_next("users.info", status=200, error="fatal_error")
    reply = app.command("create Acme Website", user="U0NEWBIE")
    assert reply.status == 200 and "try again" in reply.text.lower()
    assert projects(db) == 0
    assert "Created" in app.command("create Acme Website", user="U0NEWBIE").text
