"""Bindings follow Slack's own channel changes: new IDs, sharing, unsharing, archiving, deleting."""
from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry, ProjectChannel


def bindings(db) -> dict[str, tuple[str, bool]]:
    with db.read() as session:
        rows = session.execute(select(ProjectChannel.channel_id, ProjectChannel.audience, ProjectChannel.is_archived))
        return {c: (a, arch) for c, a, arch in rows}


def setup_project(app):
    app.command("create Acme Website")
    app.command("link acme-website", channel="C0SHARED")
    app.fake.wait_for("chat.postMessage", count=2)
    app.fake.clear()


def test_private_channel_shared_gets_new_id_and_becomes_client(app, db):
    app.fake.world.add_channel(id="G0PRIV", name="acme-private", is_private=True)
    app.command("create Acme Website", channel="G0PRIV")
    app.fake.wait_for("chat.postMessage")
    # Slack gives the channel a new ID when it is shared with another organisation.
    app.fake.world.add_channel(id="C0NEWID", name="acme-private", is_ext_shared=True)
    assert app.event({"type": "channel_id_changed", "old_channel_id": "G0PRIV", "new_channel_id": "C0NEWID"}).status == 200
    assert bindings(db) == {"C0NEWID": ("client", False)}
    notice = app.fake.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "C0NEWID")
    assert "client-safe" in str(notice[0].args)
    assert "Acme Website" in app.command("status", channel="C0NEWID").text


def test_internal_channel_that_gets_shared_stops_receiving_internal_material(app, db):
    setup_project(app)
    app.fake.world.channels["C0INTERNAL"].is_ext_shared = True
    app.event({"type": "channel_shared", "connected_team_id": "T0CLIENT", "channel": "C0INTERNAL"})
    assert bindings(db)["C0INTERNAL"] == ("client", False)
    # No internal channel is left, so the lead hears about it directly.
    posts = app.fake.wait_for("chat.postMessage", count=2)
    assert {p.args["channel"] for p in posts} == {"C0INTERNAL", "U0LEAD"}


def test_unshared_client_channel_is_unlinked_and_team_told(app, db):
    setup_project(app)
    app.event({"type": "channel_unshared", "previously_connected_team_id": "T0CLIENT", "channel": "C0SHARED",
               "is_ext_shared": False})
    assert bindings(db) == {"C0INTERNAL": ("internal", False)}
    post = app.fake.wait_for("chat.postMessage")[0]
    assert post.args["channel"] == "C0INTERNAL" and "no longer shared" in str(post.args)


def test_still_shared_with_another_org_keeps_the_binding(app, db):
    setup_project(app)
    app.event({"type": "channel_unshared", "previously_connected_team_id": "T0OTHER", "channel": "C0SHARED",
               "is_ext_shared": True})
    assert bindings(db)["C0SHARED"] == ("client", False)


def test_archive_and_unarchive(app, db):
    setup_project(app)
    app.event({"type": "channel_archive", "channel": "C0SHARED", "user": "U0LEAD"})
    assert bindings(db)["C0SHARED"] == ("client", True)
    assert "archived" in str(app.fake.wait_for("chat.postMessage")[0].args)
    app.event({"type": "channel_unarchive", "channel": "C0SHARED", "user": "U0LEAD"})
    assert bindings(db)["C0SHARED"] == ("client", False)


def test_deleted_channel_is_unlinked_and_audited(app, db):
    setup_project(app)
    app.event({"type": "group_deleted", "channel": "C0SHARED"})
    assert "C0SHARED" not in bindings(db)
    with db.read() as session:
        assert "channel.deleted" in session.scalars(select(AuditEntry.action)).all()


def test_rename_updates_the_name(app, db):
    setup_project(app)
    app.event({"type": "channel_rename", "channel": {"id": "C0SHARED", "name": "acme-and-agency", "created": 1}})
    with db.read() as session:
        assert session.scalar(select(ProjectChannel.name).where(ProjectChannel.channel_id == "C0SHARED")) == "acme-and-agency"


def test_events_for_unknown_channels_change_nothing(app, db):
    setup_project(app)
    for event in ({"type": "channel_archive", "channel": "C0ELSE", "user": "U0LEAD"},
                  {"type": "channel_shared", "connected_team_id": "T0CLIENT", "channel": "C0ELSE"}):
        assert app.event(event).status == 200
    assert bindings(db) == {"C0INTERNAL": ("internal", False), "C0SHARED": ("client", False)}
