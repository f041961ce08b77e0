"""Digest content: what the internal and the client digest of each project say, composed for many projects at
once in a constant number of queries (no query per project), and only client-visible items for clients."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bot.services.dates import local_day
from bot.services.milestones import MilestoneCard
from bot.services.updates import LIVE, current_status
from storage.models import Delivery, Milestone, Project, Update

UPDATES_SHOWN = 10
HORIZON_DAYS = 14
DONE_LOOKBACK = timedelta(days=35)
AUDIENCES = ("internal", "client")


@dataclass(frozen=True)
class DigestUpdate:
    id: int
    author_id: str
    text: str
    health: str | None
    progress: int | None
    visibility: str
    created_at: datetime
    edited: bool = False


@dataclass
class Digest:
    project_id: int
    key: str
    name: str
    client: str | None
    timezone: str
    audience: str
    health: str | None
    progress: int | None
    since: datetime
    until: datetime
    first: bool = False  # no digest went out before: "since" is the project's creation
    updates: list[DigestUpdate] = field(default_factory=list)
    updates_total: int = 0
    done: list[MilestoneCard] = field(default_factory=list)
    due_soon: list[MilestoneCard] = field(default_factory=list)
    overdue: list[MilestoneCard] = field(default_factory=list)
    coming: list[MilestoneCard] = field(default_factory=list)  # beyond the horizon: what a quiet week shows
    # Filled by later features (change requests, feedback, risks): (title, lines) in the order shown.
    extra: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def today(self) -> date:
        return local_day(self.until, self.timezone)

    @property
    def quiet(self) -> bool:
        return not self.updates_total and not self.done


def kind_of(audience: str) -> str:
    return f"digest.{audience}"


def compose(session: Session, project_ids: list[int], now: datetime,
            audiences: tuple[str, ...] = AUDIENCES, occurrence: datetime | None = None) -> dict[tuple[int, str], Digest]:
    """Digests keyed by (project id, audience): 1 + 4 per audience + 1 queries, whatever the projects' history.

    "Since" is the last digest sent before this occurrence, so a retried channel gets the same content.
    """
    before = occurrence or now
    if not project_ids:
        return {}
    projects = session.execute(select(
        Project.id, Project.key, Project.name, Project.client_name, Project.timezone, Project.created_at,
    ).where(Project.id.in_(project_ids))).all()
    digests: dict[tuple[int, str], Digest] = {}
    for audience in audiences:
        since = _last_digests(session, project_ids, audience, before)
        status = current_status(session, project_ids, audience)
        for p in projects:
            digests[(p.id, audience)] = Digest(
                project_id=p.id, key=p.key, name=p.name, client=p.client_name, timezone=p.timezone,
                audience=audience, health=status[p.id][0], progress=status[p.id][1],
                since=since.get(p.id) or p.created_at, until=now, first=p.id not in since,
            )
        _add_updates(session, project_ids, audience, now, before, digests)
    _add_milestones(session, project_ids, now, digests, audiences)
    return digests


def _last_digest_query(project_ids: list[int], audience: str, before: datetime):  # noqa: ANN202
    return (
        select(Delivery.project_id, func.max(Delivery.due_at).label("at"))
        .where(Delivery.project_id.in_(project_ids), Delivery.kind == kind_of(audience), Delivery.state == "sent",
               Delivery.due_at < before)
        .group_by(Delivery.project_id)
    )


def _last_digests(session: Session, project_ids: list[int], audience: str, before: datetime) -> dict[int, datetime]:
    return {project_id: at for project_id, at in session.execute(_last_digest_query(project_ids, audience, before))}


def _add_updates(session: Session, project_ids: list[int], audience: str, now: datetime, before: datetime,
                 digests: dict[tuple[int, str], Digest]) -> None:
    last = _last_digest_query(project_ids, audience, before).subquery()
    conditions = [
        Update.project_id.in_(project_ids), *LIVE, Update.created_at <= now,
        # Since the last digest; a project's first digest counts from (and including) its creation.
        or_(Update.created_at > last.c.at, and_(last.c.at.is_(None), Update.created_at >= Project.created_at)),
    ]
    if audience == "client":
        conditions.append(Update.visibility == "client")
    ranked = (
        select(
            Update.id, Update.project_id, Update.author_id, Update.text, Update.health, Update.progress,
            Update.visibility, Update.created_at, Update.edited_at,
            func.row_number().over(partition_by=Update.project_id,
                                   order_by=(Update.created_at.desc(), Update.id.desc())).label("rank"),
            func.count().over(partition_by=Update.project_id).label("total"),
        )
        .join(Project, Project.id == Update.project_id)
        .outerjoin(last, last.c.project_id == Update.project_id)
        .where(*conditions)
        .subquery()
    )
    rows = session.execute(select(ranked).where(ranked.c.rank <= UPDATES_SHOWN)
                           .order_by(ranked.c.project_id, ranked.c.rank)).all()
    for r in rows:
        digest = digests[(r.project_id, audience)]
        digest.updates.append(DigestUpdate(r.id, r.author_id, r.text, r.health, r.progress, r.visibility,
                                           r.created_at, r.edited_at is not None))
        digest.updates_total = r.total


def _add_milestones(session: Session, project_ids: list[int], now: datetime,
                    digests: dict[tuple[int, str], Digest], audiences: tuple[str, ...]) -> None:
    rows = session.execute(
        select(Milestone.id, Milestone.project_id, Milestone.name, Milestone.due_date, Milestone.owner_id,
               Milestone.visibility, Milestone.done_at)
        .where(Milestone.project_id.in_(project_ids),
               or_(Milestone.done_at.is_(None), and_(Milestone.done_at > now - DONE_LOOKBACK,
                                                       Milestone.done_at <= now)))
        .order_by(Milestone.due_date, Milestone.id)
    ).all()
    by_project: dict[int, list[MilestoneCard]] = defaultdict(list)
    for r in rows:
        by_project[r.project_id].append(MilestoneCard(r.id, r.name, r.due_date, r.owner_id, r.visibility, r.done_at))
    for audience in audiences:
        for project_id in project_ids:
            digest = digests.get((project_id, audience))
            if digest is None:
                continue
            today = digest.today
            for m in by_project.get(project_id, ()):
                if audience == "client" and m.visibility != "client":
                    continue
                if m.done_at is not None:
                    if m.done_at > digest.since or (digest.first and m.done_at >= digest.since):
                        digest.done.append(m)
                elif m.due < today:
                    digest.overdue.append(m)
                elif m.due <= today + timedelta(days=HORIZON_DAYS):
                    digest.due_soon.append(m)
                else:
                    digest.coming.append(m)
