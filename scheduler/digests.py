"""Digests, a scheduled kind: at each occurrence of a project's digest schedule, its digest to each of its live
channels, the internal one or the client one by the channel's audience (bot.services.digests says what they show).
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.render import digests as render
from bot.services import schedule
from bot.services.digests import compose, kind_of
from scheduler.plan import LOOKBACK, Composed, Facts, Planned, ScheduledKind, utc_minute
from storage.models import ProjectChannel

COMPOSE_BATCH = 200


def plan(session: Session, now: datetime, facts: Facts) -> list[Planned[None]]:
    planned: list[Planned[None]] = []
    # A schedule's fire times in the look-back window, worked out once per schedule and zone (most projects share
    # a few), not once per project: each project then takes those after its creation or its last schedule change.
    fires: dict[tuple[str, str], list[datetime]] = {}
    for p in facts.projects:
        shared = (p.digest_schedule, p.timezone)
        if shared not in fires:
            fires[shared] = list(schedule.occurrences(p.digest_schedule, p.timezone, now - LOOKBACK, now))
        start = max(p.created_at, p.schedule_set_at or p.created_at)
        for fire in fires[shared]:
            if fire <= start:
                continue
            for channel_id, audience in facts.channels.get(p.id, ()):
                planned.append(Planned(p.id, kind_of(audience), utc_minute(fire), channel_id, fire, audience, None))
    return planned


def manual(session: Session, project_id: int, now: datetime) -> list[Planned[None]]:
    """`/project digest`: one occurrence of its own ("manual" at this minute), to each of the project's channels."""
    bindings = session.execute(select(ProjectChannel.channel_id, ProjectChannel.audience).where(
        ProjectChannel.project_id == project_id, ProjectChannel.is_archived.is_(False))).all()
    occurrence = "manual " + now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [Planned(project_id, kind_of(audience), occurrence, channel_id, now, audience, None)
            for channel_id, audience in bindings]


def compose_all(session: Session, items: list[Planned[None]], now: datetime) -> list[Composed]:
    """Each digest is composed once per (project, audience, occurrence), for many projects at a time."""
    due: dict[str, datetime] = {}
    wanted: dict[str, set[int]] = {}
    for item in items:
        due.setdefault(item.occurrence, item.due_at)
        wanted.setdefault(item.occurrence, set()).add(item.project_id)
    messages = {}
    for occurrence, project_ids in wanted.items():
        ids = sorted(project_ids)
        for start in range(0, len(ids), COMPOSE_BATCH):
            for (project_id, audience), digest in compose(session, ids[start:start + COMPOSE_BATCH], now,
                                                          occurrence=due[occurrence]).items():
                messages[(project_id, audience, occurrence)] = render.digest_message(digest)
    return [Composed(messages[(item.project_id, item.audience, item.occurrence)]) for item in items]


DIGESTS = ScheduledKind("digest.", plan, compose_all, latest_only=True)
