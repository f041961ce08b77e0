"""/milestone: add, done, move, list."""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError

from bot.actors import INTERNAL_ROLES, Actor, require_role
from bot.commands import CommandSpec, Parsed, Sub, user_id_of, check_typed
from bot.errors import BadInput, SlackTrouble
from bot.render import milestones as render
from bot.render import modals
from bot.render.updates import in_channel
from bot.runtime import Runtime
from bot.services import dates, milestones
from handlers.context import actor_of, place_for
from handlers.slash import register_command

MILESTONE = CommandSpec(
    name="/milestone",
    summary="plan and track the project's milestones",
    subs=(
        Sub(
            "add",
            "Add a milestone. Dates may be words (`next friday`, `in 3 days`), read in the project's timezone. "
            "The client sees it unless `internal=yes`.",
            usage='due=<date> [owner=@person] [internal=yes] <name>   (or nothing, for a form)',
            options={"due": "when it is due: 2026-12-15, \"next friday\", \"in 3 days\"",
                     "owner": "who delivers it (reminders mention them)", "internal": "yes: the client never sees it"},
            example='add due="next friday" owner=@sam Design sign-off',
        ),
        Sub("done", "Mark a milestone done.", usage="<name or number>", example="done Design sign-off"),
        Sub("move", "Give a milestone a new due date.", usage="due=<date> <name or number>",
            options={"due": "the new date"}, example='move due="in 3 days" Design sign-off'),
        Sub("list", "List the milestones (only you see it).", example="list"),
        Sub("help", "Show this help.", example="help"),
    ),
)

COMMANDS = [MILESTONE]


def register(app: App, rt: Runtime) -> None:
    register_command(app, rt, MILESTONE, {"add": _add, "done": _done, "move": _move, "list": _list})

    @app.view(modals.MilestoneAddIds.CALLBACK)
    def on_milestone_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        metadata, values = modals.read_milestone_add(body["view"])
        for field_, typed in values.items():
            check_typed(typed or "", "text", field_)
        channel_id = metadata.get("channel_id", "")
        name = milestones.check_name(values["name"] or "")
        now = rt.clock.now()
        place = place_for(rt, actor_of(context), channel_id, metadata.get("project"))
        with rt.db.transaction() as session:
            due = dates.parse_day(values["due"], place.timezone, now)
            card = milestones.add(session, place, name, due, values["owner"], values["internal"], now)
        ack()
        today = dates.local_day(now, place.timezone)
        post = render.added_post(card, place.name, today)
        if _hidden_here(card.visibility, place.audience):
            rt.outbox.later(rt.client.chat_postEphemeral, channel=channel_id, user=place.actor.user_id, **post)
        else:
            rt.jobs.enqueue("slack.post", {"channel_id": channel_id, "payload": post})


def _owner(parsed: Parsed) -> str | None:
    raw = parsed.option("owner")
    if raw is None:
        return None
    owner = user_id_of(raw)
    if owner is None:
        raise BadInput(f"`owner={raw}` should mention a person, e.g. `owner=@sam`.", "owner")
    return owner


def _hidden_here(visibility: str, audience: str) -> bool:
    """A client channel never sees an internal milestone, even as a confirmation."""
    return audience == "client" and visibility == "internal"


def _visible_here(reply: dict[str, Any], visibility: str, audience: str, elsewhere: bool) -> dict[str, Any]:
    if elsewhere or _hidden_here(visibility, audience):
        return {**reply, "response_type": "ephemeral"}
    return in_channel(reply)


def _add(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    if not parsed.text and not parsed.options.keys() - {"project"}:
        return _open_form(rt, parsed, actor, body)
    name = milestones.check_name(parsed.text)
    owner = _owner(parsed)
    if parsed.option("due") is None:
        raise BadInput("When is it due? `/milestone add due=2026-12-15 Design sign-off`.", "due")
    now = rt.clock.now()
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    with rt.db.transaction() as session:
        due = dates.parse_day(parsed.option("due"), place.timezone, now)
        card = milestones.add(session, place, name, due, owner, parsed.option("internal"), now)
    today = dates.local_day(now, place.timezone)
    return _visible_here(render.added_post(card, place.name, today), card.visibility, place.audience,
                         bool(parsed.option("project")))


def _done(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    with rt.db.transaction() as session:
        card = milestones.done(session, place, parsed.text, rt.clock.now())
    return _visible_here(render.done_post(card, place.name, actor.user_id), card.visibility, place.audience,
                         bool(parsed.option("project")))


def _move(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    if parsed.option("due") is None:
        raise BadInput("Give the new date first: `/milestone move due=2026-12-20 Design sign-off`.", "due")
    now = rt.clock.now()
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    with rt.db.transaction() as session:
        due = dates.parse_day(parsed.option("due"), place.timezone, now)
        card, before = milestones.move(session, place, parsed.text, due, now)
    return render.moved_reply(card, before)


def _list(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    now = rt.clock.now()
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    with rt.db.read() as session:
        found = milestones.listing(session, place)
    return render.list_reply(found, place.key, dates.local_day(now, place.timezone))


def _open_form(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """Bare `/milestone add`: a form with a date picker. The project is checked first, so a wrong channel is
    said at once rather than after the form is filled in."""
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    require_role(place.actor, INTERNAL_ROLES, "add milestones")
    view = modals.milestone_add_modal(body.get("channel_id", ""), parsed.option("project"), place.name)

    def open_form() -> None:
        try:
            rt.quick.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as e:
            raise SlackTrouble("Slack didn't open the form. Type it instead: "
                               "`/milestone add due=2026-12-15 Design sign-off`.") from e

    rt.outbox.answer(body.get("response_url"), open_form)
    return {}
