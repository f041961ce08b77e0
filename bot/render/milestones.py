"""Milestone confirmations and lists (pure)."""
from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.markup import to_mrkdwn
from bot.render.kit import Block, actions, bulleted, button, context, ephemeral, message, section
from bot.services.milestones import MilestoneCard


DONE_ACTION = "milestone.done"  # the "Mark done" button; its value is the milestone's id


def done_button(milestone_id: int) -> Block:
    """Team only: the handler checks who presses and on which project, whatever the message it sits in."""
    return button("Mark done", DONE_ACTION, str(milestone_id), style="primary")


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


def milestone_card(m: MilestoneCard, project_name: str, tz: str, audience: str) -> dict[str, Any]:
    """The card of a milestone, kept up to date in place: open with a "Mark done" button for the team, or done."""
    name, project = to_mrkdwn(m.name), to_mrkdwn(project_name)
    owner = f" — <@{m.owner_id}>" if m.owner_id else ""
    internal = " _(internal)_" if m.visibility == "internal" else ""
    if m.done_at is None:
        text = f":triangular_flag_on_post: *{name}* on *{project}* — due {m.due:%a %d %b %Y}{owner}{internal}"
        blocks = [section(text), context(f"Milestone `#{m.id}`")]
        if audience == "internal":
            blocks.append(actions(done_button(m.id)))
        return message(f"Milestone: {name}, due {m.due:%a %d %b %Y}", blocks)
    when = m.done_at.astimezone(ZoneInfo(tz))
    by = f" by <@{m.done_by}>" if m.done_by else ""
    text = (f":white_check_mark: *{name}* on *{project}* — done {when:%a %d %b}{by} "
            f"(due {m.due:%a %d %b}){owner}{internal}")
    return message(f"Milestone done: {name}", [section(text), context(f"Milestone `#{m.id}`")])


def added_reply(m: MilestoneCard, today: date, card_follows: bool) -> dict[str, Any]:
    text = f":white_check_mark: Added {milestone_line(m, today)}."
    if card_follows:
        text += " Its card follows; it changes when the milestone does."
    if m.after_project_due is not None:
        text += f"\n:warning: That is after the project's due date, {m.after_project_due:%a %d %b %Y}."
    return ephemeral(f"Added milestone {to_mrkdwn(m.name)}.", [section(text)])


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
