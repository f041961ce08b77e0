"""The one way a button press or a form submission is handled: the twin of handlers/slash.py.

Each feature declares, beside its `COMMANDS`, the buttons (`ACTIONS`) and forms (`FORMS`) it answers; `handlers`
registers them all here. A button's value only names a record: which project it belongs to is read from the
database, in the presser's own workspace, and the presser's rights on that project are checked exactly as for a
command (`place_for`). A forged value (another project's record, another workspace's, one that no longer
exists) is refused with a sentence only the presser sees; a closed record is refused by the feature's service.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot import slack
from bot.errors import SlackTrouble
from bot.render.errors import answer_for
from bot.actors import Actor
from bot.runtime import Runtime
from bot.services.places import Place
from handlers.context import actor_of, place_for


@dataclass(frozen=True)
class Target:
    """What a button acts on, as the database says: the record and the key of the project it belongs to."""
    key: str
    record_id: int
    version: int | None = None  # what the card showed of the record, when its button says (an approval's version)
    score: int | None = None  # the score a survey's button gives


@dataclass(frozen=True)
class Press:
    place: Place  # the record's project, with the presser's rights there
    target: Target
    channel_id: str | None
    trigger_id: str | None  # to open a form from the press
    response_url: str | None = None  # to tell the presser something later (a form Slack wouldn't open)


@dataclass(frozen=True)
class Action:
    action_id: str
    # The record a value names, looked up in the presser's workspace; raises NotFound for anything else.
    find: Callable[[Session, str, Actor], Target]
    # Does the work and returns what only the presser sees (or None).
    press: Callable[[Runtime, Press], dict[str, Any] | None]


@dataclass(frozen=True)
class Submitted:
    actor: Actor
    metadata: dict[str, Any]  # what the form was opened with: a claim, checked like any other
    view: dict[str, Any]
    place: Place | None  # the project the form is about, with the person's rights there (None for `on_project=False`)


@dataclass(frozen=True)
class Form:
    callback_id: str
    # Does the work; raises a UserError (shown beside the field it names) when the input is wrong.
    submit: Callable[[Runtime, Submitted], None]
    on_project: bool = True  # False only for a form that makes a project (there is none to check yet)


def open_form(rt: Runtime, trigger_id: str | None, view: dict[str, Any], response_url: str | None,
              failed: str) -> None:
    """Open a form right after the ack (Slack gives three seconds for its trigger); if Slack won't, the person is
    told `failed` (what to type instead) beside the message or command, never in its place."""
    def open_it() -> None:
        try:
            rt.quick.views_open(trigger_id=trigger_id, view=view)
        except (SlackApiError, SlackClientError):
            told = answer_for(SlackTrouble(failed))[0]
            slack.respond(response_url, {**told, "replace_original": False})

    rt.outbox.later(open_it)


def tell_sender(rt: Runtime, form: Submitted, payload: dict[str, Any]) -> None:
    """What only the person who sent a form sees, in the channel it was opened from, once the form has closed."""
    channel_id = form.metadata.get("channel_id")
    if isinstance(channel_id, str) and channel_id:
        rt.outbox.later(rt.client.chat_postEphemeral, channel=channel_id, user=form.actor.user_id,
                        **{k: v for k, v in payload.items() if k != "response_type"})


def register_actions(app: App, rt: Runtime, actions: Sequence[Action]) -> None:
    for action in actions:
        app.action(action.action_id)(_on_press(rt, action))


def register_forms(app: App, rt: Runtime, forms: Sequence[Form]) -> None:
    for form in forms:
        app.view(form.callback_id)(_on_submit(rt, form))


def _on_press(rt: Runtime, action: Action) -> Callable[..., None]:
    def on_press(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        actor = actor_of(context)
        pressed = next(a for a in body.get("actions", []) if a.get("action_id") == action.action_id)
        value = pressed.get("value") or (pressed.get("selected_option") or {}).get("value") or ""
        channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        with rt.db.read() as session:
            target = action.find(session, value, actor)
        place = place_for(rt, actor, channel_id, target.key)
        answer = action.press(rt, Press(place, target, channel_id, body.get("trigger_id"), body.get("response_url")))
        ack()
        if answer and body.get("response_url"):
            rt.outbox.later(slack.respond, body["response_url"],
                            {**answer, "response_type": "ephemeral", "replace_original": False})

    on_press.__name__ = f"on_{action.action_id.replace('.', '_')}_pressed"
    return on_press


def _on_submit(rt: Runtime, form: Form) -> Callable[..., None]:
    def on_submit(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        actor = actor_of(context)
        view = body["view"]
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            metadata = {}
        metadata = metadata if isinstance(metadata, dict) else {}
        place = None
        if form.on_project:
            # The channel a form names is what it was opened with, not Slack's word: membership is checked.
            place = place_for(rt, actor, _text(metadata.get("channel_id")), _text(metadata.get("project")),
                              asserted=False)
        form.submit(rt, Submitted(actor, metadata, view, place))
        ack()

    on_submit.__name__ = f"on_{form.callback_id.replace('-', '_')}_submitted"
    return on_submit


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
