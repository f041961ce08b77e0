"""The risk register as the team sees it (pure): answers only the person sees, the list, a risk with its history,
and the form. Nothing here is ever posted in a channel: risks are the team's, and every answer is ephemeral.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.markup import to_mrkdwn
from bot.render.forms import form_input
from bot.render.kit import Block, bulleted, context, ephemeral, fields, section
from bot.services.risks import SCORE_MOST, HistoryEntry, RiskCard
from storage.models import LEVELS, RESPONSES

VERBS = {"add": "added it", "update": "updated", "close": "closed it", "escalate": "escalated it"}
NAMES = {"description": "description", "likelihood": "likelihood", "impact": "impact", "response": "response",
         "owner": "owner", "review": "review"}


def badge(score: int) -> str:
    return ":red_circle:" if score >= 6 else ":large_orange_circle:" if score >= 3 else ":large_yellow_circle:"


def score_line(c: RiskCard) -> str:
    return f"score {c.score}/{SCORE_MOST} (likelihood {c.likelihood} × impact {c.impact})"


def _day(day: date) -> str:
    return f"{day:%a %d %b %Y}"


def _when(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b")


def _review_day(c: RiskCard, today: date) -> str | None:
    if c.review_date is None:
        return None
    if c.state == "open" and c.review_date < today:
        return f"overdue (was {_day(c.review_date)})"
    return _day(c.review_date)


def _review(c: RiskCard, today: date) -> str | None:
    day = _review_day(c, today)
    return None if day is None else f"review {day}"


def _escalation(c: RiskCard) -> str | None:
    if c.change_ref is None:
        return None
    state = f" ({c.change_state.replace('_', ' ')})" if c.change_state else ""
    return f"escalated to {c.change_ref}{state}"


def _line(c: RiskCard, today: date) -> str:
    extras = [f"owner <@{c.owner_id}>" if c.owner_id else "no owner", c.response or "no response yet"]
    extras += [x for x in (_review(c, today), _escalation(c)) if x]
    if c.state == "closed" and c.closed_at is not None:
        extras.append(f"closed {_when(c.closed_at, c.timezone)}")
    return (f"{badge(c.score) if c.state == 'open' else ':white_check_mark:'} *{c.ref}* score {c.score}/{SCORE_MOST} "
            f"— {to_mrkdwn(c.description, 150)} _({', '.join(extras)})_")


# -- answers ---------------------------------------------------------------------------------------------------------
def added_reply(c: RiskCard) -> dict[str, Any]:
    text = f"Added {c.ref} to the risk register of `{c.project_key}`: {score_line(c)}."
    return ephemeral(text, [section(f":white_check_mark: {text}"),
                            context("Only the team sees risks: `/risk list` shows the open ones by score.")])


def updated_reply(c: RiskCard, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    text = f"Updated {c.ref}: {_changes(before, after)}. Now {score_line(c)}."
    return ephemeral(f"Updated {c.ref}.", [section(f":white_check_mark: {text}")])


def closed_reply(c: RiskCard) -> dict[str, Any]:
    return ephemeral(f"Closed {c.ref}.", [section(f":white_check_mark: Closed *{c.ref}*: "
                                                  f"{to_mrkdwn(c.close_note or '', 300)}")])


def escalated_reply(c: RiskCard, change_ref: str, title: str, card_follows: bool) -> dict[str, Any]:
    text = f":white_check_mark: Escalated *{c.ref}* to *{change_ref}: {to_mrkdwn(title, 200)}*."
    if card_follows:
        text += (" Its card follows in the project's channels, the client's too: it shows the title you typed, "
                 "never the risk.")
    return ephemeral(f"Escalated {c.ref} to {change_ref}.", [section(text), context(
        f"The team assesses {change_ref} as any change request: `/change assess {change_ref} days=… cost=… "
        "currency=…`. The risk stays open until you close it.")])


def list_reply(found: list[RiskCard], key: str, state: str | None, today: date) -> dict[str, Any]:
    which = {"closed": "closed", "all": "all"}.get((state or "open").strip().lower(), "open")
    empty = {"open": "_no open risks_", "closed": "_no closed risks_", "all": "_no risks yet_"}[which]
    blocks = [section(f"*Risks of `{key}` ({which})*"),
              section(bulleted(found, lambda c: _line(c, today), most=30, empty=empty)),
              context("Score: likelihood × impact, low 1, medium 2, high 3. Only the team sees risks.")]
    return ephemeral(f"Risks of {key}", blocks)


def show_reply(c: RiskCard, history: list[HistoryEntry], today: date) -> dict[str, Any]:
    head = f"{badge(c.score) if c.state == 'open' else ':white_check_mark:'} *{c.ref}* — {c.state}, {score_line(c)}"
    added = f"<@{c.created_by}> on {_when(c.created_at, c.timezone)}"
    pairs = [("Owner", f"<@{c.owner_id}>" if c.owner_id else "none"), ("Response", c.response or "none yet"),
             ("Review", _review_day(c, today) or "none"), ("Added", added)]
    blocks: list[Block] = [section(head), section(to_mrkdwn(c.description, 2800)), fields(pairs)]
    notes = []
    if (escalated := _escalation(c)) is not None:
        notes.append(f":arrow_right: This risk was {escalated}: `/change show {c.change_ref}` shows it.")
    if c.state == "closed" and c.closed_at is not None:
        notes.append(f"Closed by <@{c.closed_by}> on {_when(c.closed_at, c.timezone)}: "
                     f"{to_mrkdwn(c.close_note or '', 500)}")
    if notes:
        blocks.append(section("\n".join(notes)))
    blocks.append(section("*History*\n" + bulleted(history, lambda h: _history_line(h, c.timezone), most=40)))
    return ephemeral(f"{c.ref}: {to_mrkdwn(c.description, 100)} ({c.state})", blocks)


def _history_line(h: HistoryEntry, tz: str) -> str:
    when = h.at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M")
    d = h.detail
    if h.action == "add":
        what = f"added it (score {d.get('score')}/{SCORE_MOST})"
    elif h.action == "update":
        scores = d.get("score") or []
        moved = (f" (score {scores[0]}/{SCORE_MOST} → {scores[1]}/{SCORE_MOST})"
                 if len(scores) == 2 and scores[0] != scores[1] else "")
        what = f"updated {_changes(d.get('before') or {}, d.get('after') or {})}{moved}"
    elif h.action == "close":
        what = f"closed it: {to_mrkdwn(d.get('note') or '', 300)}"
    elif h.action == "escalate":
        what = f"escalated it to {d.get('change')}"
    else:
        what = VERBS.get(h.action, h.action)
    return f"{when} — <@{h.actor_id}> {what}"


def _changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    parts = []
    for name in NAMES:
        if name not in after:
            continue
        if name == "description":
            parts.append(f"description → “{to_mrkdwn(after[name], 200)}”")
        else:
            parts.append(f"{name} {_value(name, before.get(name))} → {_value(name, after[name])}")
    return "; ".join(parts) or "nothing"


def _value(name: str, value: Any) -> str:
    if value is None:
        return "none"
    if name == "owner":
        return f"<@{value}>"
    if name == "review":
        return _day(date.fromisoformat(value)) if isinstance(value, str) else _day(value)
    return str(value)


# -- the form --------------------------------------------------------------------------------------------------------
class FormIds(StrEnum):
    CALLBACK = "risk-add"
    DESCRIPTION = "description"
    LIKELIHOOD = "likelihood"
    IMPACT = "impact"
    RESPONSE = "response"
    OWNER = "owner"
    REVIEW = "review"


def _options(words: tuple[str, ...]) -> list[Block]:
    return [{"text": {"type": "plain_text", "text": w}, "value": w} for w in words]


def add_modal(channel_id: str, project: str | None, project_name: str) -> dict[str, Any]:
    """The form bare `/risk add` opens; its metadata names where it was opened (a claim, checked on submission)."""
    ids = FormIds
    return {
        "type": "modal", "callback_id": ids.CALLBACK,
        "private_metadata": json.dumps({"channel_id": channel_id, "project": project}),
        "title": {"type": "plain_text", "text": "New risk"}, "submit": {"type": "plain_text", "text": "Add"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            context(f"Project: *{to_mrkdwn(project_name, 150)}* · only the team sees risks"),
            form_input(ids.DESCRIPTION, "What could go wrong", {"type": "plain_text_input", "multiline": True,
                                                            "max_length": 3000}),
            form_input(ids.LIKELIHOOD, "Likelihood", {"type": "static_select", "options": _options(LEVELS)}),
            form_input(ids.IMPACT, "Impact", {"type": "static_select", "options": _options(LEVELS)},
                   "The score is likelihood × impact: low 1, medium 2, high 3"),
            form_input(ids.RESPONSE, "Response", {"type": "static_select", "options": _options(RESPONSES)},
                   optional=True),
            form_input(ids.OWNER, "Owner", {"type": "users_select"}, "Someone of the team", optional=True),
            form_input(ids.REVIEW, "Review on", {"type": "datepicker"}, optional=True),
        ],
    }
