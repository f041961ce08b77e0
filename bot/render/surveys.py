"""CSAT surveys as people see them (pure): the card in the client's channel, the comment form, the replies.

The card shows the question, the five buttons while it is open and how many have answered: never who answered,
never a score, never an average (it sits in the client's channel, whoever looks at it).
"""
from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.markup import to_mrkdwn
from bot.render.kit import Block, actions, button, context, ephemeral, message, section
from bot.services.surveys import COMMENT_MAX, SCORES, SEND_AT, ScheduleView, SurveyView

QUESTION = "How satisfied are you with the project so far?"
# One action per score: Slack wants the buttons of a block to have distinct action ids. The value names the survey
# and the score ("<survey id>:<score>"); the handler reads both from the value.
SCORE_ACTIONS = tuple(f"survey.score.{n}" for n in SCORES)
SCORE_WORDS = {1: "very dissatisfied", 2: "dissatisfied", 3: "neutral", 4: "satisfied", 5: "very satisfied"}


class CommentIds(StrEnum):
    CALLBACK = "survey-comment"
    COMMENT = "comment"


def _day(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b")


def answers_line(n: int) -> str:
    if n == 0:
        return "No answers yet"
    return f"{n} answer{'s' if n != 1 else ''} so far"


def survey_card(s: SurveyView) -> dict[str, Any]:
    """The survey's card in the client's channel, kept up to date in place: open with its buttons, or closed."""
    head = f":bar_chart: *{QUESTION}*\n_{to_mrkdwn(s.project_name, 150)}_"
    if s.closed_at is not None:
        answered = f"{s.answers} answer{'s' if s.answers != 1 else ''}" if s.answers else "no answers"
        blocks: list[Block] = [section(head), context(
            f":lock: This survey closed on {s.closed_on:%a %d %b} with {answered}. Thank you!")]
        return message(f"{QUESTION} (closed)", blocks)
    buttons = [button(str(n), SCORE_ACTIONS[n - 1], f"{s.id}:{n}") for n in SCORES]
    blocks = [
        section(head),
        actions(*buttons, block_id=f"survey-{s.id}"),
        context("1 = very dissatisfied · 5 = very satisfied"),
        context(f"{answers_line(s.answers)} · open until {_day(s.closes_at, s.timezone)} · only the team reads "
                "the answers; nobody here sees who gave which score"),
    ]
    return message(QUESTION, blocks)


def thanks(score: int, before: int | None, s: SurveyView, form_follows: bool) -> dict[str, Any]:
    """Only the person who pressed sees it."""
    if before is None:
        text = f":white_check_mark: Thank you! You gave *{score}* ({SCORE_WORDS[score]})."
    elif before == score:
        text = f"You had already given *{score}* ({SCORE_WORDS[score]}); nothing changed."
    else:
        text = f":white_check_mark: Changed your answer from {before} to *{score}* ({SCORE_WORDS[score]})."
    text += f" You can change it until {_day(s.closes_at, s.timezone)} by pressing another number."
    if form_follows:
        text += " A form has opened if you'd like to add a comment for the team."
    return ephemeral(text, [section(text)])


def comment_modal(s: SurveyView, score: int, channel_id: str | None, existing: str | None) -> dict[str, Any]:
    element: Block = {"type": "plain_text_input", "action_id": "value", "multiline": True,
                      "max_length": COMMENT_MAX}
    if existing:
        element["initial_value"] = existing
    return {
        "type": "modal", "callback_id": CommentIds.CALLBACK,
        "private_metadata": json.dumps({"channel_id": channel_id, "project": s.project_key, "survey": s.id}),
        "title": {"type": "plain_text", "text": "Your answer"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Skip"},
        "blocks": [
            section(f"You gave *{score}* ({SCORE_WORDS[score]}) for _{to_mrkdwn(s.project_name, 150)}_. Thank you!"),
            {"type": "input", "block_id": CommentIds.COMMENT, "optional": True,
             "label": {"type": "plain_text", "text": "Anything you'd like to tell the team?"},
             "hint": {"type": "plain_text", "text": "Optional. Only the team reads it."},
             "element": element},
        ],
    }


def read_comment(view: dict[str, Any]) -> str | None:
    field = view.get("state", {}).get("values", {}).get(CommentIds.COMMENT, {}).get("value", {})
    value = field.get("value") if isinstance(field, dict) else None
    return value if isinstance(value, str) else None


def commented() -> dict[str, Any]:
    text = ":white_check_mark: Thank you: your comment went to the team."
    return ephemeral(text, [section(text)])


# -- `/project survey` -----------------------------------------------------------------------------------------------
_DESCRIBED = {
    "off": "off",
    "monthly": f"monthly: the first working day of each month at {SEND_AT:%H:%M}",
    "after-milestone": f"after each client-visible milestone: the working day after it is done, at {SEND_AT:%H:%M}",
}


def schedule_reply(key: str, v: ScheduleView, changed: bool) -> dict[str, Any]:
    described = _DESCRIBED[v.schedule]
    if v.schedule == "off":
        head = (f":white_check_mark: Surveys for `{key}` are now *off*." if changed
                else f"Surveys for `{key}` are *off*.")
    else:
        head = (f":white_check_mark: Surveys for `{key}` now go out *{described}* ({v.timezone})." if changed
                else f"Surveys for `{key}` go out *{described}* ({v.timezone}).")
    lines = [head]
    if v.schedule == "monthly" and v.next_at is not None:
        lines.append(f"Next: {v.next_at.astimezone(ZoneInfo(v.timezone)):%a %d %b %Y %H:%M} ({v.timezone}), in "
                     "the client's channel.")
    elif v.schedule == "after-milestone":
        if v.next_milestone is not None:
            name, due = v.next_milestone
            lines.append(f"Next: the working day after *{to_mrkdwn(name, 120)}* (due {due:%a %d %b}) is done.")
        else:
            lines.append("Next: after the next client-visible milestone is done; none is open now.")
    for s in v.open_surveys:
        lines.append(f"Open now: a survey until {_day(s.closes_at, s.timezone)}, {answers_line(s.answers).lower()}.")
    return ephemeral(head, [section("\n".join(lines)), context(
        "Lead: `/project survey monthly`, `after-milestone` or `off`; `/project survey now` sends one at once. "
        "A survey stays open for 7 days; a score of 2 or less alerts the team.")])


def sent_now_reply(channels: tuple[str, ...]) -> dict[str, Any]:
    where = ", ".join(f"<#{c}>" for c in channels)
    text = (f":white_check_mark: Survey sent: its card follows in {where} and shows how many answered. It closes in "
            "7 days.")
    return ephemeral("Survey sent.", [section(text)])
