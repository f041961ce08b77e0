"""Slack's channel lifecycle events, so projects keep the right channels when Slack changes them."""
from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot import slack
from bot.render.projects import notice
from bot.runtime import Runtime
from bot.services import channels
from bot.services.channels import Notice
from handlers.context import workspace_of

EVENTS = [
    "channel_id_changed", "channel_shared", "channel_unshared", "channel_rename", "group_rename",
    "channel_archive", "group_archive", "channel_unarchive", "group_unarchive", "channel_deleted", "group_deleted",
    "member_joined_channel", "member_left_channel",
]


def _channel_id(event: dict[str, Any]) -> str:
    channel = event.get("channel")
    return channel["id"] if isinstance(channel, dict) else str(channel or "")


def register(app: App, rt: Runtime) -> None:
    def tell(notices: list[Notice]) -> None:
        for n in notices:
            rt.jobs.enqueue("slack.post", {"channel_id": n.channel_id, "payload": notice(n.text)})

    @app.event("channel_id_changed")
    def on_channel_id_changed(event: dict[str, Any], context: BoltContext) -> None:
        team_id, new_id = workspace_of(context), event["new_channel_id"]
        with rt.db.transaction() as session:
            channels.id_changed(session, team_id, event["old_channel_id"], new_id, rt.clock.now())
        # A private channel gets a new ID when it is shared; make sure its audience follows.
        if slack.channel_facts(rt.quick, new_id).is_ext_shared:
            with rt.db.transaction() as session:
                notices = channels.shared(session, team_id, new_id, rt.clock.now())
            tell(notices)

    @app.event("channel_shared")
    def on_channel_shared(event: dict[str, Any], context: BoltContext) -> None:
        with rt.db.transaction() as session:
            notices = channels.shared(session, workspace_of(context), _channel_id(event), rt.clock.now())
        tell(notices)

    @app.event("channel_unshared")
    def on_channel_unshared(event: dict[str, Any], context: BoltContext) -> None:
        with rt.db.transaction() as session:
            notices = channels.unshared(session, workspace_of(context), _channel_id(event),
                                   bool(event.get("is_ext_shared")), rt.clock.now())
        tell(notices)

    @app.event("channel_archive")
    @app.event("group_archive")
    def on_channel_archived(event: dict[str, Any], context: BoltContext) -> None:
        with rt.db.transaction() as session:
            notices = channels.archived(session, workspace_of(context), _channel_id(event), rt.clock.now())
        tell(notices)

    @app.event("channel_unarchive")
    @app.event("group_unarchive")
    def on_channel_unarchived(event: dict[str, Any], context: BoltContext) -> None:
        with rt.db.transaction() as session:
            channels.unarchived(session, workspace_of(context), _channel_id(event), rt.clock.now())

    @app.event("channel_deleted")
    @app.event("group_deleted")
    def on_channel_deleted(event: dict[str, Any], context: BoltContext) -> None:
        with rt.db.transaction() as session:
            notices = channels.deleted(session, workspace_of(context), _channel_id(event), rt.clock.now())
        tell(notices)

    @app.event("member_joined_channel")
    @app.event("member_left_channel")
    def on_member_changed(event: dict[str, Any]) -> None:
        # Who is in an internal channel decides who is on a project's team: ask Slack afresh next time.
        rt.members.forget(_channel_id(event))

    @app.event("channel_rename")
    @app.event("group_rename")
    def on_channel_renamed(event: dict[str, Any], context: BoltContext) -> None:
        with rt.db.transaction() as session:
            channels.renamed(session, workspace_of(context), _channel_id(event), event["channel"].get("name", ""))
