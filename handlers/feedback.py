"""/feedback, `@Liaison feedback: …`, the follow-up alert card with its Resolved button and form.

The team records what a client said elsewhere with the command or its form; the client writes in their shared
channel with a mention (answered in the thread, stored once whatever Slack's retries). A low score or a complaint
opens a follow-up, whose living card (kind "followup") goes to the project's internal channels only, in the same
transaction. Survey answers (handlers.surveys) open the same follow-ups and post the same card.
"""
from __future__ import annotations

from typing import Any

from slack_bolt import App
from sqlalchemy.orm import Session

from bot.actors import Actor
from bot.commands import CommandSpec, Parsed, Sub, check_typed, user_id_of, yes_no, person_option
from bot.errors import BadInput
from bot.render import feedback as render
from bot.render.forms import read_form
from bot.runtime import Runtime
from bot.services import dates, feedback, followups
from bot.services.places import Place
from handlers import cards
from handlers.cards import CardKind, Shown
from handlers.context import place_for
from handlers.interactive import Action, Form, Press, Submitted, Target, open_form, tell_sender
from handlers.slash import register_command

_REF_USAGE = "F-<n>"
FEEDBACK = CommandSpec(
    name="/feedback",
    summary="what clients say about the project, and the follow-ups of low scores and complaints (team only)",
    default_sub="log",
    subs=(
        Sub("log", "Record feedback a client gave elsewhere (a call, an e-mail); the word `log` may be left out. A "
            "score of 2 or less, or `complaint=yes`, raises a follow-up with an alert in the internal channels. Bare "
            "`/feedback` opens a form.",
            usage="[score=1-5] [from=@person] [complaint=yes] <what they said>",
            options={"score": "1 (very unhappy) to 5 (very happy); may be left out",
                     "from": "the client person who said it; may be left out when the project has exactly one",
                     "complaint": "yes: it is a complaint, and raises a follow-up whatever the score"},
            example="score=2 from=@dana complaint=yes The staging site was down during their board demo"),
        Sub("list", "The project's feedback, newest first (only you see it; never in the client's channel).",
            usage="[since=DATE]", options={"since": "a date or words such as \"3 days ago\""},
            example='list since="last monday"'),
        Sub("followups", "The open follow-ups of low scores and complaints, with their owners.", example="followups"),
        Sub("owner", "Hand a follow-up to someone else on the team.", usage=f"{_REF_USAGE} @person",
            example="owner F-3 @sam", takes_ref=True),
        Sub("resolve", "Close a follow-up, saying what was done (or press Resolved on its card).",
            usage=f"{_REF_USAGE} <what was done>", example="resolve F-3 Called Dana; the demo is rescheduled",
            takes_ref=True),
        Sub("help", "Show this help.", example="help"),
    ),
)

COMMANDS = [FEEDBACK]
EVENTS: list[str] = []  # app_mention is declared by handlers.mentions, which routes `feedback:` here


def register(app: App, rt: Runtime) -> None:
    register_command(app, rt, FEEDBACK, {"log": _log, "list": _list, "followups": _followups, "owner": _owner,
                                         "resolve": _resolve})


# -- recording -------------------------------------------------------------------------------------------------------
def post_alert(rt: Runtime, session: Session, project_id: int, follow_up_id: int,
               response_url: str | None = None) -> bool:
    """The follow-up's alert card in each live internal channel of the project (never its client channel), in
    `session`'s transaction; False when it has none. Survey answers raise theirs the same way."""
    channels = followups.internal_channels(session, project_id)
    for channel_id in channels:
        cards.post(rt, session, "followup", follow_up_id, channel_id, "internal", response_url)
    return bool(channels)


def store(rt: Runtime, place: Place, draft: feedback.FeedbackDraft, *, source: str, source_key: str | None = None,
          response_url: str | None = None, thanks: dict[str, Any] | None = None,
          ) -> tuple[feedback.FeedbackEntry, bool] | None:
    """Store it, with its follow-up's alert cards (and `thanks`, a slack.post job's args) in the same transaction;
    None when this message or event was stored before."""
    try:
        with rt.db.transaction() as session:
            entry = feedback.record(session, place, draft, rt.clock.now(), source=source, source_key=source_key)
            posted = False
            if entry.follow_up_id is not None:
                posted = post_alert(rt, session, place.project_id, entry.follow_up_id, response_url)
            if thanks is not None:
                rt.jobs.enqueue("slack.post", thanks, session=session)
            return entry, posted
    except feedback.Duplicate:
        return None


def _log(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    if not parsed.text and not parsed.options.keys() - {"project"}:
        return _open_log_form(rt, parsed, actor, body)
    draft = feedback.draft_feedback(parsed.text, score=parsed.option("score"), from_user=person_option(parsed, "from", "@dana"),
                                    complaint=yes_no(parsed.option("complaint"), "complaint"))
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    feedback.check_can_log(place)
    feedback.check_from(place, draft.from_user, rt.members.includes)
    stored = store(rt, place, draft, source="command", response_url=body.get("response_url"))
    assert stored is not None  # a command has no source key, so it is never a duplicate
    return render.logged_reply(*stored)


def _open_log_form(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    feedback.check_can_log(place)
    view = render.log_modal(body.get("channel_id", ""), parsed.option("project"), place.name)
    open_form(rt, body.get("trigger_id"), view, body.get("response_url"),
              "Slack didn't open the form. Type it instead: `/feedback score=4 from=@dana Happy with the new design`.")
    return {}


def _log_submitted(rt: Runtime, form: Submitted) -> None:
    assert form.place is not None
    values = read_form(form.view)
    text = values.get(render.LogIds.TEXT) or ""
    if not isinstance(text, str):  # a forged form
        raise BadInput("Say what the client said, as text.", render.LogIds.TEXT)
    check_typed(text, "text", render.LogIds.TEXT)
    # Score and from are checked by draft_feedback: a forged form may send anything in their place.
    draft = feedback.draft_feedback(text, score=values.get(render.LogIds.SCORE),
                                    from_user=values.get(render.LogIds.FROM),
                                    complaint=bool(values.get(render.LogIds.COMPLAINT)))
    feedback.check_can_log(form.place)
    feedback.check_from(form.place, draft.from_user, rt.members.includes)
    stored = store(rt, form.place, draft, source="form")
    assert stored is not None
    tell_sender(rt, form, render.logged_reply(*stored))


def log_mentioned(rt: Runtime, actor: Actor, event: dict[str, Any], text: str) -> feedback.FeedbackEntry | None:
    """`@Liaison feedback: …` (how clients tell the team): stored once and thanked once in its thread, however
    often Slack delivers the event. None when it was stored before."""
    place = place_for(rt, actor, event["channel"], None)
    draft = feedback.draft_feedback(text)
    thread = event.get("thread_ts") or event["ts"]
    thanks = {"channel_id": event["channel"], "payload": {**render.thanks_in_thread(actor.user_id),
                                                          "thread_ts": thread}}
    stored = store(rt, place, draft, source="mention", source_key=f"msg:{event['channel']}:{event['ts']}",
                   thanks=thanks)
    return None if stored is None else stored[0]


# -- reading ---------------------------------------------------------------------------------------------------------
def _team_place(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any], doing: str) -> Place:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    followups.require_team_here(place, doing)
    return place


def _list(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = _team_place(rt, parsed, actor, body, "list feedback")
    if parsed.text:
        raise BadInput("`/feedback list` takes only `since=`. To record feedback that starts with the word “list”, "
                       "begin with `log`: `/feedback log list …`.")
    now = rt.clock.now()
    with rt.db.read() as session:
        since = dates.parse_since(parsed.option("since"), place.timezone, now)
        found = feedback.listing(session, place, since)
    return render.list_reply(found, place.key, place.timezone, feedback.LIST_MOST)


def _followups(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = _team_place(rt, parsed, actor, body, "list follow-ups")
    if parsed.text:
        raise BadInput("`/feedback followups` takes nothing more. To record feedback that starts with that word, "
                       "begin with `log`: `/feedback log …`.")
    with rt.db.read() as session:
        found = followups.listing(session, place)
    return render.followups_reply(found, place.key)


# -- acting on follow-ups --------------------------------------------------------------------------------------------
def _owner(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = _team_place(rt, parsed, actor, body, "hand follow-ups on")
    words = parsed.text.split()
    new_owner = user_id_of(words[0]) if len(words) == 1 else None
    if new_owner is None:
        raise BadInput("Name the new owner: `/feedback owner F-3 @sam`.", "owner")
    with rt.db.read() as session:
        row = followups.find(session, place, parsed.ref)
    return reassigned(rt, place, row.id, new_owner, body.get("response_url"))


def reassigned(rt: Runtime, place: Place, follow_up_id: int, owner_id: str,
               response_url: str | None = None) -> dict[str, Any]:
    followups.check_owner(place, owner_id, rt.members.includes)  # may ask Slack: before the transaction
    with rt.db.transaction() as session:
        card, before = followups.reassign(session, place, follow_up_id, owner_id, rt.clock.now())
        cards.refresh(rt, session, "followup", card.id, response_url)
        if owner_id != place.actor.user_id:  # the new owner hears of it, by direct message
            rt.jobs.enqueue("slack.post", {"channel_id": owner_id,
                                           "payload": render.owner_told(card, place.actor.user_id)}, session=session)
    was = f" (was <@{before}>)" if before else ""
    return render.done_reply(f"{card.ref} is now owned by <@{owner_id}>{was}.")


def _resolve(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = _team_place(rt, parsed, actor, body, "resolve follow-ups")
    with rt.db.read() as session:
        row = followups.find(session, place, parsed.ref)
    return resolved(rt, place, row.id, parsed.text, body.get("response_url"))


def resolved(rt: Runtime, place: Place, follow_up_id: int, note: str | None,
             response_url: str | None = None) -> dict[str, Any]:
    with rt.db.transaction() as session:
        card = followups.resolve(session, place, follow_up_id, note, rt.clock.now())
        cards.refresh(rt, session, "followup", card.id, response_url)
    return render.done_reply(f"Resolved {card.ref}; its card says so.")


# -- the Resolved button and its form ----------------------------------------------------------------------------------
def _find(session: Session, value: str, actor: Actor) -> Target:
    key, follow_up_id = followups.target(session, value, actor.team_id)
    return Target(key, follow_up_id)


def _press_resolve(rt: Runtime, press: Press) -> None:
    """Opens the form asking for a note; who may resolve (and whether it still can be) is checked before."""
    place = press.place
    followups.require_team_here(place, "resolve follow-ups")
    with rt.db.read() as session:
        row = followups.of_place(session, place, press.target.record_id)
        followups.check_open(session, place, row)
        card = followups.shown(session, row.id)
        assert card is not None
    open_form(rt, press.trigger_id, render.resolve_modal(card, press.channel_id), press.response_url,
              f"Slack didn't open the form. Type it instead: `/feedback resolve {card.ref} <what was done>`.")


def _resolve_submitted(rt: Runtime, form: Submitted) -> None:
    assert form.place is not None
    values = read_form(form.view)
    note = values.get(render.ResolveIds.NOTE) or ""
    check_typed(note, "note", render.ResolveIds.NOTE)
    claim = form.metadata.get("followup")
    with rt.db.read() as session:
        follow_up_id = followups.of_place(session, form.place, claim).id
    reply = resolved(rt, form.place, follow_up_id, note)
    tell_sender(rt, form, reply)


def show_card(session: Session, follow_up_id: int, audience: str) -> Shown | None:
    """A follow-up's alert card: the team's only, so a client channel shows none (and any card that found its way
    into one is deleted at the next refresh)."""
    if audience != "internal":
        return None
    card = followups.shown(session, follow_up_id)
    if card is None:
        return None
    return Shown(card.project_id, render.followup_card(card))


ACTIONS = [Action(render.RESOLVE_ACTION, _find, _press_resolve)]
FORMS = [
    Form(render.LogIds.CALLBACK, _log_submitted),
    Form(render.ResolveIds.CALLBACK, _resolve_submitted),
]
CARDS = [CardKind("followup", show_card)]
