"""/milestone: add, done, move, list."""
from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.actors import INTERNAL_ROLES, Actor, require_role
from bot.commands import CommandSpec, Parsed, Sub, check_typed, person_option
from bot.errors import BadInput, SlackTrouble
from bot.render import milestones as render
from bot.render import modals
from bot.render.updates import in_channel
from bot.runtime import Runtime
from bot.services import dates, milestones
from handlers import cards
from handlers.cards import CardKind, Shown
from handlers.context import place_for
from handlers.interactive import Action, Form, Press, Submitted, Target, tell_sender
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


def _submitted(rt: Runtime, form: Submitted) -> None:
    """The add-milestone form: checked like the command, its card posted in the channel it was opened in."""
    assert form.place is not None
    _, values = modals.read_milestone_add(form.view)
    for field_, typed in values.items():
        check_typed(typed or "", "text", field_)
    name = milestones.check_name(values["name"] or "")
    now, place = rt.clock.now(), form.place
    with rt.db.transaction() as session:
        due = dates.parse_day(values["due"], place.timezone, now)
        card = milestones.add(session, place, name, due, values["owner"], values["internal"], now)
        posts = not _hidden_here(card.visibility, place.audience) and bool(form.metadata.get("channel_id"))
        if posts:
            cards.post(rt, session, "milestone", card.id, form.metadata["channel_id"], place.audience)
    if posts and card.after_project_due is None:
        return  # its card says it
    # Only the person who added it is told: that it is after the project's due date, or (an internal
    # milestone added from the client's channel) that it was added.
    reply = render.added_reply(card, dates.local_day(now, place.timezone), card_follows=posts)
    tell_sender(rt, form, reply)


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
    owner = person_option(parsed, "owner")
    if parsed.option("due") is None:
        raise BadInput("When is it due? `/milestone add due=2026-12-15 Design sign-off`.", "due")
    now = rt.clock.now()
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    posts = not parsed.option("project")  # added from another channel: no card there
    with rt.db.transaction() as session:
        due = dates.parse_day(parsed.option("due"), place.timezone, now)
        card = milestones.add(session, place, name, due, owner, parsed.option("internal"), now)
        posts = posts and not _hidden_here(card.visibility, place.audience)
        if posts:
            cards.post(rt, session, "milestone", card.id, body["channel_id"], place.audience,
                       body.get("response_url"))
    return render.added_reply(card, dates.local_day(now, place.timezone), card_follows=posts)


def _done(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    with rt.db.transaction() as session:
        card = milestones.done(session, place, parsed.text, rt.clock.now())
        cards.refresh(rt, session, "milestone", card.id, body.get("response_url"))
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
        cards.refresh(rt, session, "milestone", card.id, body.get("response_url"))
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


def _find(session: Session, value: str, actor: Actor) -> Target:
    key, milestone_id = milestones.target(session, value, actor.team_id)
    return Target(key, milestone_id)


def _mark_done(rt: Runtime, press: Press) -> dict[str, Any]:
    """The "Mark done" button: the team only; a second press (or two at once) is told who marked it first."""
    with rt.db.transaction() as session:
        card = milestones.done(session, press.place, str(press.target.record_id), rt.clock.now())
        cards.refresh(rt, session, "milestone", card.id)
    return render.confirm(f"Marked {card.name} done.")


def show_card(session: Session, milestone_id: int, audience: str) -> Shown | None:
    found = milestones.shown(session, milestone_id)
    if found is None:
        return None
    card, project_id, project_name, tz = found
    if audience == "client" and card.visibility != "client":
        return None  # never shown there; were it ever, its card goes
    return Shown(project_id, render.milestone_card(card, project_name, tz, audience))


ACTIONS = [Action(render.DONE_ACTION, _find, _mark_done)]
FORMS = [Form(modals.MilestoneAddIds.CALLBACK, _submitted)]
CARDS = [CardKind("milestone", show_card)]
