"""/project through signed HTTP requests: what people see, what is stored, and what is refused."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.models import AuditEntry, Member, Project, ProjectChannel


def count(db, model) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def nothing_stored(db) -> bool:
    return count(db, Project) == 0 and count(db, ProjectChannel) == 0 and count(db, AuditEntry) == 0


def create(app, text='client="Acme Co" due=2026-12-15 Acme Website', **kw):
    reply = app.command(f"create {text}", **kw)
    assert reply.status == 200
    return reply


def test_create_binds_channel_posts_card_and_audits(app, db):
    reply = create(app, 'client="Acme Co" due=2026-12-15 tz=America/New_York Acme Website')

    assert reply.json["response_type"] == "ephemeral"
    assert "`acme-website`" in reply.text and "internal" in reply.text
    post = app.fake.wait_for("chat.postMessage")[0]
    assert post.args["channel"] == "C0INTERNAL"
    card = str(post.args["blocks"])
    assert "Acme Website" in card and "Acme Co" in card and "America/New_York" in card and "2026" in card
    with db.read() as session:
        project = session.scalar(select(Project))
        assert (project.key, project.client_name, str(project.due_date)) == ("acme-website", "Acme Co", "2026-12-15")
        assert [(c.channel_id, c.audience) for c in project.channels] == [("C0INTERNAL", "internal")]
        assert [(m.user_id, m.role) for m in project.members] == [("U0LEAD", "lead")]
        entry = session.scalar(select(AuditEntry))
        assert (entry.action, entry.actor_id, entry.project_id) == ("project.create", "U0LEAD", project.id)


def test_timezone_defaults_to_settings(app, db):
    create(app, "Beta")
    with db.read() as session:
        assert session.scalar(select(Project.timezone)) == "Europe/London"


@pytest.mark.parametrize(
    "text, says",
    [
        ('client="Acme"', "needs a name"),
        ("due=2026-13-45 Acme", "is not a date"),
        ("due=next-week Acme", "is not a date"),
        ("due=2020-01-01 Acme", "in the past"),
        ("tz=Mars/Olympus Acme", "not a timezone"),
        ("key=Bad_Key! Acme", "can't be a project key"),
        ("client=a client=b Acme", "given twice"),
        ("colour=red Acme", "has no option `colour=`"),
        ('client="Acme Co Acme', "never closed"),
        ("x" * 5000, "5,000 characters"),
        (f'client="{"c" * 200}" Acme', "client name is 200"),
    ],
)
def test_bad_create_input_is_refused_ephemerally_and_nothing_stored(app, db, text, says):
    reply = create(app, text)
    assert reply.json["response_type"] == "ephemeral"
    assert says in reply.text
    assert nothing_stored(db)
    assert app.fake.calls_to("chat.postMessage") == []


def test_unknown_subcommand_and_help(app, db):
    reply = app.command("frobnicate now")
    assert reply.json["response_type"] == "ephemeral" and "is not a subcommand" in reply.text
    help_text = app.command("help").text
    for sub in ("create", "link", "status", "role", "list", "client=", "due=", "tz="):
        assert sub in help_text
    assert "e.g." in help_text
    assert app.command("").text == help_text
    assert nothing_stored(db)


def test_duplicate_key_is_refused(app, db):
    create(app, "Acme Website")
    app.fake.world.add_channel(id="C0OTHER", name="other")
    reply = create(app, "Acme Website", channel="C0OTHER")
    assert "already exists" in reply.text and "key=acme-website-2" in reply.text
    assert count(db, Project) == 1
    assert "acme-website-2" in create(app, "key=acme-website-2 Acme Website", channel="C0OTHER").text
    assert count(db, Project) == 2


def test_a_channel_serves_one_project(app, db):
    create(app, "Acme Website")
    reply = create(app, "Other Thing")
    assert "already belongs to project `acme-website`" in reply.text
    assert count(db, Project) == 1


def test_channel_mention_in_name_is_escaped_everywhere(app, db):
    create(app, "Launch <!channel> party")
    post = app.fake.wait_for("chat.postMessage")[0]
    # Slack turns <!channel> into a ping in mrkdwn and in the notification text; plain_text shows it as typed.
    mrkdwn = [post.args["text"]] + [
        t["text"] for b in post.args["blocks"] for t in [b.get("text", {}), *b.get("fields", [])]
        if t.get("type") == "mrkdwn"
    ]
    assert not any("<!channel>" in t for t in mrkdwn)
    assert any("Launch @channel party" in t for t in mrkdwn)  # a word, never a ping


def test_create_in_a_shared_channel_is_refused(app, db):
    reply = create(app, "Acme", channel="C0SHARED")
    assert "shared with another organisation" in reply.text and "/project link" in reply.text
    assert nothing_stored(db)


def test_client_cannot_create_link_or_change_roles(app, db):
    create(app, "Acme Website")
    app.command("link acme-website", channel="C0SHARED")
    for text, channel in [("create Client Project", "C0GENERAL"), ("link acme-website", "C0SHARED"),
                          ("role <@U0TEAM|sam> team", "C0SHARED")]:
        reply = app.command(text, user="U0CLIENT", channel=channel)
        assert reply.json["response_type"] == "ephemeral"
        assert "Clients can't" in reply.text, text
    assert count(db, Project) == 1 and count(db, ProjectChannel) == 2 and count(db, Member) == 1


def test_link_in_shared_channel_binds_client_audience(app, db):
    create(app, "Acme Website")
    reply = app.command("link acme-website", channel="C0SHARED")
    assert "*client* channel" in reply.text
    posts = app.fake.wait_for("chat.postMessage", count=2)
    assert posts[1].args["channel"] == "C0SHARED"
    assert "acme-website" not in str(posts[1].args)  # the client sees the project name, not our keys
    with db.read() as session:
        audiences = dict(session.execute(select(ProjectChannel.channel_id, ProjectChannel.audience)).all())
    assert audiences == {"C0INTERNAL": "internal", "C0SHARED": "client"}
    # Later commands in the bound channel apply to the project without naming it.
    assert "Acme Website" in app.command("status", channel="C0SHARED").text


def test_link_needs_a_known_key_and_a_free_channel(app, db):
    create(app, "Acme Website")
    assert "Which project?" in app.command("link", channel="C0SHARED").text
    assert "no project `nope`" in app.command("link nope", channel="C0SHARED").text
    assert "already linked" in app.command("link acme-website").text
    assert count(db, ProjectChannel) == 1


def test_status_outside_a_bound_channel_needs_project_option(app, db):
    create(app, "Acme Website")
    assert "isn't linked to a project" in app.command("status", channel="C0GENERAL").text
    assert "Acme Website" in app.command("status project=acme-website", channel="C0GENERAL").text


def test_client_status_hides_internal_channels_and_team(app, db):
    create(app, "Acme Website")
    app.command("link acme-website", channel="C0SHARED")
    app.command("role <@U0TEAM|sam> team")
    internal = app.command("status").text
    assert "C0INTERNAL" in internal and "U0TEAM" in internal
    client = app.command("status", user="U0CLIENT", channel="C0SHARED").text
    assert "Acme Website" in client
    assert "C0INTERNAL" not in client and "U0TEAM" not in client and "Channels" not in client


def test_client_cannot_reach_other_projects_by_key(app, db):
    create(app, "Acme Website")
    app.command("link acme-website", channel="C0SHARED")
    app.fake.world.add_channel(id="C0SECRET", name="secret")
    create(app, "Secret Deal", channel="C0SECRET")
    reply = app.command("status project=secret-deal", user="U0CLIENT", channel="C0SHARED")
    assert "no project `secret-deal`" in reply.text and "Secret Deal" not in reply.text
    listed = app.command("list", user="U0CLIENT", channel="C0SHARED").text
    assert "Acme Website" in listed and "Secret Deal" not in listed
    everything = app.command("list").text
    assert "Acme Website" in everything and "Secret Deal" in everything


def test_roles_are_set_checked_and_audited(app, db):
    create(app, "Acme Website")
    assert "now team member" in app.command("role <@U0TEAM|sam> team").text
    assert "now client approver" in app.command("role <@U0CLIENT|casey> client_approver").text
    # A team member may not change roles; a client may never be made lead or team.
    assert "Only project leads" in app.command("role <@U0CLIENT|casey> client", user="U0TEAM").text
    assert "another organisation" in app.command("role <@U0CLIENT|casey> lead").text
    assert "only lead" in app.command("role <@U0LEAD|alex> team").text
    assert "is not a role" in app.command("role <@U0TEAM|sam> boss").text
    assert "Mention the person" in app.command("role sam team").text
    assert "no longer has a role" in app.command("role <@U0TEAM|sam> remove").text
    with db.read() as session:
        roles = dict(session.execute(select(Member.user_id, Member.role)).all())
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert roles == {"U0LEAD": "lead", "U0CLIENT": "client_approver"}
    assert actions == ["project.create", "member.role", "member.role", "member.role"]


def test_a_person_with_a_client_role_is_treated_as_a_client(app, db):
    create(app, "Acme Website")
    app.command("role <@U0TEAM|sam> client")
    # Outside the client's channel a client reaches nothing; in it, they still can't do what only the team does.
    assert "only in the channel they share" in app.command("link acme-website", user="U0TEAM", channel="C0SHARED").text
    app.command("link acme-website", channel="C0SHARED")
    assert "Clients can't" in app.command("role <@U0LEAD|alex> team", user="U0TEAM", channel="C0SHARED").text


def test_bare_create_opens_modal_and_submission_creates(app, db):
    reply = app.command("create", answer=False)
    assert reply.status == 200 and reply.body == ""
    view = app.fake.wait_for("views.open")[0].args["view"]
    labels = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert labels == ["name", "client", "due", "budget", "tz", "key"]

    bad = app.submit(view, {"name": "Acme Website", "due": "2020-01-01"})
    assert bad.json == {"response_action": "errors", "errors": {
        "due": "Wed 01 Jan 2020 is in the past (today is Tue 24 Nov in Europe/London)."}}
    assert nothing_stored(db)

    bad_tz = app.submit(view, {"name": "Acme Website", "tz": "Nowhere/Land"})
    assert "tz" in bad_tz.json["errors"]

    good = app.submit(view, {"name": "Acme Website", "client": "Acme Co", "due": "2026-12-15"})
    assert good.status == 200 and good.body in ("", "{}")
    assert app.fake.wait_for("chat.postMessage")[0].args["channel"] == "C0INTERNAL"
    with db.read() as session:
        assert session.scalar(select(Project.client_name)) == "Acme Co"


def test_list_shows_projects(app, db):
    assert "not on the team of any project" in app.command("list").text
    create(app, 'client="Acme Co" Acme Website')
    assert "acme-website" in app.command("list").text
