"""@Liaison mentions: how people from the client's organisation (who can't use our slash commands) reach us.

`@Liaison status`, `@Liaison milestones`, `@Liaison update: …`, `@Liaison feedback: …` and `@Liaison help`;
anything else gets a short answer in the thread saying what Liaison understands. Answers go in the thread, so they follow the channel's
audience (client-safe in the client's channel) whoever asked. Every verb goes through the same rights check.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext

from bot.actors import Actor
from bot.commands import check_typed
from bot.render import changes as change_render
from bot.render import overview as render
from bot.render.mentions import mention_help
from bot.runtime import Runtime
from bot.services import dates, milestones
from bot.services.overview import overview
from handlers import changes, feedback, updates
from handlers.context import actor_of, place_for

EVENTS = ["app_mention"]

Verb = Callable[[Runtime, Actor, dict[str, Any], str], None]
_LEADING_MENTIONS = re.compile(r"^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>[\s,:]*)+")
_VERB = re.compile(r"^(?P<verb>[a-z]+)\s*(?P<colon>:)?\s*(?P<rest>.*)$", re.I | re.S)


def _reply_in_thread(rt: Runtime, event: dict[str, Any], payload: dict[str, Any]) -> None:
    thread = event.get("thread_ts") or event["ts"]
    rt.jobs.enqueue("slack.post", {"channel_id": event["channel"], "payload": {**payload, "thread_ts": thread}})


def _status(rt: Runtime, actor: Actor, event: dict[str, Any], rest: str) -> None:
    place = place_for(rt, actor, event["channel"], None)
    with rt.db.read() as session:
        standing = overview(session, place)
    _reply_in_thread(rt, event, render.status_in_thread(standing, dates.local_day(rt.clock.now(), place.timezone)))


def _milestones(rt: Runtime, actor: Actor, event: dict[str, Any], rest: str) -> None:
    place = place_for(rt, actor, event["channel"], None)
    with rt.db.read() as session:
        found = milestones.listing(session, place)
    today = dates.local_day(rt.clock.now(), place.timezone)
    _reply_in_thread(rt, event, render.milestones_in_thread(found, place.name, today))


def _update(rt: Runtime, actor: Actor, event: dict[str, Any], rest: str) -> None:
    updates.log_mentioned(rt, actor, event, rest)


def _change(rt: Runtime, actor: Actor, event: dict[str, Any], rest: str) -> None:
    card = changes.file_mentioned(rt, actor, event, rest)
    if card is not None:  # else Slack delivered this mention again: it was answered the first time
        _reply_in_thread(rt, event, change_render.filed_in_thread(card))


def _changes(rt: Runtime, actor: Actor, event: dict[str, Any], rest: str) -> None:
    place = place_for(rt, actor, event["channel"], None)
    listed = changes.listing(rt, place)
    _reply_in_thread(rt, event, {k: v for k, v in listed.items() if k != "response_type"})


def _feedback(rt: Runtime, actor: Actor, event: dict[str, Any], rest: str) -> None:
    # Stored once and thanked once in its thread (in the same transaction), however often Slack delivers it.
    feedback.log_mentioned(rt, actor, event, rest)


def _help(rt: Runtime, actor: Actor, event: dict[str, Any], rest: str) -> None:
    _reply_in_thread(rt, event, mention_help(actor.is_client))


# word -> (needs a colon and text after it, what it does). Later features add their verbs here.
VERBS: dict[str, tuple[bool, Verb]] = {
    "status": (False, _status),
    "milestones": (False, _milestones),
    "update": (True, _update),
    "change": (True, _change),
    "changes": (False, _changes),
    "feedback": (True, _feedback),
    "help": (False, _help),
}


def understood(text: str) -> tuple[Verb, str] | None:
    """The verb a mention asks for and the text after it, or None when Liaison doesn't understand it."""
    match = _VERB.match(_LEADING_MENTIONS.sub("", text or "", count=1).strip())
    if match is None:
        return None
    wanted = VERBS.get(match["verb"].lower())
    if wanted is None:
        return None
    takes_text, verb = wanted
    if takes_text != bool(match["colon"]):
        return None
    if not takes_text and match["rest"].strip():
        return None
    return verb, match["rest"].strip()


def register(app: App, rt: Runtime) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any], context: BoltContext) -> None:
        actor = actor_of(context)
        found = understood(check_typed(event.get("text", ""), "message"))
        if found is None:
            _reply_in_thread(rt, event, mention_help(actor.is_client, puzzled=True))
            return
        verb, rest = found
        verb(rt, actor, event, rest)
