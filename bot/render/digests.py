"""Digest and reminder messages (pure). A client digest is rendered from client-visible data only: each section
has one renderer (`RENDERERS`), and a section that does not declare the digest's audience is refused."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.markup import to_mrkdwn
from bot.render.totals import budget_text, due_text, impact, plural
from bot.render.kit import (
    MAX_MESSAGE_BLOCKS,
    Block,
    actions,
    bulleted,
    context,
    divider,
    fields,
    header,
    message,
    section,
)
from bot.render.mentions import client_footer
from bot.render.milestones import done_button, milestone_line
from bot.render.updates import health_badge
from bot.services.changes import Totals, state_name
from bot.services.dates import local_day, working_days_between
from bot.services.digests import (
    Changes,
    Comment,
    DigestRisk,
    FollowUps,
    OpenFollowUp,
    Risks,
    Satisfaction,
    ComingUp,
    Digest,
    DigestChange,
    DigestUpdate,
    Done,
    DueSoon,
    Overdue,
    Section,
    Updates,
)
from bot.services.milestones import MilestoneCard

MOST = 10


def _update_line(u: DigestUpdate, tz: str) -> str:
    badge = health_badge(u.health, u.progress)
    when = u.created_at.astimezone(ZoneInfo(tz)).strftime("%a %d %b")
    text = to_mrkdwn(u.text.replace("\n", " "), 280)
    mark = (" _(edited)_" if u.edited else "") + (" _(internal)_" if u.visibility == "internal" else "")
    return f"{when} <@{u.author_id}>: {text}" + (f" — {badge}" if badge else "") + mark


def _since(d: Digest) -> str:
    return d.since.astimezone(ZoneInfo(d.timezone)).strftime("%a %d %b")


def _milestones(title: str, milestones: tuple[MilestoneCard, ...], d: Digest, most: int = MOST,
                empty: str = "_none_") -> Block:
    today = d.today
    return section(f"*{title}*\n{bulleted(milestones, lambda m: milestone_line(m, today, with_id=False), most, empty)}")


def _updates(s: Updates, d: Digest) -> list[Block]:
    if d.quiet:
        return [section(f":zzz: A quiet period: no updates or completed milestones since {_since(d)}.")]
    more = s.total - len(s.shown)
    body = bulleted(s.shown, lambda u: _update_line(u, d.timezone), most=MOST, empty="_no updates_")
    if more > 0 and "more_" not in body:
        body += f"\n_…and {more} more_"
    return [section(f"*Updates* ({s.total})\n{body}")]


def _done(s: Done, d: Digest) -> list[Block]:
    return [_milestones("Done", s.milestones, d)] if s.milestones else []


def _overdue(s: Overdue, d: Digest) -> list[Block]:
    return [_milestones("Overdue", s.milestones, d)] if s.milestones else []


def _due_soon(s: DueSoon, d: Digest) -> list[Block]:
    return [_milestones("Due in the next 14 days", s.milestones, d, empty="_nothing_")]


def _coming_up(s: ComingUp, d: Digest) -> list[Block]:
    return [_milestones("Coming up", s.milestones, d, most=5)] if d.quiet and s.milestones else []


def _change_name(c: DigestChange) -> str:
    return f"*{c.ref}* {to_mrkdwn(c.title, 200)}"


def _new_change(c: DigestChange) -> str:
    return f"{_change_name(c)} — {state_name(c.state)}"


def _awaiting_change(c: DigestChange) -> str:
    waited = f"waiting {plural(c.waiting, 'working day')}" if c.waiting else "assessed today"
    return f"{_change_name(c)} — {waited} · {impact(c.days, c.cost_cents, c.currency)}"


def _decided_change(c: DigestChange) -> str:
    verdict = "approved" if c.approved else "rejected"
    by = f" by <@{c.decided_by}>" if c.decided_by else ""
    if c.override:
        by += " on the client's behalf (override)"
    line = f"{_change_name(c)} — {verdict}{by}"
    return line + (f" · {impact(c.days, c.cost_cents, c.currency)}" if c.approved else "")


def _impact_lines(t: Totals) -> list[str]:
    """The approved impact against the baseline: budget + approved cost (+x.x %), due date + days -> projected."""
    budget = budget_text(t)
    return [*([f"Budget: {budget}"] if budget else []), *([f"Due date: {due_text(t)}"] if t.approved_days else [])]


def _changes(s: Changes, d: Digest) -> list[Block]:
    if s.empty and not s.has_impact:
        return []
    parts: list[str] = []
    if s.new:
        parts.append(f"*New* ({len(s.new)})\n{bulleted(s.new, _new_change, MOST)}")
    if s.awaiting:
        whose = "your" if d.audience == "client" else "the client's"
        listed = bulleted(s.awaiting, _awaiting_change, MOST)
        parts.append(f"*Awaiting {whose} decision* ({len(s.awaiting)})\n{listed}")
    if s.decided:
        parts.append(f"*Decided* ({len(s.decided)})\n{bulleted(s.decided, _decided_change, MOST)}")
    blocks = [section(f"*Change requests*\n{part}") if i == 0 else section(part) for i, part in enumerate(parts)]
    if s.has_impact and s.totals is not None:
        t = s.totals
        head = f"*Approved changes so far* ({plural(t.approved_count, 'change request')})"
        body = "\n".join(_impact_lines(t))
        blocks.append(section(f"{head}\n{body}" if blocks else f"*Change requests*\n{head}\n{body}"))
    return blocks


def _average(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}/5"


def _satisfaction(s: Satisfaction, d: Digest) -> list[Block]:
    if not s.answers and not s.comments and s.previous is None:
        return []
    line = f"*Client satisfaction* — {_average(s.average)} from {plural(s.answers, 'answer')}"
    if s.average is not None and s.previous is not None:
        line += f" ({s.average - s.previous:+.1f} on the period before, {_average(s.previous)})"
    elif s.previous is not None:
        line += f" (the period before: {_average(s.previous)})"
    if s.comments:
        tz = d.timezone

        def comment(c: Comment) -> str:
            score = f" ({c.score}/5)" if c.score is not None else ""
            when = c.at.astimezone(ZoneInfo(tz)).strftime("%a %d %b")
            return f"{when}{score} {'feedback' if c.source == 'feedback' else 'survey'}: “{to_mrkdwn(c.text, 280)}”"

        line += "\n" + bulleted(s.comments, comment, most=3)
    return [section(line)]


def _follow_ups(s: FollowUps, d: Digest) -> list[Block]:
    if not s.open:
        return []
    today = d.today

    def one(f: OpenFollowUp) -> str:
        age = working_days_between(local_day(f.opened_at, d.timezone), today)
        what = "low survey score" if f.source == "survey" else "client feedback"
        return f"`F-{f.id}` {what} — <@{f.owner_id}>, open {plural(age, 'working day')}"

    return [section(f"*Open follow-ups* ({len(s.open)})\n{bulleted(s.open, one, MOST)}")]


def _risks(s: Risks, d: Digest) -> list[Block]:
    if not s.open and not s.changed:
        return []
    today = d.today

    def one(r: DigestRisk) -> str:
        owner = f" — <@{r.owner_id}>" if r.owner_id else ""
        late = (f" :warning: review was due {r.review_date:%a %d %b}" if r.review_date and r.review_date < today
                else "")
        return f"*{r.ref}* ({r.score}/9) {to_mrkdwn(r.description, 200)}{owner}{late}"

    def change(r: DigestRisk) -> str:
        what = "closed" if r.state == "closed" else ("added" if r.created_at >= d.since else "changed")
        return f"*{r.ref}* {what}: {to_mrkdwn(r.description, 120)}"

    parts = [f"*Open risks* ({len(s.open)})\n{bulleted(s.open, one, MOST, empty='_none_')}"]
    if s.changed:
        parts.append(f"*Risks changed since {_since(d)}*\n{bulleted(s.changed, change, MOST)}")
    return [section(p) for p in parts]


# One renderer per kind of section (bot.services.digests): the section and its digest in, blocks out.
RENDERERS: dict[type[Section], Callable[[Any, Digest], list[Block]]] = {
    Updates: _updates,
    Done: _done,
    Overdue: _overdue,
    DueSoon: _due_soon,
    ComingUp: _coming_up,
    Changes: _changes,
    Satisfaction: _satisfaction,
    FollowUps: _follow_ups,
    Risks: _risks,
}


def digest_message(d: Digest) -> dict[str, Any]:
    title = f"{'Digest' if d.audience == 'internal' else 'Project update'}: {d.name}"
    badge = health_badge(d.health, d.progress) or "_not reported yet_"
    facts = [("Health", badge), ("Since", _since(d))]
    if d.client and d.audience == "internal":
        facts.append(("Client", to_mrkdwn(d.client)))
    blocks: list[Block] = [header(title), fields(facts)]
    for s in d.sections:
        if d.audience not in s.audiences:  # compose never hands one over; a hand-made digest must not either
            raise AssertionError(f"a {type(s).__name__} section is not for the {d.audience} digest")
        blocks += RENDERERS[type(s)](s, d)
    if d.audience == "internal":
        footer = f"`{d.key}` · sent to the team by Liaison · `/project digest preview` shows it now"
    else:
        footer = f"Sent to you by Liaison · {client_footer()}"  # clients can't use our slash commands
    blocks += [divider(), context(footer)]
    fallback = f"{'Digest' if d.audience == 'internal' else 'Project update'}: {to_mrkdwn(d.name)}"
    total = sum(s.total for s in d.sections if isinstance(s, Updates))
    return message(f"{fallback} ({'quiet period' if d.quiet else f'{total} updates'})", blocks[:MAX_MESSAGE_BLOCKS])


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
    if audience != "internal":
        return message(f"{to_mrkdwn(m.name)} {what}", [section(text)])
    text += " `/milestone done` or `/milestone move` when it changes."
    # The team's reminder is kept as one of the milestone's cards (scheduler.reminders): it changes with it.
    return message(f"{to_mrkdwn(m.name)} {what}", [section(text), actions(done_button(m.id))])


def quiet_nudge(project_name: str, key: str, days: int) -> dict[str, Any]:
    text = (f":wave: *{to_mrkdwn(project_name)}* (`{key}`) has had no update for {days} days. "
            "A line with `/update` keeps the team and the client in the picture.")
    return message(f"{to_mrkdwn(project_name)} has had no update for {days} days", [section(text)])


def lead_told(problem: str) -> dict[str, Any]:
    return message(problem, [section(f":warning: {problem}")])
