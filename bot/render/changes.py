"""Change requests as people see them (pure): the living card in each channel, lists, history, the forms.

A card is rendered from a `ChangeCard` of its audience: the client's (`ChangeCard.for_client`) holds no internal
notes and no internal milestones, so nothing here can leak them.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.markup import to_mrkdwn
from bot.render.forms import form_input, modal, option, text_element
from bot.render.kit import Block, actions, bulleted, button, context, ephemeral, fields, message, section
from bot.render.totals import impact, totals_lines
from bot.services import money
from bot.services.changes import ChangeCard, HistoryEntry, MilestoneRef, Moved, Totals, state_name
from storage.models import PRIORITIES

ASSESS_ACTION = "change.assess"  # opens the assessment form; value: the request's id
APPROVE_ACTION = "change.approve"  # value "<id>:<version>": the assessment the client saw
REJECT_ACTION = "change.reject"  # opens the rejection form; value "<id>:<version>"
START_ACTION = "change.start"
DONE_ACTION = "change.done"
WITHDRAW_ACTION = "change.withdraw"

BADGES = {"submitted": ":inbox_tray:", "assessed": ":hourglass_flowing_sand:", "approved": ":white_check_mark:",
          "rejected": ":no_entry:", "in_progress": ":hammer_and_wrench:", "done": ":checkered_flag:",
          "withdrawn": ":wastebasket:"}
VERBS = {"file": "filed", "assess": "assessed", "approve": "approved", "reject": "rejected", "start": "started",
         "done": "marked done", "withdraw": "withdrew"}


def _day(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b")


def impact_line(c: ChangeCard) -> str:
    return impact(c.days, c.cost_cents, c.currency) if c.assessed else "_not assessed yet_"


def _milestone(m: MilestoneRef) -> str:
    return f"*{to_mrkdwn(m.name)}* (due {m.due:%a %d %b})"


def moved_lines(moved: tuple[Moved, ...]) -> str:
    return "\n".join(f"• *{to_mrkdwn(m.name)}*: {m.before:%a %d %b} → {m.after:%a %d %b %Y}" for m in moved)


def _decision(c: ChangeCard) -> str | None:
    if c.decided_by is None or c.decided_at is None:
        return None
    # Only a rejected request was rejected; one withdrawn after a decision had been approved (a rejected one
    # can't be withdrawn).
    verb = "Rejected" if c.state == "rejected" else "Approved"
    who = f"<@{c.decided_by}>" + (" *on the client's behalf (override)*" if c.override else "")
    why = f": {to_mrkdwn(c.decision_note, 400)}" if c.decision_note else ""
    return f"{verb} by {who} on {_day(c.decided_at, c.timezone)}{why}"


def next_step(c: ChangeCard) -> str:
    approvers = " or ".join(f"<@{u}>" for u in c.approvers) or "the client's approver (none named yet)"
    return {
        "submitted": "Next: the team assesses its impact on schedule and budget.",
        "assessed": f"Next: {approvers} approves or rejects it.",
        "approved": "Next: the team starts the work.",
        "rejected": "Closed: rejected by the client.",
        "in_progress": "Next: the team marks it done.",
        "done": "Closed: done.",
        "withdrawn": "Closed: withdrawn.",
    }[c.state]


def change_card(c: ChangeCard, audience: str) -> dict[str, Any]:
    """The request's card in a channel of `audience`, kept up to date in place; `c` is that audience's view."""
    assert audience == "internal" or c.audience == "client", "a client card is rendered from the client's view"
    title = to_mrkdwn(c.title, 200)
    head = f"{BADGES[c.state]} *{c.ref}: {title}* — {state_name(c.state)}"
    pairs = [("Requested by", f"<@{c.requested_by}>"), ("Priority", c.priority), ("Impact", impact_line(c))]
    blocks: list[Block] = [section(head), fields(pairs)]
    if c.description:
        blocks.append(section(to_mrkdwn(c.description, 1500)))
    if c.assessed:
        lines = []
        if c.notes:
            lines.append(f"*Scope:* {to_mrkdwn(c.notes, 1200)}" + (" _(internal)_" if c.notes_internal else ""))
        if c.milestones and c.state in ("submitted", "assessed"):
            lines.append("*Moves:* " + ", ".join(_milestone(m) for m in c.milestones)
                         + (f" by {c.days} working days" if c.days else ""))
        if c.moved:
            lines.append("*Moved:*\n" + moved_lines(c.moved))
        if lines:
            blocks.append(section("\n".join(lines)))
    if (decision := _decision(c)) is not None:
        blocks.append(section(decision))
    notes = [next_step(c)]
    if c.permalink:
        notes.append(f"<{c.permalink}|From this message>")
    if c.from_risk is not None:  # only ever on the team's view: the client's has no risk
        notes.append(f"Escalated from risk R-{c.from_risk}")
    blocks.append(context(" · ".join(notes)))
    buttons = _buttons(c, audience)
    if buttons:
        blocks.append(actions(*buttons, block_id=f"change-{c.id}"))
    return message(f"{c.ref}: {title} ({state_name(c.state)})", blocks)


def _buttons(c: ChangeCard, audience: str) -> list[Block]:
    value = str(c.id)
    if audience == "client":
        if c.state != "assessed":
            return []
        seen = f"{c.id}:{c.version}"
        return [button("Approve", APPROVE_ACTION, seen, style="primary"),
                button("Reject", REJECT_ACTION, seen, style="danger")]
    found = []
    if c.state in ("submitted", "assessed", "approved"):
        found.append(button("Re-assess" if c.assessed else "Assess", ASSESS_ACTION, value,
                            style=None if c.assessed else "primary"))
    if c.state == "approved":
        found.append(button("Start", START_ACTION, value, style="primary"))
    if c.state == "in_progress":
        found.append(button("Done", DONE_ACTION, value, style="primary"))
    if c.state in ("submitted", "assessed", "approved", "in_progress"):
        found.append(button("Withdraw", WITHDRAW_ACTION, value))
    return found


def filed_reply(c: ChangeCard, card_follows: bool) -> dict[str, Any]:
    text = f":white_check_mark: Filed *{c.ref}: {to_mrkdwn(c.title, 200)}* on `{c.project_key}`."
    if card_follows:
        text += " Its card follows in the project's channels and changes as the request moves on."
    return ephemeral(f"Filed {c.ref}.", [section(text)])


def filed_in_thread(c: ChangeCard) -> dict[str, Any]:
    """The answer to `@Liaison change: …`, in its thread (the channel's audience sees it)."""
    return message(f"Filed {c.ref}", [section(
        f":white_check_mark: Filed *{c.ref}: {to_mrkdwn(c.title, 200)}* for <@{c.requested_by}>. The team assesses "
        "its impact on schedule and budget; then its card here asks for your decision.")])


def done_reply(text: str, moved: tuple[Moved, ...] = (), moved_back: bool = False) -> dict[str, Any]:
    body = f":white_check_mark: {text}"
    if moved:
        body += ("\nMilestones moved back:\n" if moved_back else "\nMilestones moved:\n") + moved_lines(moved)
    return ephemeral(text, [section(body)])


def reassessed_notice(c: ChangeCard) -> dict[str, Any]:
    """To the client: an approval covers the assessment that was shown, so a new one needs a new decision."""
    return message(f"{c.ref} was re-assessed: please decide again", [section(
        f":arrows_counterclockwise: *{c.ref}: {to_mrkdwn(c.title, 200)}* was re-assessed after it was approved "
        f"({impact_line(c)}). The approval covered the earlier assessment, so it no longer holds: "
        f"{' or '.join(f'<@{u}>' for u in c.approvers) or 'the client'}, please approve or reject it again on "
        "its card.")])


def moved_notice(c: ChangeCard, moved: tuple[Moved, ...]) -> dict[str, Any]:
    """To the team: what an approval moved."""
    return message(f"{c.ref} approved: milestones moved", [section(
        f":calendar: *{c.ref}: {to_mrkdwn(c.title, 200)}* was approved, so its milestones moved by {c.days} "
        f"working day{'s' if c.days != 1 else ''}:\n{moved_lines(moved)}")])


def _line(c: ChangeCard) -> str:
    return f"{BADGES[c.state]} *{c.ref}* {to_mrkdwn(c.title, 120)} — {state_name(c.state)}, {impact_line(c)}"


def list_reply(found: list[ChangeCard], key: str, totals: Totals | None, state: str | None) -> dict[str, Any]:
    which = f" ({state_name(state)})" if state else ""
    blocks = [section(f"*Change requests of `{key}`{which}*"),
              section(bulleted(found, _line, most=30, empty="_no change requests yet_"))]
    if totals is not None and (lines := totals_lines(totals)):
        blocks.append(context(" · ".join(lines)))
    return ephemeral(f"Change requests of {key}", blocks)


def _history_line(h: HistoryEntry, tz: str) -> str:
    when = h.at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M")
    move = f" ({state_name(h.before)} → {state_name(h.after)})" if h.before else ""
    who = f"<@{h.actor_id}>" + (" on the client's behalf (override)" if h.override else "")
    note = f": {to_mrkdwn(h.note, 300)}" if h.note else ""
    return f"{when} — {who} {VERBS.get(h.action, h.action)}{move}{note}"


def show_reply(c: ChangeCard, history: list[HistoryEntry], audience: str) -> dict[str, Any]:
    card = change_card(c, audience)
    blocks = [b for b in card["blocks"] if b.get("type") != "actions"]
    if lines := totals_lines(c.totals):
        blocks.append(context(" · ".join(lines)))
    blocks.append(section("*History*\n" + bulleted(history, lambda h: _history_line(h, c.timezone), most=40)))
    return ephemeral(card["text"], blocks)


# -- forms -----------------------------------------------------------------------------------------------------------
class FileIds(StrEnum):
    CALLBACK = "change-file"
    TITLE = "title"
    DESCRIPTION = "description"
    REQUESTER = "requested_by"
    PRIORITY = "priority"


class AssessIds(StrEnum):
    CALLBACK = "change-assess"
    DAYS = "days"
    COST = "cost"
    CURRENCY = "currency"
    NOTES = "notes"
    INTERNAL = "internal"
    MILESTONES = "milestones"


class RejectIds(StrEnum):
    CALLBACK = "change-reject"
    REASON = "reason"


def _project_line(project_name: str) -> Block:
    return context(f"Project: *{to_mrkdwn(project_name, 150)}*")


def file_modal(channel_id: str, project: str | None, project_name: str, title: str = "", description: str = "",
               requested_by: str | None = None, message_ts: str | None = None) -> dict[str, Any]:
    """The form of bare `/change`, and of the "File as change request" shortcut (then filled in from the message,
    which `message_ts` names: the team reads what the client's card will show before filing it)."""
    ids = FileIds
    priorities = [option(p, p) for p in PRIORITIES]
    requester: Block = {"type": "users_select"}
    if requested_by:
        requester["initial_user"] = requested_by
    metadata = {"channel_id": channel_id, "project": project, **({"message_ts": message_ts} if message_ts else {})}
    return modal(ids.CALLBACK, "New change request", "File", metadata, [
        _project_line(project_name),
        context("The client sees the title and the description on the request's card in their channel."),
        form_input(ids.TITLE, "What should change", text_element(title or None, max_length=200), "A short title"),
        form_input(ids.DESCRIPTION, "Description", text_element(description or None, multiline=True,
                                                                max_length=3000), optional=True),
        form_input(ids.REQUESTER, "Requested by", requester, "You, if left empty; may be the client",
                   optional=True),
        form_input(ids.PRIORITY, "Priority", {"type": "static_select", "options": priorities,
                                              "initial_option": priorities[1]}),
    ])


def assess_modal(c: ChangeCard, channel_id: str | None, open_milestones: list[MilestoneRef],
                 default_currency: str | None) -> dict[str, Any]:
    ids = AssessIds
    internal_box = option("Notes are internal: the client never sees them", "yes")
    blocks = [
        section(f"*{c.ref}: {to_mrkdwn(c.title, 200)}*"),
        form_input(ids.DAYS, "Schedule impact (working days)", text_element(str(c.days) if c.days is not None else None),
               "0 for none"),
        form_input(ids.COST, "Budget impact", text_element(money.shown(c.cost_cents, None) if c.cost_cents is not None else None),
               "An amount, e.g. 3000 (0 for none)"),
        form_input(ids.CURRENCY, "Currency", text_element(c.currency or default_currency or None, max_length=3),
               "ISO 4217 code, e.g. EUR"),
        form_input(ids.NOTES, "Scope notes", text_element(c.notes, multiline=True, max_length=3000), optional=True),
        form_input(ids.INTERNAL, "Visibility", {"type": "checkboxes", "options": [internal_box],
                                                **({"initial_options": [internal_box]} if c.notes_internal else {})},
                   optional=True),
    ]
    if open_milestones:
        options = [option(f"#{m.id} {m.name} ({m.due:%d %b})", str(m.id)) for m in open_milestones[:100]]
        element: Block = {"type": "multi_static_select", "options": options}
        chosen = [o for o in options if int(o["value"]) in {m.id for m in c.milestones}]
        if chosen:
            element["initial_options"] = chosen
        blocks.append(form_input(ids.MILESTONES, "Milestones it moves", element, "Moved by the working days above "
                             "when the client approves", optional=True))
    return modal(ids.CALLBACK, f"Assess {c.ref}", "Assess",
                  {"channel_id": channel_id, "project": c.project_key, "change": c.id}, blocks)


def reject_modal(c: ChangeCard, channel_id: str | None, version: int | None) -> dict[str, Any]:
    return modal(RejectIds.CALLBACK, f"Reject {c.ref}", "Reject",
                  {"channel_id": channel_id, "project": c.project_key, "change": c.id, "version": version}, [
                      section(f"*{c.ref}: {to_mrkdwn(c.title, 200)}* — {impact_line(c)}"),
                      form_input(RejectIds.REASON, "Why", text_element(multiline=True, max_length=500),
                             "The team reads it to know what to change"),
                  ])
