"""/risk: the project's risk register, the team's alone.

Every subcommand and the form go through `place_for`, then `risks.check_internal`: a client, and anyone in the
project's client channel, is refused with a sentence that says nothing about the risks, before anything else is
read or checked. Answers are ephemeral and no risk card is posted anywhere. Escalating a risk files a change request
through `handlers.changes.store` (its cards go to the internal and the client channel), titled and described only
with what the person typed: the risk's own words stay with the team.
"""
from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.actors import Actor
from bot.commands import CommandSpec, Parsed, Sub, check_typed, has_visible, user_id_of, person_option
from bot.errors import BadInput, NotFound, SlackTrouble
from bot.render import risks as render
from bot.render.forms import read_form
from bot.runtime import Runtime
from bot.services import changes, dates, risks
from bot.services.places import Place
from handlers import changes as change_handlers
from handlers.context import person, place_for
from handlers.interactive import Form, Submitted, open_form, tell_sender
from handlers.slash import register_command

_REF_USAGE = "R-<n>"
_LEVELS = "low, medium or high"
_OPTIONS = {
    "likelihood": f"how likely it is to happen: {_LEVELS}",
    "impact": f"how much it would hurt: {_LEVELS}",
    "response": "avoid, mitigate, transfer or accept",
    "owner": "who watches it (someone of the team), e.g. @sam",
    "review": "when to look at it again: a date or words such as \"next friday\"",
}
RISK = CommandSpec(
    name="/risk",
    summary="the project's risk register, seen only by the team",
    default_sub="add",
    subs=(
        Sub("add", "Add a risk (the word `add` may be left out); its score is likelihood × impact (low 1, medium 2, "
            "high 3). Bare `/risk` opens a form.",
            usage="likelihood=low|medium|high impact=low|medium|high [response=avoid|mitigate|transfer|accept] "
                  "[owner=@person] [review=<date>] <description>",
            options=_OPTIONS,
            example='add likelihood=medium impact=high owner=@sam review="next friday" The vendor may deliver the '
                    'API late'),
        Sub("list", "The open risks by score, highest first (only you see it).", usage="[state=open|closed|all]",
            options={"state": "open (the default), closed or all"}, example="list state=all"),
        Sub("show", "A risk with its history (only you see it).", usage=_REF_USAGE, example="show R-3",
            takes_ref=True),
        Sub("update", "Change a risk's likelihood, impact, response, owner, review date or description (the text "
            "after the options).",
            usage=f"{_REF_USAGE} [likelihood=…] [impact=…] [response=…] [owner=@…] [review=…] [<new description>]",
            options=_OPTIONS, example="update R-3 likelihood=high review=2026-12-15", takes_ref=True),
        Sub("close", "Close a risk that is gone, saying why.", usage=f"{_REF_USAGE} <note>",
            example="close R-3 The vendor delivered the API", takes_ref=True),
        Sub("escalate", "The risk became an issue: file a change request for it (`CR-<n>`, linked to the risk). Its "
            "card goes to the client's channel too, so its title and description are only what you type here, "
            "never the risk's words.",
            usage=f"{_REF_USAGE} [priority=low|normal|high|urgent] [description=\"…\"] <change request title>",
            options={"priority": "low, normal (the default), high or urgent",
                     "description": "what the client reads under the title (in quotes)"},
            example="escalate R-3 priority=high Move the launch to after the API delivery", takes_ref=True),
        Sub("help", "Show this help.", example="help"),
    ),
)

COMMANDS = [RISK]


def register(app: App, rt: Runtime) -> None:
    register_command(app, rt, RISK, {"add": _add, "list": _list, "show": _show, "update": _update, "close": _close,
                                     "escalate": _escalate})


def _place(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any], doing: str) -> Place:
    """The project, and the refusal for a client or the client's channel before anything else is looked at."""
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    risks.check_internal(place, doing)
    return place


def _owner_is_external(rt: Runtime, place: Place, owner: str | None) -> bool:
    """Whether Slack says the owner is of another organisation (asked only for someone never seen)."""
    if owner is None:
        return False
    try:
        return person(rt, place.actor.team_id, owner).is_external
    except (NotFound, SlackTrouble) as e:
        raise BadInput(e.message, "owner") from e


# -- add -------------------------------------------------------------------------------------------------------------
def _add(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = _place(rt, parsed, actor, body, "add risks")
    if not parsed.text and not parsed.options.keys() - {"project"}:
        return _open_form(rt, place, parsed, body)
    now = rt.clock.now()
    owner = person_option(parsed, "owner")
    draft = risks.draft(place, now, text=parsed.text, likelihood=parsed.option("likelihood"),
                        impact=parsed.option("impact"), response_=parsed.option("response"), owner_id=owner,
                        review_=parsed.option("review"))
    external = _owner_is_external(rt, place, owner)
    with rt.db.transaction() as session:
        card = risks.add(session, place, draft, now, owner_is_external=external)
    return render.added_reply(card)


def _open_form(rt: Runtime, place: Place, parsed: Parsed, body: dict[str, Any]) -> dict[str, Any]:
    view = render.add_modal(body.get("channel_id", ""), parsed.option("project"), place.name)
    open_form(rt, body.get("trigger_id"), view, body.get("response_url"), "Slack didn't open the form. Type it "
              "instead: `/risk add likelihood=medium impact=high <description>`.")
    return {}


def _add_submitted(rt: Runtime, form: Submitted) -> None:
    place = form.place
    assert place is not None
    risks.check_internal(place, "add risks")
    values = read_form(form.view)
    ids = render.FormIds
    for field_ in (ids.DESCRIPTION, ids.LIKELIHOOD, ids.IMPACT, ids.RESPONSE, ids.OWNER, ids.REVIEW):
        if isinstance(values.get(field_), str):
            check_typed(values[field_], "text", field_)
    owner = values.get(ids.OWNER)
    if owner is not None and (not isinstance(owner, str) or user_id_of(f"<@{owner}>") is None):
        raise BadInput("Choose the owner from the list of people.", ids.OWNER)
    now = rt.clock.now()
    draft = risks.draft(place, now, text=_text(values.get(ids.DESCRIPTION)),
                        likelihood=_text(values.get(ids.LIKELIHOOD)), impact=_text(values.get(ids.IMPACT)),
                        response_=_text(values.get(ids.RESPONSE)), owner_id=owner, review_=_text(values.get(ids.REVIEW)))
    external = _owner_is_external(rt, place, owner)
    with rt.db.transaction() as session:
        card = risks.add(session, place, draft, now, owner_is_external=external)
    if not place.is_client_channel:  # a risk is never told in the client's channel, even to one person
        tell_sender(rt, form, render.added_reply(card))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# -- reading ---------------------------------------------------------------------------------------------------------
def _list(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = _place(rt, parsed, actor, body, "see risks")
    with rt.db.read() as session:
        found = risks.listing(session, place, parsed.option("state"))
    return render.list_reply(found, place.key, parsed.option("state"), dates.local_day(rt.clock.now(),
                                                                                        place.timezone))


def _show(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = _place(rt, parsed, actor, body, "see risks")
    with rt.db.read() as session:
        card, history = risks.show(session, place, parsed.ref)
    return render.show_reply(card, history, dates.local_day(rt.clock.now(), place.timezone))


# -- changing --------------------------------------------------------------------------------------------------------
def _update(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = _place(rt, parsed, actor, body, "update risks")
    with rt.db.read() as session:
        risks.find(session, place, parsed.ref)  # which risk first: `R-abc` or `R-99` before the options
    now = rt.clock.now()
    owner = person_option(parsed, "owner")
    asked = risks.changes_of(place, now, text=parsed.text, likelihood=parsed.option("likelihood"),
                             impact=parsed.option("impact"), response_=parsed.option("response"), owner_id=owner,
                             review_=parsed.option("review"))
    external = _owner_is_external(rt, place, owner) if asked else False
    with rt.db.transaction() as session:
        card, before, after = risks.change(session, place, parsed.ref, asked, now, owner_is_external=external)
    return render.updated_reply(card, before, after)


def _close(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = _place(rt, parsed, actor, body, "close risks")
    with rt.db.transaction() as session:
        card = risks.close(session, place, parsed.ref, parsed.text, rt.clock.now())
    return render.closed_reply(card)


def _escalate(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """File a change request for the risk, titled and described only with what was typed here (its cards go to the
    client's channel too), and link the two. The request carries the risk's source key, so one risk files one
    request however often, or however many people at once, escalate it."""
    place = _place(rt, parsed, actor, body, "escalate risks")
    with rt.db.read() as session:
        row = risks.check_escalation(session, place, parsed.ref)
        risk_id = row.id
    if not has_visible(parsed.text):
        raise BadInput(f"Give the change request a title: `/risk escalate R-{row.number} Move the launch after the "
                       "API delivery`. The client sees it, so it is yours to word; the risk stays with the team.",
                       "title")
    draft = changes.draft_change(parsed.text, description=parsed.option("description"),
                                 requested_by=actor.user_id, priority=parsed.option("priority"))
    stored = change_handlers.store(rt, place, draft, source="risk", source_key=risks.source_key(risk_id),
                                   response_url=body.get("response_url"))
    now = rt.clock.now()
    with rt.db.transaction() as session:
        if stored is not None:
            filed, posted = stored
            change_id, number, title = filed.id, filed.number, filed.title
        else:  # filed for this risk before (escalated twice at once, or cut short before the link)
            found = risks.filed_for(session, place, risk_id)
            if found is None:
                raise NotFound("That risk's change request can't be found; try again.")
            (change_id, number, title), posted = found, False
        card = risks.link(session, place, risk_id, change_id, number, title, now, filed_now=stored is not None)
    return render.escalated_reply(card, f"CR-{number}", title, posted)


FORMS = [Form(render.FormIds.CALLBACK, _add_submitted)]
