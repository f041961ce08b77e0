"""Projects can be corrected: `/project edit` and `/project unlink` by the lead, checked like creation, audited."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import AuditEntry, Project, ProjectChannel
from tests.helpers import count, posts


def stored(db) -> Project:
    with db.read() as session:
        return session.scalars(select(Project)).one()


def test_the_lead_edits_name_client_due_tz_and_key_and_it_is_audited(project, db):
    reply = project.command('edit name="Acme Site" client="Acme Group" due="2027-04-30" tz=America/New_York '
                            "key=acme-site")
    shown = reply.json["blocks"][0]["text"]["text"]
    assert "Updated `acme-site`" in shown and "Name: Acme Website → *Acme Site*" in shown
    p = stored(db)
    assert (p.name, p.client_name, p.due_date.isoformat(), p.timezone, p.key) == (
        "Acme Site", "Acme Group", "2027-04-30", "America/New_York", "acme-site")
    with db.read() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "project.edit"))
        assert entry.detail["changes"]["name"] == {"before": "Acme Website", "after": "Acme Site"}
    assert "acme-site" in project.command("status").text


@pytest.mark.parametrize("text, says", [
    ("edit", "Say what to change"),
    ("edit due=2020-01-01", "in the past"),
    ("edit tz=Mars/Base", "not a timezone"),
    ("edit key=Not_A_Key", "can't be a project key"),
    ("edit Acme Site", "only options"),
    ('edit name="Acme Website"', "nothing changed"),
])
def test_bad_edits_are_refused_and_change_nothing(project, db, text, says):
    before = stored(db)
    reply = project.command(text)
    assert reply.json["response_type"] == "ephemeral" and says in reply.text
    after = stored(db)
    assert (after.name, after.due_date, after.timezone, after.key) == (before.name, before.due_date, before.timezone,
                                                                        before.key)


def test_only_the_lead_edits_or_unlinks(project, db):
    assert "Only project leads" in project.command('edit name="Mine now"', user="U0TEAM").text
    assert "Only project leads" in project.command("unlink", user="U0TEAM", channel="C0SHARED").text
    assert stored(db).name == "Acme Website" and count(db, ProjectChannel) == 2


def test_unlink_a_client_channel_but_never_the_last_internal_one(project, db):
    reply = project.command("unlink")
    assert "last internal channel" in reply.text and count(db, ProjectChannel) == 2
    reply = project.command("unlink", channel="C0SHARED")
    assert "Unlinked" in reply.text and count(db, ProjectChannel) == 1
    project.jobs.drain()
    assert any("no longer linked" in p for p in posts(project.fake, "C0SHARED"))
    assert count(db, AuditEntry, AuditEntry.action == "channel.unlink") == 1
    assert "isn't linked" in project.command("status", channel="C0SHARED").text


def test_the_projects_card_follows_edits_and_roles_in_place(app, db):
    """The card posted when the project was created is changed in place, not posted again."""
    assert "Created" in app.command('create key=acme client="Acme Co" due=2027-03-31 Acme Website').text
    app.jobs.drain()
    [created] = app.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "C0INTERNAL")
    app.command('edit name="Acme Site"')
    app.command("role <@U0TEAM|sam> team")
    app.jobs.drain()
    changed = app.fake.wait_for("chat.update", count=2)
    assert {(c.args["channel"], c.args["ts"]) for c in changed} == {("C0INTERNAL", created.ts)}
    assert "Acme Site" in str(changed[-1].args["blocks"]) and "<@U0TEAM>" in str(changed[-1].args["blocks"])
    assert len(posts(app.fake, "C0INTERNAL")) == 1
