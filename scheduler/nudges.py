"""Quiet-project nudges, a scheduled kind: a project with no update for a week tells its leads, once a week."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.render import digests as render
from scheduler.plan import Composed, Facts, Planned, ScheduledKind, utc_minute
from storage.models import Project, Update

QUIET_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class QuietSpell:
    """How long the project had gone without an update when the nudge was planned."""

    days: int

    @property
    def key(self) -> None:
        return None  # nothing counts nudges: the occurrence (last update, weeks) says which one it is


def plan(session: Session, now: datetime, facts: Facts) -> list[Planned[QuietSpell]]:
    last_updates = dict(session.execute(
        select(Update.project_id, func.max(Update.created_at)).where(Update.deleted_at.is_(None))
        .group_by(Update.project_id)
    ).all())
    planned: list[Planned[QuietSpell]] = []
    for p in facts.projects:
        last = last_updates.get(p.id) or p.created_at
        silent = now - last
        if silent >= QUIET_AFTER:
            weeks = silent // QUIET_AFTER
            for lead in facts.leads.get(p.id, ()):
                planned.append(Planned(p.id, "nudge.quiet", f"{utc_minute(last)}+{weeks}w", lead,
                                       last + weeks * QUIET_AFTER, "lead", QuietSpell(silent.days)))
    return planned


def compose_all(session: Session, items: list[Planned[QuietSpell]], now: datetime) -> list[Composed]:
    names = {pid: (name, key) for pid, name, key in session.execute(
        select(Project.id, Project.name, Project.key).where(Project.id.in_({item.project_id for item in items})))}
    return [Composed(render.quiet_nudge(*names[item.project_id], item.subject.days)) for item in items]


QUIET_NUDGES = ScheduledKind("nudge.quiet", plan, compose_all)
