"""Feedback and follow-ups as people see them (pure): the alert card, lists, replies, the forms, the reminder.

Everything here is for the team, except `thanks_in_thread` (the answer to a client's `@Liaison feedback: …`), which
says nothing of what was stored beyond thanking them. A survey answer is shown with its score and comment, never
with the name of whoever gave it.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.markup import to_mrkdwn
from bot.render.forms import form_input, modal, option
from bot.render.kit import Block, actions, bulleted, button, context, ephemeral, fields, message, section
from bot.services.feedback import FeedbackEntry
from bot.services.followups import FollowUpCard, Origin

RESOLVE_ACTION = "followup.resolve"  # opens the form asking for a note; value: the follow-up's id
VIA = {"command": "recorded with `/feedback`", "form": "recorded with the feedback form",
       "mention": "written by the client in their channel", "survey": "a survey answer"}


def _day(at: datetime | None, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b") if at else "?"


def _quoted(text: str, most: int) -> str:
    return "\n".join(f">{line}" for line in to_mrkdwn(text, most).split("\n"))


def score_shown(score: int | None) -> str:
    return f"{score}/5" if score is not None else "none given"


def raised_by(o: Origin) -> str:
    """What raised the alert, in a few words: "Complaint from <@U1>", "Low survey score (1/5)"."""
    if o.source == "survey":
        return f"Low survey score ({score_shown(o.score)})"
    who = f" from <@{o.from_user}>" if o.from_user else ""
    if o.complaint and o.low:
        return f"Complaint ({score_shown(o.score)}){who}"
    if o.complaint:
        return f"Complaint{who}"
    return f"Low score ({score_shown(o.score)}){who}"


def _owner(c: FollowUpCard) -> str:
    return f"<@{c.owner_id}>" if c.owner_id else f"nobody yet (`/feedback owner {c.ref} @person`)"


# -- the alert card --------------------------------------------------------------------------------------------------
def followup_card(c: FollowUpCard) -> dict[str, Any]:
    """The alert's living card, for internal channels only; changed in place when reassigned or resolved."""
    o = c.origin
    what = raised_by(o)
    state = "open" if c.is_open else "resolved"
    badge = ":rotating_light:" if c.is_open else ":white_check_mark:"
    head = f"{badge} *{c.ref}: {what}* — {state}"
    who = "a client (survey answers are anonymous)" if o.source == "survey" else (
        f"<@{o.from_user}>" if o.from_user else "?")
    pairs = [("Score", score_shown(o.score)), ("From", who), ("Owner", _owner(c)),
             ("Opened", _day(c.opened_at, c.timezone))]
    blocks: list[Block] = [section(head), fields(pairs)]
    if o.gone:
        blocks.append(section("_What raised it was deleted since._"))
    elif o.text:
        blocks.append(section(_quoted(o.text, 1500)))
    if not c.is_open:
        note = to_mrkdwn(c.resolution or "", 1000)
        blocks.append(section(f"Resolved by <@{c.resolved_by}> on {_day(c.resolved_at, c.timezone)}: {note}"))
    how = VIA.get(o.via or "", "") if o.source == "feedback" else VIA["survey"]
    by = f" by <@{o.logged_by}>" if o.source == "feedback" and o.via in ("command", "form") and o.logged_by else ""
    notes = [f"`{c.project_key}` · {to_mrkdwn(c.project_name, 100)}"]
    if how:
        notes.append(f"{how}{by} on {_day(o.at, c.timezone)}")
    notes.append("Only the team sees this" if c.is_open else "Closed")
    blocks.append(context(" · ".join(notes)))
    if c.is_open:
        blocks.append(actions(button("Resolved", RESOLVE_ACTION, str(c.id), style="primary"),
                              block_id=f"followup-{c.id}"))
    return message(f"{c.ref}: {what} ({state})", blocks)


def followup_reminder(c: FollowUpCard, waited: int) -> dict[str, Any]:
    """To the owner, by direct message, once each working day while it stays open."""
    days = f"{waited} working day{'s' if waited != 1 else ''}"
    text = f":alarm_clock: *{c.ref}* on *{to_mrkdwn(c.project_name, 100)}* has been open for {days}: " \
           f"{raised_by(c.origin)}."
    blocks: list[Block] = [section(text)]
    if c.origin.text and not c.origin.gone:
        blocks.append(section(_quoted(c.origin.text, 500)))
    blocks.append(context(f"You own it. Resolve it with the button, or `/feedback resolve {c.ref} <what was done>`; "
                          f"`/feedback owner {c.ref} @person` hands it on."))
    if c.is_open:
        blocks.append(actions(button("Resolved", RESOLVE_ACTION, str(c.id), style="primary"),
                              block_id=f"followup-{c.id}"))
    return message(f"{c.ref} on {c.project_name} is still open after {days}", blocks)


def owner_told(c: FollowUpCard, by: str) -> dict[str, Any]:
    """To the new owner of a follow-up, by direct message."""
    return message(f"You now own {c.ref} on {c.project_name}", [
        section(f":handshake: <@{by}> handed you *{c.ref}* on *{to_mrkdwn(c.project_name, 100)}*: "
                f"{raised_by(c.origin)}."),
        context(f"Resolve it with the Resolved button on its card or `/feedback resolve {c.ref} <what was done>`."),
    ])


# -- replies ---------------------------------------------------------------------------------------------------------
def logged_reply(e: FeedbackEntry, posted: bool) -> dict[str, Any]:
    bits = [f"score {score_shown(e.score)}" if e.score is not None else "", "complaint" if e.complaint else ""]
    extra = ", ".join(b for b in bits if b)
    text = f":white_check_mark: Recorded feedback from <@{e.from_user}> on `{e.project_key}`" + (
        f" ({extra})." if extra else ".")
    if e.follow_up_id is not None:
        owner = f"<@{e.follow_up_owner}>" if e.follow_up_owner else "nobody yet (the project has no lead)"
        text += f" It raised follow-up *F-{e.follow_up_id}*, owned by {owner}"
        text += "; its card follows in the internal channel." if posted else \
            ", but the project has no internal channel to show its card in."
    return ephemeral(f"Recorded feedback from <@{e.from_user}>.", [section(text)])


def thanks_in_thread(user_id: str) -> dict[str, Any]:
    """The answer to a client's `@Liaison feedback: …`, in its thread (the client sees it)."""
    return message("Thank you for your feedback", [section(
        f":pray: Thank you, <@{user_id}>. Your feedback went to the team; only the team reads it.")])


def done_reply(text: str) -> dict[str, Any]:
    return ephemeral(text, [section(f":white_check_mark: {text}")])


def _feedback_line(e: FeedbackEntry, tz: str) -> str:
    bits = [f"*{score_shown(e.score)}*" if e.score is not None else "", ":warning: complaint" if e.complaint else ""]
    head = " ".join(b for b in (_day(e.created_at, tz), f"<@{e.from_user}>", *bits) if b)
    follow = ""
    if e.follow_up_id is not None:
        follow = f" _(F-{e.follow_up_id} {'open' if e.follow_up_open else 'resolved'})_"
    return f"{head} — {to_mrkdwn(' '.join(e.text.split()), 200)}{follow}"


def list_reply(found: list[FeedbackEntry], key: str, tz: str, most: int) -> dict[str, Any]:
    shown = found[:most]
    scores = [e.score for e in shown if e.score is not None]
    blocks = [section(f"*Client feedback on `{key}`*"),
              section(bulleted(shown, lambda e: _feedback_line(e, tz), most=most, empty="_no feedback yet_"))]
    notes = []
    if scores:
        notes.append(f"Average score {sum(scores) / len(scores):.1f}/5 over {len(scores)} scored")
    if len(found) > most:
        notes.append(f"the latest {most}; older ones with `since=`")
    notes.append("Only the team sees feedback")
    blocks.append(context(" · ".join(notes)))
    return ephemeral(f"Client feedback on {key}", blocks)


def _followup_line(c: FollowUpCard) -> str:
    return f"*{c.ref}* {raised_by(c.origin)} — owner {_owner(c)}, open since {_day(c.opened_at, c.timezone)}"


def followups_reply(found: list[FollowUpCard], key: str, most: int = 50) -> dict[str, Any]:
    blocks = [section(f"*Open follow-ups of `{key}`*"),
              section(bulleted(found[:most], _followup_line, most=most, empty="_none: nothing waits on the team_"))]
    blocks.append(context("`/feedback resolve F-<n> <what was done>` closes one; `/feedback owner F-<n> @person` hands "
                          "it on."))
    return ephemeral(f"Open follow-ups of {key}", blocks)


# -- forms -----------------------------------------------------------------------------------------------------------
class LogIds(StrEnum):
    CALLBACK = "feedback-log"
    FROM = "from"
    SCORE = "score"
    COMPLAINT = "complaint"
    TEXT = "text"


class ResolveIds(StrEnum):
    CALLBACK = "followup-resolve"
    NOTE = "note"


SCORES = ("1 — very unhappy", "2 — unhappy", "3 — neutral", "4 — happy", "5 — very happy")


def log_modal(channel_id: str, project: str | None, project_name: str) -> dict[str, Any]:
    ids = LogIds
    return modal(ids.CALLBACK, "Client feedback", "Record", {"channel_id": channel_id, "project": project}, [
        context(f"Project: *{to_mrkdwn(project_name, 150)}* · only the team sees feedback"),
        form_input(ids.FROM, "From", {"type": "users_select"},
               "The client person who said it (may be left empty when the project has exactly one)", optional=True),
        form_input(ids.SCORE, "Score", {"type": "static_select", "options": [
            option(label, str(n)) for n, label in enumerate(SCORES, 1)]},
            "2 or less raises a follow-up", optional=True),
        form_input(ids.COMPLAINT, "Complaint", {"type": "checkboxes", "options": [
            option("It's a complaint: raise a follow-up", "yes")]}, optional=True),
        form_input(ids.TEXT, "What they said", {"type": "plain_text_input", "multiline": True, "max_length": 3000}),
    ])


def resolve_modal(c: FollowUpCard, channel_id: str | None) -> dict[str, Any]:
    return modal(ResolveIds.CALLBACK, f"Resolve {c.ref}", "Resolve",
                  {"channel_id": channel_id, "project": c.project_key, "followup": c.id}, [
                      section(f"*{c.ref}: {raised_by(c.origin)}*"),
                      form_input(ResolveIds.NOTE, "What was done", {"type": "plain_text_input", "multiline": True,
                                                                "max_length": 1000},
                             "The team reads it later"),
                  ])
