"""Milestone confirmations and lists (pure)."""
from __future__ import annotations

from datetime import date
from typing import Any

from bot.markup import to_mrkdwn
from bot.render.kit import bulleted, ephemeral, message, section
from bot.services.milestones import MilestoneCard


def milestone_line(m: MilestoneCard, today: date, with_id: bool = True) -> str:
    head = f"`#{m.id}` " if with_id else ""
    owner = f" — <@{m.owner_id}>" if m.owner_id else ""
    internal = " _(internal)_" if m.visibility == "internal" else ""
    if m.done_at is not None:
        state = ":white_check_mark: done"
    elif m.due < today:
        state = f":warning: overdue by {(today - m.due).days}d"
    elif m.due == today:
        state = "due today"
    else:
        state = f"in {(m.due - today).days}d"
    return f"{head}*{to_mrkdwn(m.name)}* — {m.due:%a %d %b} ({state}){owner}{internal}"


def added_post(m: MilestoneCard, project_name: str, today: date) -> dict[str, Any]:
    text = f":triangular_flag_on_post: New milestone on *{to_mrkdwn(project_name)}*: {milestone_line(m, today)}"
    if m.after_project_due is not None:
        text += f"\n:warning: That is after the project's due date, {m.after_project_due:%a %d %b %Y}."
    return message(f"New milestone: {to_mrkdwn(m.name)}", [section(text)])


def done_post(m: MilestoneCard, project_name: str, who: str) -> dict[str, Any]:
    text = f":white_check_mark: <@{who}> completed *{to_mrkdwn(m.name)}* on *{to_mrkdwn(project_name)}*."
    return message(f"Milestone done: {to_mrkdwn(m.name)}", [section(text)])


def moved_reply(m: MilestoneCard, before: date) -> dict[str, Any]:
    return ephemeral(f"Moved {to_mrkdwn(m.name)}.", [section(
        f":calendar: *{to_mrkdwn(m.name)}* moved from {before:%a %d %b} to {m.due:%a %d %b %Y}.")])


def list_reply(milestones: list[MilestoneCard], key: str, today: date) -> dict[str, Any]:
    body = bulleted(milestones, lambda m: milestone_line(m, today), most=30, empty="_no milestones yet_")
    # The list in a section of its own fits it, so it is never clipped in the middle of a name or a mention.
    return ephemeral(f"Milestones of {key}", [section(f"*Milestones of `{key}`*"), section(body)])


def confirm(text: str) -> dict[str, Any]:
    return ephemeral(text, [section(f":white_check_mark: {text}")])
