"""How a project stands, as one audience may see it: health, progress, what is due next, what was said last.

`/project status` and `@Liaison status` show it; in a client channel (or to a client) only client-visible
updates and milestones count, including for health and progress.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import milestones, updates
from bot.services.milestones import MilestoneCard
from bot.services.places import Place
from bot.services.updates import UpdateCard
from storage.models import Milestone

SHOWN = 3


@dataclass(frozen=True)
class Overview:
    key: str
    name: str
    timezone: str
    audience: str
    health: str | None
    progress: int | None
    next_milestones: list[MilestoneCard]
    latest_updates: list[UpdateCard]


def overview(session: Session, place: Place) -> Overview:
    audience = place.shows
    health, progress = updates.current_status(session, [place.project_id], audience)[place.project_id]
    query = select(Milestone).where(Milestone.project_id == place.project_id, Milestone.done_at.is_(None))
    if audience == "client":
        query = query.where(Milestone.visibility == "client")
    due = [milestones.card(m) for m in session.scalars(query.order_by(Milestone.due_date, Milestone.id).limit(SHOWN))]
    latest = updates.list_updates(session, place, None, most=SHOWN)[:SHOWN]
    return Overview(place.key, place.name, place.timezone, audience, health, progress, due, latest)
