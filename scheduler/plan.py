"""What is due now: digest occurrences, milestone reminders and quiet-project nudges, per channel.

Pure planning from a few batched reads; the ledger (scheduler/ledger.py) then decides what this process sends.
An occurrence older than the grace period is never sent late: it is recorded as skipped (and logged) once.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services import schedule
from bot.services.digests import kind_of
from bot.services.milestones import MilestoneCard
from storage.models import Delivery, Member, Milestone, Project, ProjectChannel, Update

LOOKBACK = timedelta(days=8)  # how far back a tick looks for missed occurrences
REMINDER_AT = time(9, 0)  # reminders go out at 09:00 in the project's timezone
OVERDUE_MOST = 5
QUIET_AFTER = timedelta(days=7)
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Planned:
    project_id: int
    kind: str
    occurrence: str
    channel_id: str
    due_at: datetime
    audience: str  # internal | client | lead (a direct message)
    milestone: MilestoneCard | None = None
    quiet_days: int = 0

    @property
    def key(self) -> tuple[int, str, str, str]:
        return (self.project_id, self.kind, self.occurrence, self.channel_id)


@dataclass(frozen=True)
class Existing:
    id: int
    state: str
    attempts: int
    lease_until: datetime | None


@dataclass
class Plan:
    send: list[Planned]
    retry: list[tuple[Planned, Existing]]
    skip: list[Planned]


def plan(session: Session, now: datetime, grace: timedelta) -> Plan:
    projects = session.execute(select(
        Project.id, Project.key, Project.name, Project.timezone, Project.digest_schedule, Project.schedule_set_at,
        Project.created_at,
    )).all()
    last_updates = dict(session.execute(
        select(Update.project_id, func.max(Update.created_at)).where(Update.deleted_at.is_(None))
        .group_by(Update.project_id)
    ).all())
    channels: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for project_id, channel_id, audience in session.execute(
        select(ProjectChannel.project_id, ProjectChannel.channel_id, ProjectChannel.audience)
        .where(ProjectChannel.is_archived.is_(False)).order_by(ProjectChannel.id)
    ):
        channels[project_id].append((channel_id, audience))
    leads: dict[int, list[str]] = defaultdict(list)
    for project_id, user_id in session.execute(select(Member.project_id, Member.user_id).where(Member.role == "lead")):
        leads[project_id].append(user_id)
    existing = {
        (r.project_id, r.kind, r.occurrence, r.channel_id): Existing(r.id, r.state, r.attempts, r.lease_until)
        for r in session.execute(select(
            Delivery.id, Delivery.project_id, Delivery.kind, Delivery.occurrence, Delivery.channel_id,
            Delivery.state, Delivery.attempts, Delivery.lease_until,
        ).where(Delivery.due_at > now - LOOKBACK - timedelta(days=1)))
    }

    candidates: list[Planned] = []
    for p in projects:
        start = max(p.created_at, p.schedule_set_at or p.created_at, now - LOOKBACK)
        fires = list(schedule.occurrences(p.digest_schedule, p.timezone, start, now))
        for fire in fires:
            for channel_id, audience in channels.get(p.id, ()):
                candidates.append(Planned(p.id, kind_of(audience), _iso(fire), channel_id, fire, audience))
        last = last_updates.get(p.id) or p.created_at
        silent = now - last
        if silent >= QUIET_AFTER:
            weeks = silent // QUIET_AFTER
            for lead in leads.get(p.id, ()):
                candidates.append(Planned(p.id, "nudge.quiet", f"{_iso(last)}+{weeks}w", lead,
                                          last + weeks * QUIET_AFTER, "lead", quiet_days=silent.days))
    candidates += _reminders(session, projects, channels, now)

    result = Plan([], [], [])
    latest: dict[tuple[int, str, str], datetime] = {}
    for c in candidates:  # of several missed occurrences of one digest, only the latest may still be sent
        if c.kind.startswith("digest."):
            slot = (c.project_id, c.kind, c.channel_id)
            latest[slot] = max(latest.get(slot, c.due_at), c.due_at)
    for c in candidates:
        row = existing.get(c.key)
        late = now - c.due_at > grace
        superseded = c.kind.startswith("digest.") and c.due_at < latest[(c.project_id, c.kind, c.channel_id)]
        if row is None:
            (result.skip if late or superseded else result.send).append(c)
        elif not late and not superseded and row.attempts < MAX_ATTEMPTS and (
            row.state == "failed" or (row.state == "sending" and row.lease_until is not None and row.lease_until < now)
        ):
            result.retry.append((c, row))  # failed earlier, or its sender died mid-way: the next run tries again
    return result


def _reminders(session: Session, projects: list, channels: dict[int, list[tuple[str, str]]],
               now: datetime) -> list[Planned]:
    by_id = {p.id: p for p in projects}
    today_utc = now.date()
    rows = session.execute(
        select(Milestone.id, Milestone.project_id, Milestone.name, Milestone.due_date, Milestone.owner_id,
               Milestone.visibility)
        .where(Milestone.done_at.is_(None), Milestone.due_date <= today_utc + timedelta(days=4),
               Milestone.due_date >= today_utc - timedelta(days=30))
    ).all()
    overdue_sent = _overdue_days(session, [m for m in rows if m.due_date < today_utc + timedelta(days=1)])
    planned: list[Planned] = []
    for m in rows:
        p = by_id.get(m.project_id)
        if p is None:
            continue
        zone = ZoneInfo(p.timezone)
        local_now = now.astimezone(zone)
        today = local_now.date()
        at = datetime.combine(today, REMINDER_AT, zone)
        if local_now < at:
            continue
        card = MilestoneCard(m.id, m.name, m.due_date, m.owner_id, m.visibility, None)
        days = (m.due_date - today).days
        base = f"m{m.id}:{m.due_date.isoformat()}"  # moving the milestone starts its reminders afresh
        kind = {3: "reminder.due_in_3", 1: "reminder.due_in_1", 0: "reminder.due_today"}.get(days)
        occurrence = base
        if days < 0:
            # Once a working day, at most five times, until done or moved.
            if today.weekday() >= 5 or overdue_sent.get(base, 0) >= OVERDUE_MOST:
                continue
            kind, occurrence = "reminder.overdue", f"{base}@{today.isoformat()}"
        if kind is None:
            continue
        for channel_id, audience in channels.get(p.id, ()):
            if audience == "client" and (kind != "reminder.due_in_3" or m.visibility != "client"):
                continue
            planned.append(Planned(p.id, kind, occurrence, channel_id, at, audience, milestone=card))
    return planned


def _overdue_days(session: Session, milestones: list) -> dict[str, int]:
    """On how many days each of these milestones (by `m<id>:<due date>`) already had an overdue reminder, ever.

    One query for all of them, not bounded by the look-back (a week of reminders is older than it): distinct
    occurrences, so one day posted to several channels counts once. Each such reminder is due after the
    milestone's due date, so the bound on `due_at` leaves none out; it only lets the index skip older rows."""
    if not milestones:
        return {}
    bases = {f"m{m.id}:{m.due_date.isoformat()}" for m in milestones}
    earliest = datetime.combine(min(m.due_date for m in milestones) - timedelta(days=1), time(0), ZoneInfo("UTC"))
    days: dict[str, int] = defaultdict(int)
    for (occurrence,) in session.execute(
        select(Delivery.occurrence).distinct().where(
            Delivery.kind == "reminder.overdue", Delivery.state.in_(("sent", "sending", "failed")),
            Delivery.project_id.in_({m.project_id for m in milestones}), Delivery.due_at >= earliest)
    ):
        base = occurrence.rsplit("@", 1)[0]
        if base in bases:
            days[base] += 1
    return days


def _iso(at: datetime) -> str:
    return at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%MZ")
