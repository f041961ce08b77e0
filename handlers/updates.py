"""/update, `@Liaison update: ...` and the "Log as status update" message shortcut."""
from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.actors import Actor
from bot.commands import CommandSpec, Parsed, Sub
from bot.errors import BadInput
from bot.jobs import job
from bot.render import updates as render
from bot.runtime import Runtime
from bot.services import dates, updates
from bot.services.places import place_of
from handlers.context import actor_of
from handlers.slash import register_command

UPDATE = CommandSpec(
    name="/update",
    summary="log how the project is going; the digests are built from these",
    default_sub="log",
    subs=(
        Sub(
            "log",
            "Log an update on this channel's project (the word `log` may be left out). In the client's channel it "
            "is shared with the client; in an internal channel it stays internal unless `share=yes`.",
            usage="[status=green|amber|red] [progress=0-100] [share=yes] <text>",
            options={"status": "project health: green, amber or red", "progress": "percent done, 0-100",
                     "share": "yes: show an update logged internally to the client too"},
            example="status=amber progress=40 Waiting on the client's copy for the home page",
        ),
        Sub("list", "Show recent updates (only you see them).", usage="[since=DATE]",
            options={"since": "a date or words such as \"3 days ago\""}, example='list since="last monday"'),
        Sub("edit", "Change the text of an update (its author or the lead).", usage="<number> <new text>",
            example="edit 12 Design signed off on Monday"),
        Sub("delete", "Delete an update (its author or the lead).", usage="<number>", example="delete 12"),
        Sub("help", "Show this help.", example="help"),
    ),
)

COMMANDS = [UPDATE]
EVENTS: list[str] = []  # app_mention is declared by handlers.mentions, which routes `update:` here
SHORTCUTS = [{"name": "Log as status update", "type": "message", "callback_id": "log_status_update",
              "description": "Record this message as a status update of the channel's project"}]
_MENTION_UPDATE = re.compile(r"^\s*(?:<@[A-Z0-9]+>\s*)+update\s*:\s*(?P<text>.*)$", re.I | re.S)


def register(app: App, rt: Runtime) -> None:
    register_command(app, rt, UPDATE, {"log": _log, "list": _list, "edit": _edit, "delete": _delete})

    @app.shortcut("log_status_update")
    def on_log_shortcut(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        message = body.get("message", {})
        if not (message.get("text") or "").strip():
            ack()
            raise BadInput("That message has no text to log.")
        ack()
        rt.jobs.enqueue("update.capture", {
            "actor": asdict(actor_of(context)), "channel_id": body["channel"]["id"],
            "author_id": message.get("user") or message.get("bot_id") or "", "text": message["text"],
            "ts": message["ts"],
        }, body.get("response_url"))


def mentioned_update(text: str) -> str | None:
    """The update in `@Liaison update: <text>`, or None when the mention is about something else."""
    match = _MENTION_UPDATE.match(text or "")
    return match["text"].strip() if match else None


def log_mentioned(rt: Runtime, actor: Actor, event: dict[str, Any], text: str) -> None:
    """Clients log this way. Slack may deliver the event twice (even at once, to two workers): stored once."""
    _log_message(rt, actor, event["channel"], event["ts"], text, "mention")


def _log_message(rt: Runtime, actor: Actor, channel_id: str, ts: str, text: str, source: str,
                 **extra: Any) -> updates.UpdateCard | None:
    """Log a Slack message as an update, once per message, and show its card in the channel; None if logged before."""
    draft = updates.draft_update(text, status=None, progress=None, share=None)
    with rt.db.transaction() as session:
        place = place_of(session, actor, channel_id, None)
        card = updates.log_update(session, place, draft, rt.clock.now(), source=source, channel_id=channel_id,
                                  source_key=f"msg:{channel_id}:{ts}", **extra)
    if card is not None:
        rt.jobs.enqueue("slack.post", {"channel_id": channel_id, "payload": render.update_card(card, place.timezone)})
    return card


def _log(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    draft = updates.draft_update(parsed.text, status=parsed.option("status"), progress=parsed.option("progress"),
                                 share=parsed.option("share"))
    with rt.db.transaction() as session:
        place = place_of(session, actor, body.get("channel_id"), parsed.option("project"))
        card = updates.log_update(session, place, draft, rt.clock.now(), source="command",
                                  channel_id=body.get("channel_id", ""))
    assert card is not None  # a command has no source key, so it is never a duplicate
    reply = render.update_card(card, place.timezone)
    if parsed.option("project"):
        return {"response_type": "ephemeral", **reply}  # logged from elsewhere: don't show it in this channel
    return render.in_channel(reply)


def _list(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    now = rt.clock.now()
    with rt.db.read() as session:
        place = place_of(session, actor, body.get("channel_id"), parsed.option("project"))
        since = dates.parse_since(parsed.option("since"), place.timezone, now)
        found = updates.list_updates(session, place, since)
    return render.list_reply(found, place.timezone, place.key, updates.LIST_MOST)


def _edit(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    update_id, text = updates.parse_id(parsed.text)
    with rt.db.transaction() as session:
        place = place_of(session, actor, body.get("channel_id"), parsed.option("project"))
        card = updates.edit_update(session, place, update_id, text, rt.clock.now())
    return render.changed_reply(card, "edited")


def _delete(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    update_id, _ = updates.parse_id(parsed.text)
    with rt.db.transaction() as session:
        place = place_of(session, actor, body.get("channel_id"), parsed.option("project"))
        card = updates.delete_update(session, place, update_id, rt.clock.now())
    return render.changed_reply(card, "deleted")


@job("update.capture")
def capture_job(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    actor, channel_id = Actor(**args["actor"]), args["channel_id"]
    try:
        permalink = rt.client.chat_getPermalink(channel=channel_id, message_ts=args["ts"]).get("permalink")
    except (SlackApiError, SlackClientError):
        permalink = None  # the update matters more than the link to it
    card = _log_message(rt, actor, channel_id, args["ts"], args["text"], "shortcut", author_id=args["author_id"],
                        permalink=permalink)
    return render.duplicate_reply() if card is None else render.changed_reply(card, "logged")
