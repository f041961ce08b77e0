"""Reminders of change requests awaiting the client's decision, a scheduled kind.

A request assessed (state `assessed`) for more than AWAITING_AFTER working days (working days after the local day
it was assessed on, in the project's timezone, up to today) is brought up in the project's client channels at
09:00 project time, once each working day (never at weekends), until it is decided, withdrawn or re-assessed (a
new assessment starts the count afresh). The reminder names the client's approvers, or says that the lead must
name one. It is posted to the client, so it carries only client-safe facts: never the team's notes.

Once a day across restarts and schedulers: the occurrence is `cr<id>:v<version>@<local day>`, and the ledger's
unique key (project, kind, occurrence, channel) lets one process post it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.render.change_reminders import change_reminder
from bot.services.dates import local_day, working_days_between
from scheduler.plan import Composed, Facts, Planned, ScheduledKind, waited_today
from storage.models import ChangeRequest, Member, Project

REMIND_AT = time(9, 0)  # in the project's timezone, as milestone reminders
AWAITING_AFTER = 2  # working days a request may await a decision before the client is reminded
KIND = "change.awaiting_decision"


@dataclass(frozen=True)
class AwaitingDecision:
    """The change request a reminder is about, and the assessment (version) it awaits a decision on."""

    change_id: int
    version: int

    @property
    def key(self) -> str:
        return f"change:{self.change_id}:v{self.version}"


def plan(session: Session, now: datetime, facts: Facts) -> list[Planned[AwaitingDecision]]:
    rows = session.execute(
        select(ChangeRequest.id, ChangeRequest.project_id, ChangeRequest.version, ChangeRequest.changed_at)
        # More than two working days after its local day is well over a day ago, whatever the zone: a cheap bound.
        .where(ChangeRequest.state == "assessed", ChangeRequest.changed_at < now - timedelta(days=1))
        .order_by(ChangeRequest.id)
    ).all()
    planned: list[Planned[AwaitingDecision]] = []
    for r, p, today, at in waited_today(now, facts, rows, lambda r: r.changed_at, AWAITING_AFTER, REMIND_AT):
        subject = AwaitingDecision(r.id, r.version)
        occurrence = f"cr{r.id}:v{r.version}@{today.isoformat()}"
        for channel_id, audience in facts.channels.get(p.id, ()):
            if audience == "client":  # the client decides: the reminder is theirs
                planned.append(Planned(p.id, KIND, occurrence, channel_id, at, audience, subject))
    return planned


def compose_all(session: Session, items: list[Planned[AwaitingDecision]], now: datetime) -> list[Composed]:
    """Three queries for any number of items: the requests, their projects and the projects' approvers."""
    project_ids = {item.project_id for item in items}
    changes = {r.id: r for r in session.execute(
        select(ChangeRequest.id, ChangeRequest.number, ChangeRequest.title, ChangeRequest.changed_at,
               ChangeRequest.days, ChangeRequest.cost_cents, ChangeRequest.currency)
        .where(ChangeRequest.id.in_({item.subject.change_id for item in items})))}
    projects = {r.id: r for r in session.execute(
        select(Project.id, Project.name, Project.timezone).where(Project.id.in_(project_ids)))}
    approvers: dict[int, list[str]] = defaultdict(list)
    for project_id, user_id in session.execute(
            select(Member.project_id, Member.user_id)
            .where(Member.project_id.in_(project_ids), Member.role == "client_approver").order_by(Member.id)):
        approvers[project_id].append(user_id)
    composed = []
    for item in items:
        c, p = changes[item.subject.change_id], projects[item.project_id]
        # The occurrence's day (its due_at is 09:00 on it, in the project's zone): a retry says the same.
        waited = working_days_between(local_day(c.changed_at, p.timezone), local_day(item.due_at, p.timezone))
        composed.append(Composed(change_reminder(p.name, c.number, c.title, waited, c.days, c.cost_cents,
                                                 c.currency, approvers[item.project_id])))
    return composed


CHANGE_REMINDERS = ScheduledKind("change.", plan, compose_all)
