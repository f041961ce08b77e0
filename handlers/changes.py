"""/change, `@Liaison change: …` / `@Liaison changes`, the "File as change request" shortcut, the buttons on
change-request cards and their forms.

Team members file and move requests with the command, buttons and forms; clients (who can't use our commands)
file with a mention and decide with the Approve / Reject buttons on the card in their shared channel. Every path
goes through `place_for`, and the service checks who may do what.
"""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot.actors import INTERNAL_ROLES, Actor, require_role
from bot.commands import (
    ID_MAX,
    CommandSpec,
    Parsed,
    Sub,
    check_typed,
    has_visible,
    person_option,
    whole_number,
    yes_no,
)
from bot.errors import BadInput, NotFound
from bot.render import changes as render
from bot.render.forms import read_form
from bot.runtime import Runtime
from bot.services import changes
from bot.services.changes import ChangeCard, Moved
from bot.services.places import Place
from handlers import cards
from handlers.cards import CardKind, Shown
from handlers.context import actor_of, place_for
from handlers.interactive import Action, Form, Press, Submitted, Target, open_form, tell_sender
from handlers.slash import register_command

_REF_USAGE = "CR-<n>"
CHANGE = CommandSpec(
    name="/change",
    summary="change requests: filed, assessed by the team, decided by the client",
    default_sub="file",
    subs=(
        Sub("file", "File a change request on this channel's project (the word `file` may be left out); bare "
            "`/change` opens a form with a description, requester and priority.",
            usage="[priority=low|normal|high|urgent] [by=@person] <title>",
            options={"priority": "low, normal (the default), high or urgent",
                     "by": "who asked for it, if not you (may be someone of the client's)"},
            example="priority=high by=@dana Add a newsletter signup to the home page"),
        Sub("assess", "Team: say its impact on schedule (working days) and budget; the client then decides. "
            "`internal=yes` keeps the notes from the client; `milestones=` names the milestones it moves (by "
            "number). Re-assessing an approved request asks the client again. Without options: a form.",
            usage=f"{_REF_USAGE} days=<working days> cost=<amount> currency=<ISO code> [internal=yes] "
                  "[milestones=<n,n>] <scope notes>",
            options={"days": "schedule impact in working days (0 for none)", "cost": "budget impact, e.g. 3000",
                     "currency": "ISO 4217 code, e.g. EUR", "internal": "yes: the notes stay with the team",
                     "milestones": "numbers of the milestones it moves, e.g. 12,14"},
            example="assess CR-7 days=5 cost=3000 currency=EUR milestones=12 New form and its email template",
            takes_ref=True),
        Sub("approve", "Client approvers approve on the card in their channel; the lead may approve on the "
            "client's behalf with `override=yes` and a reason, shown as such everywhere.",
            usage=f"{_REF_USAGE} [override=yes <reason>]", options={"override": "yes: the lead decides for the client"},
            example="approve CR-7 override=yes Dana approved it by phone", takes_ref=True),
        Sub("reject", "Reject, saying why (client approvers, or the lead with `override=yes`).",
            usage=f"{_REF_USAGE} [override=yes] <reason>", options={"override": "yes: the lead decides for the client"},
            example="reject CR-7 override=yes Out of budget this quarter", takes_ref=True),
        Sub("start", "Team: work on an approved request has started.", usage=_REF_USAGE, example="start CR-7",
            takes_ref=True),
        Sub("done", "Team: the change is delivered.", usage=_REF_USAGE, example="done CR-7", takes_ref=True),
        Sub("withdraw", "Team: withdraw a request that is not done (what its approval moved is moved back).",
            usage=f"{_REF_USAGE} [reason]", example="withdraw CR-7 The client found another way", takes_ref=True),
        Sub("show", "Show a request and its history (only you see it).", usage=_REF_USAGE, example="show CR-7",
            takes_ref=True),
        Sub("list", "List the project's change requests (only you see it).", usage="[state=<state>|open]",
            options={"state": "open, submitted, assessed, approved, rejected, in_progress, done or withdrawn"},
            example="list state=open"),
        Sub("help", "Show this help.", example="help"),
    ),
)

COMMANDS = [CHANGE]
EVENTS: list[str] = []  # app_mention is declared by handlers.mentions, which routes `change:` and `changes` here
SHORTCUT_ID = "file_change_request"
SHORTCUTS = [{"name": "File as change request", "type": "message", "callback_id": SHORTCUT_ID,
              "description": "File this message as a change request of the channel's project"}]


def register(app: App, rt: Runtime) -> None:
    register_command(app, rt, CHANGE, {"file": _file, "assess": _assess, "approve": _approve, "reject": _reject,
                                       "start": _start, "done": _done, "withdraw": _withdraw, "show": _show,
                                       "list": _list})

    @app.shortcut(SHORTCUT_ID)
    def on_file_shortcut(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        """Opens the filing form, filled in from the message (its author the requester): what goes on the
        client's card is read, and may be reworded, before anything is filed."""
        message = body.get("message", {})
        ack()
        if not has_visible(message.get("text")):
            raise BadInput("That message has no text to file as a change request.")
        check_typed(message["text"], "message")
        channel_id = body["channel"]["id"]
        place = place_for(rt, actor_of(context), channel_id, None)
        require_role(place.actor, INTERNAL_ROLES, "file a message as a change request")
        title, description = changes.title_of(message["text"])
        view = render.file_modal(channel_id, None, place.name, title, description[:3000],
                                 message.get("user"), message["ts"])
        open_form(rt, body.get("trigger_id"), view, body.get("response_url"),
                  "Slack didn't open the form. Type it instead: `/change <what should change>`.")


# -- filing ----------------------------------------------------------------------------------------------------------
def _post_cards(rt: Runtime, session: Session, place: Place, card: ChangeCard, response_url: str | None) -> bool:
    """One card in each of the project's live channels (its internal and its client channel); False if none."""
    posted = False
    for channel in place.card.channels:
        if not channel.is_archived:
            cards.post(rt, session, "change", card.id, channel.channel_id, channel.audience, response_url)
            posted = True
    return posted


def store(rt: Runtime, place: Place, draft: changes.ChangeDraft, *, source: str, source_key: str | None = None,
           permalink: str | None = None, response_url: str | None = None) -> tuple[ChangeCard, bool] | None:
    """File it and queue its cards (one in each live channel of the project), together; None when this message or
    event was filed before. Also how a risk escalated into a change request is filed (handlers.risks)."""
    try:
        with rt.db.transaction() as session:
            card = changes.file(session, place, draft, rt.clock.now(), source=source, source_key=source_key,
                                permalink=permalink)
            return card, _post_cards(rt, session, place, card, response_url)
    except changes.Duplicate:
        return None


def _file(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    if not parsed.text and not parsed.options.keys() - {"project"}:
        return _open_file_form(rt, parsed, actor, body)
    draft = changes.draft_change(parsed.text, requested_by=person_option(parsed, "by", "@dana"),
                                 priority=parsed.option("priority"))
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    stored = store(rt, place, draft, source="command", response_url=body.get("response_url"))
    assert stored is not None  # a command has no source key, so it is never a duplicate
    card, posted = stored
    return render.filed_reply(card, posted)


def _open_file_form(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    view = render.file_modal(body.get("channel_id", ""), parsed.option("project"), place.name)
    open_form(rt, body.get("trigger_id"), view, body.get("response_url"),
              "Slack didn't open the form. Type it instead: `/change Add a newsletter signup`.")
    return {}


def _file_submitted(rt: Runtime, form: Submitted) -> None:
    """The filing form: from bare `/change`, or from the shortcut (then the message is filed once, however often
    the form is submitted, and its link kept)."""
    assert form.place is not None
    values = read_form(form.view)
    for field_ in (render.FileIds.TITLE, render.FileIds.DESCRIPTION):
        check_typed(values.get(field_) or "", "text", field_)
    draft = changes.draft_change(values.get(render.FileIds.TITLE) or "",
                                 description=values.get(render.FileIds.DESCRIPTION),
                                 requested_by=values.get(render.FileIds.REQUESTER),
                                 priority=values.get(render.FileIds.PRIORITY))
    channel_id, message_ts = form.metadata.get("channel_id"), form.metadata.get("message_ts")
    if isinstance(message_ts, str) and isinstance(channel_id, str):
        stored = store(rt, form.place, draft, source="shortcut", source_key=f"msg:{channel_id}:{message_ts}")
        if stored is None:
            raise BadInput("That message was already filed as a change request.", render.FileIds.TITLE)
        # Its link is asked of Slack after the form has closed (never before the ack), then shown on its cards.
        rt.jobs.enqueue("change.link", {"change_id": stored[0].id, "channel_id": channel_id, "ts": message_ts})
    else:
        stored = store(rt, form.place, draft, source="form")
        assert stored is not None
    card, posted = stored
    tell_sender(rt, form, render.filed_reply(card, posted))


def file_mentioned(rt: Runtime, actor: Actor, event: dict[str, Any], text: str) -> ChangeCard | None:
    """`@Liaison change: …` (how clients file): the person mentioning is the requester. Slack may deliver the
    event twice: filed once. None when it was filed before."""
    title, description = changes.title_of(text)
    draft = changes.draft_change(title, description=description)
    place = place_for(rt, actor, event["channel"], None)
    stored = store(rt, place, draft, source="mention", source_key=f"msg:{event['channel']}:{event['ts']}")
    return None if stored is None else stored[0]


# -- moving it on ----------------------------------------------------------------------------------------------------
def _after_move(rt: Runtime, session: Session, card: ChangeCard, moved: tuple[Moved, ...],
                response_url: str | None = None, totals_changed: bool = False) -> None:
    """The request's cards change in place, and so do those of the milestones it moved, and the project's card
    when the approved totals changed."""
    cards.refresh(rt, session, "change", card.id, response_url)
    for m in moved:
        cards.refresh(rt, session, "milestone", m.milestone_id)
    if totals_changed:
        cards.refresh(rt, session, "project", card.project_id)


def _assess(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    wanted = {"days", "cost", "currency", "internal", "milestones"}
    if not parsed.options.keys() & wanted and not parsed.text:
        return _open_assess_form(rt, place, parsed.ref, body.get("channel_id"), body.get("trigger_id"),
                                 body.get("response_url"))
    assessment = changes.draft_assessment(
        days=parsed.option("days"), cost=parsed.option("cost"), currency=parsed.option("currency"),
        notes=parsed.text,
        internal=None if parsed.option("internal") is None else yes_no(parsed.option("internal"), "internal"),
        milestone_ids=_milestone_numbers(parsed.option("milestones")))
    return _assessed(rt, place, parsed.ref, assessment, body.get("response_url"))


def _assessed(rt: Runtime, place: Place, ref: str, assessment: changes.Assessment,
              response_url: str | None) -> dict[str, Any]:
    with rt.db.transaction() as session:
        was = changes.find(session, place, ref).state
        card, moved_back = changes.assess(session, place, ref, assessment, rt.clock.now())
        _after_move(rt, session, card, moved_back, response_url, totals_changed=was == "approved")
        if was == "approved":  # the approval covered another assessment: the client is asked again
            for channel in place.card.channels_for("client"):
                rt.jobs.enqueue("slack.post", {"channel_id": channel.channel_id,
                                               "payload": render.reassessed_notice(card.for_client())},
                                session=session)
    text = f"Assessed {card.ref}: {render.impact_line(card)}."
    if was == "approved":
        text += " Its approval no longer holds: the client has been asked to decide again."
    return render.done_reply(text, moved_back, moved_back=True)


def _milestone_numbers(raw: str | None) -> tuple[int, ...]:
    if raw is None:
        return ()
    numbers = []
    for word in raw.replace(" ", ",").split(","):
        word = word.strip().lstrip("#")
        if not word:
            continue
        if whole_number(word, 1, ID_MAX) is None:
            raise BadInput(f"`milestones={raw}` should list milestone numbers, e.g. `milestones=12,14` "
                           "(`/milestone list` shows them).", "milestones")
        numbers.append(int(word))
    return tuple(numbers)


def _open_assess_form(rt: Runtime, place: Place, ref: str, channel_id: str | None, trigger_id: str | None,
                      response_url: str | None) -> dict[str, Any]:
    require_role(place.actor, INTERNAL_ROLES, "assess change requests")
    with rt.db.read() as session:
        row = changes.find(session, place, ref)
        if row.state not in ("submitted", "assessed", "approved"):
            raise BadInput(changes.illegal(row, "assess"))
        card = changes.shown(session, row.id, "internal")
        assert card is not None
        open_milestones = changes.open_milestones(session, place)
    view = render.assess_modal(card, channel_id, open_milestones, card.totals.budget_currency)
    open_form(rt, trigger_id, view, response_url, "Slack didn't open the form. Type it instead: "
              f"`/change assess {card.ref} days=5 cost=3000 currency=EUR`.")
    return {}


def _assess_submitted(rt: Runtime, form: Submitted) -> None:
    assert form.place is not None
    values = read_form(form.view)
    ids = render.AssessIds
    check_typed(values.get(ids.NOTES) or "", "text", ids.NOTES)
    assessment = changes.draft_assessment(
        days=values.get(ids.DAYS), cost=values.get(ids.COST), currency=values.get(ids.CURRENCY),
        notes=values.get(ids.NOTES), internal=bool(values.get(ids.INTERNAL)),
        milestone_ids=_milestone_numbers(",".join(str(v) for v in values.get(ids.MILESTONES) or [])))
    ref = _ref_of(rt, form)
    reply = _assessed(rt, form.place, ref, assessment, None)
    tell_sender(rt, form, reply)


def _ref_of(rt: Runtime, form: Submitted) -> str:
    """The request a form was opened for (a claim in its metadata): it must be of the form's project."""
    assert form.place is not None
    with rt.db.read() as session:
        return changes.ref_of(session, form.place, form.metadata.get("change"))


def _approve(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    override = yes_no(parsed.option("override"), "override")
    return _decided(rt, place, parsed.ref, True, parsed.text or None, override, None, body.get("response_url"))


def _reject(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    override = yes_no(parsed.option("override"), "override")
    return _decided(rt, place, parsed.ref, False, parsed.text or None, override, None, body.get("response_url"))


def _decided(rt: Runtime, place: Place, ref: str, approve: bool, reason: str | None, override: bool,
             version: int | None, response_url: str | None) -> dict[str, Any]:
    with rt.db.transaction() as session:
        card, moved = changes.decide(session, place, ref, approve, rt.clock.now(), reason=reason, override=override,
                                     version=version)
        _after_move(rt, session, card, moved, response_url, totals_changed=approve)
        if moved:  # the team is shown old -> new dates
            for channel in place.card.channels_for("internal"):
                rt.jobs.enqueue("slack.post", {"channel_id": channel.channel_id,
                                               "payload": render.moved_notice(card, moved)}, session=session)
    verb = "Approved" if approve else "Rejected"
    behalf = " on the client's behalf" if override else ""
    shown = moved if place.shows == "internal" else tuple(m for m in moved if m.visibility == "client")
    return render.done_reply(f"{verb} {card.ref}{behalf}.", shown)


def _step(rt: Runtime, place: Place, ref: str, step: Any, said: str, response_url: str | None) -> dict[str, Any]:
    """Start or finish it (`changes.start` / `changes.finish`); its cards follow."""
    with rt.db.transaction() as session:
        card = step(session, place, ref, rt.clock.now())
        _after_move(rt, session, card, (), response_url)
    return render.done_reply(said.format(ref=card.ref))


def _start(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    return _step(rt, place, parsed.ref, changes.start, "Started {ref}.", body.get("response_url"))


def _done(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    return _step(rt, place, parsed.ref, changes.finish, "Marked {ref} done.", body.get("response_url"))


def _withdraw(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    return _withdrawn(rt, place, parsed.ref, parsed.text or None, body.get("response_url"))


def _withdrawn(rt: Runtime, place: Place, ref: str, reason: str | None, response_url: str | None) -> dict[str, Any]:
    with rt.db.transaction() as session:
        was = changes.find(session, place, ref).state
        card, moved_back = changes.withdraw(session, place, ref, rt.clock.now(), reason)
        _after_move(rt, session, card, moved_back, response_url, totals_changed=was in changes.APPROVED)
    return render.done_reply(f"Withdrew {card.ref}.", moved_back, moved_back=True)


def _show(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    with rt.db.read() as session:
        card, history = changes.show(session, place, parsed.ref)
    return render.show_reply(card, history, place.shows)


def _list(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    return listing(rt, place, parsed.option("state"))


def listing(rt: Runtime, place: Place, state: str | None = None) -> dict[str, Any]:
    with rt.db.read() as session:
        found = changes.listing(session, place, state)
        totals = changes.totals(session, [place.project_id])[place.project_id]
    return render.list_reply(found, place.key, totals, state)


# -- buttons and forms -----------------------------------------------------------------------------------------------
def _find(session: Session, value: str, actor: Actor) -> Target:
    key, change_id, version = changes.target(session, value, actor.team_id)
    return Target(key, change_id, version)


def _ref(rt: Runtime, press: Press) -> str:
    with rt.db.read() as session:
        return changes.ref_of(session, press.place, press.target.record_id)


def _press_assess(rt: Runtime, press: Press) -> None:
    _open_assess_form(rt, press.place, _ref(rt, press), press.channel_id, press.trigger_id, press.response_url)


def _press_approve(rt: Runtime, press: Press) -> dict[str, Any]:
    if press.target.version is None:  # every Approve button names the assessment it shows
        raise NotFound("That button names no assessment, so nothing was approved. Use the Approve button on the "
                       "request's card.")
    return _decided(rt, press.place, _ref(rt, press), True, None, False, press.target.version, None)


def _press_reject(rt: Runtime, press: Press) -> None:
    """Opens the form that asks why; who may reject (and whether it still can be) is checked before it opens."""
    if press.target.version is None:
        raise NotFound("That button names no assessment, so nothing was rejected. Use the Reject button on the "
                       "request's card.")
    ref = _ref(rt, press)
    with rt.db.read() as session:
        row = changes.find(session, press.place, ref)
        changes.check_decision(session, press.place, row, "reject", press.target.version)
        card = changes.shown(session, row.id, press.place.shows)
        assert card is not None
    open_form(rt, press.trigger_id, render.reject_modal(card, press.channel_id, press.target.version),
              press.response_url, f"Slack didn't open the form. Ask the project lead to reject {card.ref} for you "
              f"with `/change reject {card.ref} override=yes <your reason>`.")


def _reject_submitted(rt: Runtime, form: Submitted) -> None:
    assert form.place is not None
    values = read_form(form.view)
    check_typed(values.get(render.RejectIds.REASON) or "", "text", render.RejectIds.REASON)
    version = form.metadata.get("version")
    reply = _decided(rt, form.place, _ref_of(rt, form), False, values.get(render.RejectIds.REASON), False,
                     version if isinstance(version, int) else None, None)
    tell_sender(rt, form, reply)


def _press_start(rt: Runtime, press: Press) -> dict[str, Any]:
    return _step(rt, press.place, _ref(rt, press), changes.start, "Started {ref}.", None)


def _press_done(rt: Runtime, press: Press) -> dict[str, Any]:
    return _step(rt, press.place, _ref(rt, press), changes.finish, "Marked {ref} done.", None)


def _press_withdraw(rt: Runtime, press: Press) -> dict[str, Any]:
    return _withdrawn(rt, press.place, _ref(rt, press), None, None)


def show_card(session: Session, change_id: int, audience: str) -> Shown | None:
    card = changes.shown(session, change_id, audience)
    if card is None:
        return None
    return Shown(card.project_id, render.change_card(card, audience))


ACTIONS = [
    Action(render.ASSESS_ACTION, _find, _press_assess),
    Action(render.APPROVE_ACTION, _find, _press_approve),
    Action(render.REJECT_ACTION, _find, _press_reject),
    Action(render.START_ACTION, _find, _press_start),
    Action(render.DONE_ACTION, _find, _press_done),
    Action(render.WITHDRAW_ACTION, _find, _press_withdraw),
]
FORMS = [
    Form(render.FileIds.CALLBACK, _file_submitted),
    Form(render.AssessIds.CALLBACK, _assess_submitted),
    Form(render.RejectIds.CALLBACK, _reject_submitted),
]
CARDS = [CardKind("change", show_card)]


def link_job(rt: Runtime, args: dict[str, Any]) -> None:
    """The link to the message a request was filed from, kept and shown on its cards; without it if Slack says no."""
    try:
        permalink = rt.client.chat_getPermalink(channel=args["channel_id"], message_ts=args["ts"]).get("permalink")
    except (SlackApiError, SlackClientError):
        return  # the request matters more than the link to it
    with rt.db.transaction() as session:
        if changes.keep_permalink(session, args["change_id"], permalink):
            cards.refresh(rt, session, "change", args["change_id"])


JOBS = {"change.link": link_job}
