"""Reminders of open follow-ups, a scheduled kind.

A follow-up (a low score or a complaint) still open more than OPEN_AFTER working days after the local day it was
opened on (in the project's timezone, up to today) is brought up to its owner by direct message at 09:00 project
time, once each working day (never at weekends), until someone resolves it. A follow-up with no owner (its project
had no lead), or whose owner is no longer on the team (given a client role since, or from another organisation),
goes to the project's leads of today.

Once a day across restarts and schedulers: the occurrence is `fu<id>@<local day>` and the "channel" is the owner's
user id (a direct message, audience "lead"), so the ledger's unique key lets one process post it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from bot.actors import CLIENT_ROLES, INTERNAL_ROLES
from bot.render.feedback import followup_reminder
from bot.render.kit import message, section
from bot.services import followups
from bot.services.dates import local_day, working_days_between
from scheduler.plan import Composed, Facts, Planned, ScheduledKind, waited_today
from storage.models import FollowUp, Member, Person, Project

REMIND_AT = time(9, 0)  # in the project's timezone, as the other reminders
OPEN_AFTER = 2  # working days a follow-up may stay open before its owner is reminded
KIND = "followup.reminder"


@dataclass(frozen=True)
class OpenFollowUp:
    """The follow-up a reminder is about."""

    follow_up_id: int

    @property
    def key(self) -> str:
        return f"followup:{self.follow_up_id}"


def plan(session: Session, now: datetime, facts: Facts) -> list[Planned[OpenFollowUp]]:
    rows = session.execute(
        select(FollowUp.id, FollowUp.project_id, FollowUp.owner_id, FollowUp.opened_at)
        # More than two working days after its local day is well over a day ago, whatever the zone: a cheap bound.
        .where(FollowUp.resolved_at.is_(None), FollowUp.opened_at < now - timedelta(days=1))
        .order_by(FollowUp.id)
    ).all()
    on_team = _still_on_team(session, rows)
    planned: list[Planned[OpenFollowUp]] = []
    for r, p, today, at in waited_today(now, facts, rows, lambda r: r.opened_at, OPEN_AFTER, REMIND_AT):
        occurrence = f"fu{r.id}@{today.isoformat()}"
        owners = [r.owner_id] if r.owner_id and (p.id, r.owner_id) in on_team else facts.leads.get(p.id, [])
        for owner in owners:
            planned.append(Planned(p.id, KIND, occurrence, owner, at, "lead", OpenFollowUp(r.id)))
    return planned


def _still_on_team(session: Session, rows: Sequence[Row[Any]]) -> set[tuple[int, str]]:
    """(project id, owner) of the owners still on their project's team: a lead or team member, or someone given no
    client role who is not from another organisation. The others (made a client since, or external) are not
    quoted client feedback: their project's leads are reminded instead. Two queries for any number of rows."""
    owners = {(r.project_id, r.owner_id) for r in rows if r.owner_id}
    if not owners:
        return set()
    project_ids, user_ids = {p for p, _ in owners}, {u for _, u in owners}
    roles = {(m.project_id, m.user_id): m.role for m in session.execute(
        select(Member.project_id, Member.user_id, Member.role)
        .where(Member.project_id.in_(project_ids), Member.user_id.in_(user_ids)))}
    external = {(x.id, x.user_id) for x in session.execute(
        select(Project.id, Person.user_id).join(Person, Person.team_id == Project.team_id)
        .where(Project.id.in_(project_ids), Person.user_id.in_(user_ids), Person.is_external.is_(True)))}
    return {o for o in owners if roles.get(o) in INTERNAL_ROLES
            or (roles.get(o) not in CLIENT_ROLES and o not in external)}


def compose_all(session: Session, items: list[Planned[OpenFollowUp]], now: datetime) -> list[Composed]:
    """Five queries for any number of items (the follow-ups, their projects and what raised them)."""
    found = followups.shown_many(session, [item.subject.follow_up_id for item in items])
    composed = []
    for item in items:
        card = found.get(item.subject.follow_up_id)
        if card is None:  # gone between the plan and now (its project deleted): say so rather than nothing
            composed.append(Composed(message("A follow-up was closed", [section(
                "A follow-up you were reminded of no longer exists; nothing to do.")])))
            continue
        # The occurrence's day (its due_at is 09:00 on it, in the project's zone): a retry says the same.
        waited = working_days_between(local_day(card.opened_at, card.timezone), local_day(item.due_at, card.timezone))
        composed.append(Composed(followup_reminder(card, waited)))
    return composed


FOLLOW_UP_REMINDERS = ScheduledKind("followup.", plan, compose_all)
