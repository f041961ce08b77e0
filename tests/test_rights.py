"""Who may act on a project, through every entry point: its team (a role, or being in one of its internal channels),
its client in the client channel (client-visible data only), and nobody else, who is told whom to ask."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot import payloads
from bot.services.updates import current_status
from storage.models import Member, Milestone, Project, Update
from tests.conftest import TEAM
from tests.helpers import acme, count, posts

SECRET_WORDS = ("Margin is thin", "amber", "Vendor audit")


@pytest.fixture
def project(app):
    acme(app)
    app.command("status=amber Margin is thin", name="/update")
    app.command("add internal=yes due=2027-01-08 Vendor audit", name="/milestone")
    app.command("Homepage is on staging", name="/update", channel="C0SHARED")
    app.jobs.drain()
    app.fake.clear()
    return app


def mention(app, text: str, *, user: str = "U0CLIENT", channel: str = "C0SHARED", ts: str = "1764000000.000300"):
    event = {"type": "app_mention", "user": user, "text": f"<@U0LIAISON> {text}", "channel": channel, "ts": ts}
    reply = app.send(payloads.event(event, team_id=TEAM))
    assert reply.status == 200
    app.jobs.drain()


def thread_answers(app, channel: str = "C0SHARED") -> list[str]:
    return [json.dumps(c.args) for c in app.fake.calls_to("chat.postMessage")
            if c.args.get("channel") == channel and c.args.get("thread_ts")]


def member_event(app, kind: str, user: str, channel: str) -> None:
    app.send(payloads.event({"type": kind, "user": user, "channel": channel, "channel_type": "C"}, team_id=TEAM))


@pytest.mark.parametrize("name, text", [
    ("/update", "project=acme share=yes status=red Everything is on fire"),
    ("/update", "list project=acme"),
    ("/update", "delete project=acme 1"),
    ("/project", "status project=acme"),
    ("/project", "digest project=acme preview"),
    ("/project", "digest project=acme"),
    ("/project", "schedule project=acme"),
    ("/project", "schedule project=acme daily 17:00"),
    ("/milestone", "list project=acme"),
    ("/milestone", "add project=acme due=2027-01-10 Sneaky milestone"),
    ("/milestone", "done project=acme Vendor audit"),
])
def test_someone_on_no_team_is_refused_everything_and_told_whom_to_ask(project, db, name, text):
    before = (count(db, Update), count(db, Milestone))
    reply = project.command(text, name=name, user="U0OTHER", channel="C0GENERAL")
    assert reply.json["response_type"] == "ephemeral"
    assert "not on the team of `acme`" in reply.text and "<@U0LEAD>" in reply.text
    assert not any(word in reply.text for word in SECRET_WORDS)  # not even the health
    assert (count(db, Update), count(db, Milestone)) == before
    with db.read() as session:
        project_id = session.scalar(select(Project.id))
        assert current_status(session, [project_id], "client")[project_id] == (None, None)
        assert session.scalar(select(Project.digest_schedule)) == "weekly mon 09:00"
    project.jobs.drain()
    assert posts(project.fake) == []


def test_project_list_shows_only_the_projects_someone_is_on(project):
    assert "acme" not in project.command("list", user="U0OTHER", channel="C0GENERAL").text
    assert "`acme`" in project.command("list", user="U0TEAM", channel="C0GENERAL").text


def test_being_in_an_internal_channel_makes_someone_team_and_leaving_it_undoes_that(project, db):
    # U0TEAM has no role: being in #acme-internal (Slack's conversations.members) makes them team.
    reply = project.command("add project=acme due=2027-01-10 Design sign-off", name="/milestone",
                            user="U0TEAM", channel="C0GENERAL")
    assert "Design sign-off" in reply.text and count(db, Milestone) == 2
    project.fake.world.channels["C0INTERNAL"].members.remove("U0TEAM")
    member_event(project, "member_left_channel", "U0TEAM", "C0INTERNAL")
    reply = project.command("list project=acme", name="/update", user="U0TEAM", channel="C0GENERAL")
    assert "not on the team of `acme`" in reply.text
    project.fake.world.channels["C0INTERNAL"].members.append("U0OTHER")
    member_event(project, "member_joined_channel", "U0OTHER", "C0INTERNAL")
    assert "Margin is thin" in project.command("list project=acme", name="/update", user="U0OTHER",
                                               channel="C0GENERAL").text


def test_a_client_reaches_only_their_channel_and_only_client_visible_data(project, db):
    project.command("role <@U0TEAM|sam> client")
    # A client role outside the client's channel reaches nothing, even by naming the project.
    reply = project.command("list project=acme", name="/update", user="U0TEAM", channel="C0GENERAL")
    assert "only in the channel they share" in reply.text and "Margin" not in reply.text
    reply = project.command("list", name="/update", user="U0TEAM", channel="C0SHARED")
    assert "Homepage is on staging" in reply.text and "Margin is thin" not in reply.text


def test_share_no_in_the_client_channel_is_refused_and_nothing_is_stored(project, db):
    before = count(db, Update)
    reply = project.command("share=no Our margin on this is thin", name="/update", channel="C0SHARED")
    assert reply.json["response_type"] == "ephemeral"
    assert "seen by the client" in reply.text and "internal channel" in reply.text
    assert count(db, Update) == before
    project.jobs.drain()
    assert posts(project.fake, "C0SHARED") == []


def test_client_status_and_milestones_by_mention_are_client_safe(project):
    mention(project, "status")
    mention(project, "milestones", ts="1764000000.000400")
    [status, listing] = thread_answers(project)
    assert "Homepage is on staging" in status
    assert not any(word in status + listing for word in SECRET_WORDS)


def test_status_by_mention_in_the_internal_channel_shows_the_internal_picture(project):
    mention(project, "status", user="U0LEAD", channel="C0INTERNAL")
    [status] = thread_answers(project, "C0INTERNAL")
    assert "Margin is thin" in status and "amber" in status and "Vendor audit" in status


def test_a_mention_it_does_not_understand_is_answered_in_the_thread_with_what_it_can_do(project, db):
    mention(project, "can you send the invoice?")
    [answer] = thread_answers(project)
    assert "didn't understand" in answer and "@Liaison status" in answer and "@Liaison update:" in answer
    assert "/project" not in answer  # clients can't use our slash commands, so they aren't offered them
    mention(project, "help", ts="1764000000.000500")
    assert "@Liaison milestones" in thread_answers(project)[-1]


def test_the_client_digest_footer_names_mentions_not_slash_commands(project):
    reply = project.command("digest preview", channel="C0SHARED")
    footer = reply.json["blocks"][-1]["elements"][0]["text"]
    assert "@Liaison status" in footer and "/project" not in footer


def test_someone_on_no_team_cannot_log_by_mention_or_shortcut(project, db):
    project.fake.world.channels["C0SHARED"].members.append("U0OTHER")
    before = count(db, Update)
    # pat (our organisation, no role, not in the internal channel) in the client's channel
    mention(project, "update: The launch slips a month", user="U0OTHER")
    body, ctype = payloads.message_action(
        "log_status_update", {"user": "U0CLIENT", "text": "We want a refund", "ts": "1764000000.000900"},
        user_id="U0OTHER", channel_id="C0SHARED", team_id=TEAM,
        response_url=project.fake.response_url("C0SHARED", "U0OTHER"))
    assert project.send((body, ctype)).status == 200
    project.jobs.drain()
    assert count(db, Update) == before
    told = [json.dumps(c.args) for c in project.fake.calls_to("chat.postEphemeral")
            + project.fake.calls_to("response_url")]
    assert len(told) == 2 and all("not on the team of `acme`" in t for t in told)


def test_role_with_two_people_is_refused_rather_than_half_done(project, db):
    reply = project.command("role <@U0CLIENT|casey> client_approver <@U0TEAM|sam> lead")
    assert "one person and one role" in reply.text
    project.jobs.drain()
    assert count(db, Member) == 1


def test_status_in_an_archived_channel_says_it_is_archived(project):
    project.send(payloads.event({"type": "channel_archive", "channel": "C0SHARED", "user": "U0LEAD"}, team_id=TEAM))
    reply = project.command("status", channel="C0SHARED")
    assert "archived" in reply.text and "no longer exists" not in reply.text


def test_a_client_in_an_unlinked_channel_is_not_told_to_run_a_slash_command(app):
    mention(app, "status")
    [told] = app.fake.wait_for("chat.postEphemeral")
    assert "isn't linked to a project yet" in json.dumps(told.args) and "/project create" not in json.dumps(told.args)


def test_status_shows_health_progress_next_milestone_and_latest_update_per_audience(project):
    project.command("add due=2027-01-05 Design sign-off", name="/milestone")
    internal = project.command("status").text
    assert "amber" in internal and "Vendor audit" in internal and "Design sign-off" in internal
    assert "Margin is thin" in internal
    client = project.command("status", channel="C0SHARED").text
    assert "Design sign-off" in client and "Homepage is on staging" in client
    assert not any(word in client for word in SECRET_WORDS)
