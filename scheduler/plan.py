"""What is due now, per channel: each registered kind (scheduler/kinds.py) plans its own, and this sorts them out.

Pure planning from a few batched reads; the ledger (scheduler/ledger.py) then decides what this process sends.
An occurrence older than the grace period is never sent late: it is recorded as skipped (and logged) once.

A scheduled kind is a `ScheduledKind`: a prefix for the names of the deliveries it plans, a planner
(session, now, facts -> Planned items) and a composer (session, claimed items, now -> a message per item). Each
item may carry a typed `subject` (what it is about, beyond its project); its `key`, if any, is kept in the ledger.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from bot.services.dates import working_days_between
from storage.models import Delivery, Member, Project, ProjectChannel

LOOKBACK = timedelta(days=8)  # how far back a tick looks for missed occurrences
MAX_ATTEMPTS = 5


class Subject(Protocol):
    """What a planned delivery is about, beyond its project: a small frozen dataclass of its kind's own."""

    @property
    def key(self) -> str | None:
        """How the ledger keeps it (`deliveries.subject`, e.g. "milestone:12:2026-12-01"), for a kind that counts
        its past deliveries by subject; None keeps nothing."""
        ...


S = TypeVar("S", bound="Subject | None")
R = TypeVar("R")


@dataclass(frozen=True)
class Planned(Generic[S]):
    project_id: int
    kind: str  # the delivery's name, which starts with its kind's prefix: "digest.client", "reminder.overdue"
    occurrence: str
    channel_id: str
    due_at: datetime
    audience: str  # internal | client | lead (a direct message)
    subject: S  # None for what is about the project as a whole

    @property
    def key(self) -> tuple[int, str, str, str]:
        return (self.project_id, self.kind, self.occurrence, self.channel_id)

    @property
    def subject_key(self) -> str | None:
        return None if self.subject is None else self.subject.key


@dataclass(frozen=True)
class CardRef:
    """A post to remember as a card of a record (bot.services.cards), so that it changes when the record does."""

    kind: str
    record_id: int


@dataclass(frozen=True)
class Composed:
    payload: dict[str, Any]
    card: CardRef | None = None


@dataclass(frozen=True)
class Facts:
    """What every planner may need, read once per tick."""

    projects: Sequence[Row[Any]]  # id, key, name, timezone, digest_schedule, schedule_set_at, created_at
    channels: dict[int, list[tuple[str, str]]]  # project id -> (channel id, audience) of its live channels
    leads: dict[int, list[str]]  # project id -> its leads' user ids


@dataclass(frozen=True)
class ScheduledKind(Generic[S]):
    """A kind of scheduled message; a later one is a planner and a composer, and a line in scheduler/kinds.py."""

    prefix: str  # of the names of its deliveries (Planned.kind); no two kinds share one
    plan: Callable[[Session, datetime, Facts], list[Planned[S]]]
    # A message for each claimed item, in their order, in a constant number of queries.
    compose: Callable[[Session, list[Planned[S]], datetime], list[Composed]]
    # Of several missed occurrences for one channel, only the latest may still be sent (the others are skipped).
    latest_only: bool = False

    def owns(self, delivery_kind: str) -> bool:
        return delivery_kind.startswith(self.prefix)


@dataclass(frozen=True)
class Existing:
    id: int
    state: str
    attempts: int
    lease_until: datetime | None


@dataclass
class Plan:
    send: list[Planned[Any]]
    retry: list[tuple[Planned[Any], Existing]]
    skip: list[Planned[Any]]


def read_facts(session: Session) -> Facts:
    projects = session.execute(select(
        Project.id, Project.key, Project.name, Project.timezone, Project.digest_schedule, Project.schedule_set_at,
        Project.created_at,
    )).all()
    channels: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for project_id, channel_id, audience in session.execute(
        select(ProjectChannel.project_id, ProjectChannel.channel_id, ProjectChannel.audience)
        .where(ProjectChannel.is_archived.is_(False)).order_by(ProjectChannel.id)
    ):
        channels[project_id].append((channel_id, audience))
    leads: dict[int, list[str]] = defaultdict(list)
    for project_id, user_id in session.execute(select(Member.project_id, Member.user_id).where(Member.role == "lead")):
        leads[project_id].append(user_id)
    return Facts(projects, channels, leads)


def plan(session: Session, now: datetime, grace: timedelta, kinds: Sequence[ScheduledKind[Any]]) -> Plan:
    facts = read_facts(session)
    existing = {
        (r.project_id, r.kind, r.occurrence, r.channel_id): Existing(r.id, r.state, r.attempts, r.lease_until)
        for r in session.execute(select(
            Delivery.id, Delivery.project_id, Delivery.kind, Delivery.occurrence, Delivery.channel_id,
            Delivery.state, Delivery.attempts, Delivery.lease_until,
        ).where(Delivery.due_at > now - LOOKBACK - timedelta(days=1)))
    }
    result = Plan([], [], [])
    for kind in kinds:
        candidates = kind.plan(session, now, facts)
        latest: dict[tuple[int, str, str], datetime] = {}
        for c in candidates:
            if not kind.owns(c.kind):
                raise ValueError(f"{c.kind} planned by the kind of {kind.prefix}")
            if kind.latest_only:
                slot = (c.project_id, c.kind, c.channel_id)
                latest[slot] = max(latest.get(slot, c.due_at), c.due_at)
        for c in candidates:
            row = existing.get(c.key)
            late = now - c.due_at > grace
            superseded = kind.latest_only and c.due_at < latest[(c.project_id, c.kind, c.channel_id)]
            if row is None:
                (result.skip if late or superseded else result.send).append(c)
            elif not late and not superseded and row.attempts < MAX_ATTEMPTS and (
                row.state == "failed"
                or (row.state == "sending" and row.lease_until is not None and row.lease_until < now)
            ):
                result.retry.append((c, row))  # failed earlier, or its sender died mid-way: the next run tries again
    return result


def working_day_slot(now: datetime, tz: str, at: time) -> tuple[date, datetime] | None:
    """Today in the zone `tz` and today's `at` there, if today is a working day (Monday to Friday) and `at` has
    come; else None. What "once a working day at 09:00 project time" plans from."""
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    today = local_now.date()
    slot = datetime.combine(today, at, zone)
    if today.weekday() >= 5 or local_now < slot:
        return None
    return today, slot


def waited_today(now: datetime, facts: Facts, rows: Iterable[R], since: Callable[[R], datetime], more_than: int,
                 at: time) -> Iterator[tuple[R, Row[Any], date, datetime]]:
    """Of `rows` (each with a `project_id`), those whose `since` is more than `more_than` working days before
    today in their project's timezone, on a working day once `at` has come there: with their project, today and
    today's `at`. What "reminded once a working day after N working days" plans from."""
    by_id = {p.id: p for p in facts.projects}
    for row in rows:
        project = by_id.get(row.project_id)  # type: ignore[attr-defined]
        if project is None:
            continue
        slot = working_day_slot(now, project.timezone, at)
        if slot is None:
            continue
        today, slot_at = slot
        if working_days_between(since(row).astimezone(ZoneInfo(project.timezone)).date(), today) > more_than:
            yield row, project, today, slot_at


def utc_minute(at: datetime) -> str:
    """An occurrence's time as its name says it: 2026-11-30T09:00Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def owner(kinds: Sequence[ScheduledKind[Any]], delivery_kind: str) -> ScheduledKind[Any]:
    """The kind whose deliveries are named `delivery_kind`."""
    return next(k for k in kinds if k.owns(delivery_kind))
