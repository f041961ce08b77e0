"""/update, `@Liaison update: ...` and the "Log as status update" message shortcut."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot.actors import Actor
from bot.commands import CommandSpec, Parsed, Sub, check_typed, has_visible
from bot.errors import BadInput
from bot.render import updates as render
from bot.runtime import Runtime
from bot.services import dates, updates
from handlers import cards
from handlers.cards import CardKind, Shown
from handlers.context import actor_of, place_for
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
        Sub("edit", "Change the words of your own update; it then shows as edited. Nobody else can change "
            "them.", usage="<number> <new text>", example="edit 12 Design signed off on Monday"),
        Sub("delete", "Delete your own update (or one you logged), and its cards.", usage="<number>",
            example="delete 12"),
        Sub("hide", "Lead: hide someone's update from lists, digests and status, saying why; its cards say it "
            "was hidden. The words are kept.", usage="<number> <reason>",
            example="hide 12 Posted in the wrong project"),
        Sub("help", "Show this help.", example="help"),
    ),
)

COMMANDS = [UPDATE]
EVENTS: list[str] = []  # app_mention is declared by handlers.mentions, which routes `update:` here
SHORTCUTS = [{"name": "Log as status update", "type": "message", "callback_id": "log_status_update",
              "description": "Record this message as a status update of the channel's project"}]


def register(app: App, rt: Runtime) -> None:
    register_command(app, rt, UPDATE, {"log": _log, "list": _list, "edit": _edit, "delete": _delete,
                                       "hide": _hide})

    @app.shortcut("log_status_update")
    def on_log_shortcut(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        message = body.get("message", {})
        ack()
        if not has_visible(message.get("text")):
            raise BadInput("That message has no text to log.")
        check_typed(message["text"], "message")
        rt.jobs.enqueue("update.capture", {
            "actor": asdict(actor_of(context)), "channel_id": body["channel"]["id"],
            "author_id": message.get("user") or message.get("bot_id") or "", "text": message["text"],
            "ts": message["ts"],
        }, body.get("response_url"))


def log_mentioned(rt: Runtime, actor: Actor, event: dict[str, Any], text: str) -> None:
    """Clients log this way. Slack may deliver the event twice (even at once, to two workers): stored once."""
    _log_message(rt, actor, event["channel"], event["ts"], text, "mention")


def _log_message(rt: Runtime, actor: Actor, channel_id: str, ts: str, text: str, source: str,
                 **extra: Any) -> updates.UpdateCard | None:
    """Log a Slack message as an update, once per message, and show its card in the channel; None if logged before."""
    draft = updates.draft_update(text, status=None, progress=None, share=None)
    place = place_for(rt, actor, channel_id, None)
    with rt.db.transaction() as session:
        card = updates.log_update(session, place, draft, rt.clock.now(), source=source, channel_id=channel_id,
                                  source_key=f"msg:{channel_id}:{ts}", **extra)
        if card is not None:  # its card is stored with it: a crash can't keep one and lose the other
            cards.post(rt, session, "update", card.id, channel_id, place.audience)
    return card


def _log(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    draft = updates.draft_update(parsed.text, status=parsed.option("status"), progress=parsed.option("progress"),
                                 share=parsed.option("share"))
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    elsewhere = bool(parsed.option("project"))  # logged from another channel: don't show it there
    with rt.db.transaction() as session:
        card = updates.log_update(session, place, draft, rt.clock.now(), source="command",
                                  channel_id=body.get("channel_id", ""))
        assert card is not None  # a command has no source key, so it is never a duplicate
        if not elsewhere:
            # The card is posted (not an in_channel answer) so that it can be changed in place when the update is.
            cards.post(rt, session, "update", card.id, body["channel_id"], place.audience, body.get("response_url"))
    if elsewhere:
        return {"response_type": "ephemeral", **render.update_card(card, place.timezone)}
    return render.logged_reply(card)


def _list(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    now = rt.clock.now()
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    with rt.db.read() as session:
        since = dates.parse_since(parsed.option("since"), place.timezone, now)
        found = updates.list_updates(session, place, since)
    return render.list_reply(found, place.timezone, place.key, updates.LIST_MOST)


def _edit(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    return _change(rt, parsed, actor, body, "edited", updates.edit_update)


def _delete(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    return _change(rt, parsed, actor, body, "deleted",
                   lambda session, place, update_id, _rest, now: updates.delete_update(session, place, update_id, now))


def _hide(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    return _change(rt, parsed, actor, body, "hidden", updates.hide_update)


def _change(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any], done: str,
            change: Callable[..., updates.UpdateCard]) -> dict[str, Any]:
    """Edit, delete or hide update `<n>` (the rest of the text is the new words or the reason); its cards follow."""
    update_id, rest = updates.parse_id(parsed.text)
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    with rt.db.transaction() as session:
        card = change(session, place, update_id, rest, rt.clock.now())
        cards.refresh(rt, session, "update", card.id, body.get("response_url"))
    return render.changed_reply(card, done)


def show_card(session: Session, update_id: int, audience: str) -> Shown | None:
    """An update's card, the same in every channel it is shown in (a client channel only ever gets shared ones)."""
    found = updates.card_of(session, update_id)
    if found is None or found[0].deleted:
        return None
    card, project_id, tz = found
    return Shown(project_id, render.update_card(card, tz))


def capture_job(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    actor, channel_id = Actor(**args["actor"]), args["channel_id"]
    try:
        permalink = rt.client.chat_getPermalink(channel=channel_id, message_ts=args["ts"]).get("permalink")
    except (SlackApiError, SlackClientError):
        permalink = None  # the update matters more than the link to it
    card = _log_message(rt, actor, channel_id, args["ts"], args["text"], "shortcut", author_id=args["author_id"],
                        permalink=permalink)
    return render.duplicate_reply() if card is None else render.changed_reply(card, "logged")


JOBS = {"update.capture": capture_job}
CARDS = [CardKind("update", show_card)]
