"""Digest and reminder messages (pure). A client digest is rendered from client-visible data only."""
from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.markup import to_mrkdwn
from bot.render.kit import MAX_MESSAGE_BLOCKS, bulleted, context, divider, fields, header, message, section
from bot.render.mentions import client_footer
from bot.render.milestones import milestone_line
from bot.render.updates import health_badge
from bot.services.digests import Digest, DigestUpdate
from bot.services.milestones import MilestoneCard

MOST = 10


def _update_line(u: DigestUpdate, tz: str) -> str:
    badge = health_badge(u.health, u.progress)
    when = u.created_at.astimezone(ZoneInfo(tz)).strftime("%a %d %b")
    text = to_mrkdwn(u.text.replace("\n", " "), 280)
    mark = (" _(edited)_" if u.edited else "") + (" _(internal)_" if u.visibility == "internal" else "")
    return f"{when} <@{u.author_id}>: {text}" + (f" — {badge}" if badge else "") + mark


def digest_message(d: Digest) -> dict[str, Any]:
    tz, today = d.timezone, d.today
    since = d.since.astimezone(ZoneInfo(tz)).strftime("%a %d %b")
    title = f"{'Digest' if d.audience == 'internal' else 'Project update'}: {d.name}"
    badge = health_badge(d.health, d.progress) or "_not reported yet_"
    facts = [("Health", badge), ("Since", since)]
    if d.client and d.audience == "internal":
        facts.append(("Client", to_mrkdwn(d.client)))
    blocks: list[dict[str, Any]] = [header(title), fields(facts)]

    def line(m: MilestoneCard) -> str:
        return milestone_line(m, today, with_id=False)

    if d.quiet:
        blocks.append(section(f":zzz: A quiet period: no updates or completed milestones since {since}."))
    else:
        more = d.updates_total - len(d.updates)
        body = bulleted(d.updates, lambda u: _update_line(u, tz), most=MOST, empty="_no updates_")
        if more > 0 and "more_" not in body:
            body += f"\n_…and {more} more_"
        blocks.append(section(f"*Updates* ({d.updates_total})\n{body}"))
        if d.done:
            blocks.append(section(f"*Done*\n{bulleted(d.done, line, most=MOST)}"))
    if d.overdue:
        blocks.append(section(f"*Overdue*\n{bulleted(d.overdue, line, most=MOST)}"))
    blocks.append(section(f"*Due in the next 14 days*\n{bulleted(d.due_soon, line, most=MOST, empty='_nothing_')}"))
    if d.quiet and d.coming:
        blocks.append(section(f"*Coming up*\n{bulleted(d.coming, line, most=5)}"))
    for title_, lines in d.extra:
        blocks.append(section(f"*{title_}*\n{bulleted(lines, str, most=MOST)}"))
    if d.audience == "internal":
        footer = f"`{d.key}` · sent to the team by Liaison · `/project digest preview` shows it now"
    else:
        footer = f"Sent to you by Liaison · {client_footer()}"  # clients can't use our slash commands
    blocks += [divider(), context(footer)]
    fallback = f"{'Digest' if d.audience == 'internal' else 'Project update'}: {to_mrkdwn(d.name)}"
    return message(f"{fallback} ({'quiet period' if d.quiet else f'{d.updates_total} updates'})",
                   blocks[:MAX_MESSAGE_BLOCKS])


REMINDER_TEXT = {
    "reminder.due_in_3": "is due in 3 days",
    "reminder.due_in_1": "is due tomorrow",
    "reminder.due_today": "is due today",
    "reminder.overdue": "is overdue",
}


def reminder_message(kind: str, project_name: str, m: MilestoneCard, today: date, audience: str,
                     owner_mention: bool = True) -> dict[str, Any]:
    what = REMINDER_TEXT[kind]
    if kind == "reminder.overdue":
        what += f" by {(today - m.due).days} day{'s' if (today - m.due).days != 1 else ''}"
    owner = f" <@{m.owner_id}>" if m.owner_id and owner_mention and audience == "internal" else ""
    icon = ":warning:" if kind == "reminder.overdue" else ":alarm_clock:"
    text = f"{icon}{owner} *{to_mrkdwn(m.name)}* on *{to_mrkdwn(project_name)}* {what} ({m.due:%a %d %b})."
    if audience == "internal":
        text += " `/milestone done` or `/milestone move` when it changes."
    return message(f"{to_mrkdwn(m.name)} {what}", [section(text)])


def quiet_nudge(project_name: str, key: str, days: int) -> dict[str, Any]:
    text = (f":wave: *{to_mrkdwn(project_name)}* (`{key}`) has had no update for {days} days. "
            "A line with `/update` keeps the team and the client in the picture.")
    return message(f"{to_mrkdwn(project_name)} has had no update for {days} days", [section(text)])


def lead_told(problem: str) -> dict[str, Any]:
    return message(problem, [section(f":warning: {problem}")])
