"""Milestone reminders, a scheduled kind: at 09:00 in the project's timezone, 3 days before, the day before and on
the day a milestone is due, then once a working day (at most five times) while it is overdue, until done or moved.

Clients hear only of their own milestones, 3 days before. The team's reminder carries a "Mark done" button and is
kept as one of the milestone's cards, so it changes in place when the milestone is done or moved.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.render import digests as render
from bot.services.milestones import MilestoneCard
from scheduler.plan import CardRef, Composed, Facts, Planned, ScheduledKind
from storage.models import Delivery, Milestone, Project

REMINDER_AT = time(9, 0)  # reminders go out at 09:00 in the project's timezone
OVERDUE_MOST = 5
DAYS_BEFORE = {3: "reminder.due_in_3", 1: "reminder.due_in_1", 0: "reminder.due_today"}
OVERDUE = "reminder.overdue"


@dataclass(frozen=True)
class DueMilestone:
    """The milestone a reminder is about, as planned."""

    milestone: MilestoneCard

    @property
    def key(self) -> str:
        """Its id and due date: moving the milestone starts its reminders afresh."""
        return f"milestone:{self.milestone.id}:{self.milestone.due.isoformat()}"


def plan(session: Session, now: datetime, facts: Facts) -> list[Planned[DueMilestone]]:
    by_id = {p.id: p for p in facts.projects}
    today_utc = now.date()
    rows = session.execute(
        select(Milestone.id, Milestone.project_id, Milestone.name, Milestone.due_date, Milestone.owner_id,
               Milestone.visibility)
        .where(Milestone.done_at.is_(None), Milestone.due_date <= today_utc + timedelta(days=4),
               Milestone.due_date >= today_utc - timedelta(days=30))
    ).all()
    subjects = {m.id: DueMilestone(MilestoneCard(m.id, m.name, m.due_date, m.owner_id, m.visibility, None))
                for m in rows}
    overdue_sent = _overdue_days(session, {subjects[m.id].key for m in rows
                                           if m.due_date < today_utc + timedelta(days=1)})
    planned: list[Planned[DueMilestone]] = []
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
        subject = subjects[m.id]
        days = (m.due_date - today).days
        base = f"m{m.id}:{m.due_date.isoformat()}"  # moving the milestone starts its reminders afresh
        kind = DAYS_BEFORE.get(days)
        occurrence = base
        if days < 0:
            # Once a working day, at most five times, until done or moved.
            if today.weekday() >= 5 or overdue_sent.get(subject.key, 0) >= OVERDUE_MOST:
                continue
            kind, occurrence = OVERDUE, f"{base}@{today.isoformat()}"
        if kind is None:
            continue
        for channel_id, audience in facts.channels.get(p.id, ()):
            if audience == "client" and (kind != DAYS_BEFORE[3] or m.visibility != "client"):
                continue
            planned.append(Planned(p.id, kind, occurrence, channel_id, at, audience, subject))
    return planned


def _overdue_days(session: Session, subjects: set[str]) -> dict[str, int]:
    """On how many days each of these milestones (by subject) already had an overdue reminder, ever.

    One query for all of them, not bounded by the look-back (a week of reminders is older than it): distinct
    occurrences, so one day posted to several channels counts once."""
    if not subjects:
        return {}
    return {subject: days for subject, days in session.execute(
        select(Delivery.subject, func.count(Delivery.occurrence.distinct()))
        .where(Delivery.subject.in_(subjects), Delivery.kind == OVERDUE,
               Delivery.state.in_(("sent", "sending", "failed")))
        .group_by(Delivery.subject))}


def compose_all(session: Session, items: list[Planned[DueMilestone]], now: datetime) -> list[Composed]:
    names = dict(session.execute(select(Project.id, Project.name)
                                 .where(Project.id.in_({item.project_id for item in items}))).all())
    composed = []
    for item in items:
        m = item.subject.milestone
        # A reminder's due_at is 09:00 in the project's zone, so its date is the project's today.
        payload = render.reminder_message(item.kind, names[item.project_id], m, item.due_at.date(), item.audience)
        composed.append(Composed(payload, CardRef("milestone", m.id) if item.audience == "internal" else None))
    return composed


MILESTONE_REMINDERS = ScheduledKind("reminder.", plan, compose_all)
