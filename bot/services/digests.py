"""Digest content: what the internal and the client digest of each project say, composed for many projects at
once in a constant number of queries (no query per project), and only client-visible items for clients.

A digest is a head (project, health, since when) and typed sections, filled by the providers in `SECTIONS`, in
that order. To add a section (CSAT, risks; change requests are one):
  1. a frozen dataclass subclassing `Section`, with the data it shows and its `audiences` (internal by default);
  2. a provider: a function (session, batch) -> (digest, section) pairs, for every digest of the batch, in a
     constant number of queries whatever the number of projects; listed with the kinds it fills in `SECTIONS`;
  3. one pure renderer in bot.render.digests, listed in its `RENDERERS`.
A provider is only given digests of the audiences its sections declare, and compose refuses a section handed to
an audience it does not declare: a client digest can't show what is meant for the team.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.orm import Session

from bot.services.changes import APPROVED, Totals
from bot.services.dates import local_day, working_days_between
from bot.services.milestones import MilestoneCard
from bot.services.updates import LIVE, current_status
from storage.models import (
    ChangeRequest,
    Delivery,
    Feedback,
    FollowUp,
    Milestone,
    Project,
    Risk,
    Survey,
    SurveyAnswer,
    Update,
)

UPDATES_SHOWN = 10
HORIZON_DAYS = 14
DONE_LOOKBACK = timedelta(days=35)
AUDIENCES = ("internal", "client")


@dataclass(frozen=True)
class Section:
    """A part of a digest: the data it shows. `audiences` says whose digest may show it (only the team's unless a
    subclass says otherwise); `happened` counts what it reports as done since the last digest (none anywhere makes
    a quiet period)."""

    audiences: ClassVar[tuple[str, ...]] = ("internal",)

    @property
    def happened(self) -> int:
        return 0


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


@dataclass(frozen=True)
class Updates(Section):
    """The latest updates since the last digest (at most UPDATES_SHOWN), and how many there were."""

    audiences = AUDIENCES
    shown: tuple[DigestUpdate, ...] = ()
    total: int = 0

    @property
    def happened(self) -> int:
        return self.total


@dataclass(frozen=True)
class Done(Section):
    """Milestones completed since the last digest."""

    audiences = AUDIENCES
    milestones: tuple[MilestoneCard, ...] = ()

    @property
    def happened(self) -> int:
        return len(self.milestones)


@dataclass(frozen=True)
class Overdue(Section):
    audiences = AUDIENCES
    milestones: tuple[MilestoneCard, ...] = ()


@dataclass(frozen=True)
class DueSoon(Section):
    """Open milestones due within HORIZON_DAYS."""

    audiences = AUDIENCES
    milestones: tuple[MilestoneCard, ...] = ()


@dataclass(frozen=True)
class ComingUp(Section):
    """Open milestones beyond the horizon: what a quiet period shows."""

    audiences = AUDIENCES
    milestones: tuple[MilestoneCard, ...] = ()


@dataclass(frozen=True)
class DigestChange:
    """A change request as a digest shows it, to the team and to the client alike: no notes of any kind."""

    number: int
    title: str
    state: str
    days: int | None  # the assessed impact, in working days
    cost_cents: int | None
    currency: str | None
    waiting: int = 0  # working days it has awaited the client's decision (state assessed)
    decided_by: str | None = None
    override: bool = False  # decided by the lead on the client's behalf

    @property
    def ref(self) -> str:
        return f"CR-{self.number}"

    @property
    def approved(self) -> bool:
        return self.state in APPROVED


@dataclass(frozen=True)
class Changes(Section):
    """Change requests: filed since the last digest, awaiting the client's decision, decided since the last digest,
    and what the approved ones add to the project's baseline (budget and due date) so far."""

    audiences = AUDIENCES
    new: tuple[DigestChange, ...] = ()
    awaiting: tuple[DigestChange, ...] = ()
    decided: tuple[DigestChange, ...] = ()
    totals: Totals | None = None

    @property
    def happened(self) -> int:
        return len(self.new) + len(self.decided)

    @property
    def empty(self) -> bool:
        return not (self.new or self.awaiting or self.decided)

    @property
    def has_impact(self) -> bool:
        """Approved change requests add days or money to the baseline."""
        t = self.totals
        return t is not None and (t.approved_days > 0 or any(cents for _, cents in t.approved_cents))


@dataclass(frozen=True)
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
    sections: tuple[Section, ...] = ()  # in the order shown

    @property
    def today(self) -> date:
        return local_day(self.until, self.timezone)

    @property
    def quiet(self) -> bool:
        return not any(s.happened for s in self.sections)


@dataclass(frozen=True)
class Batch:
    """What a provider fills: the digests of one compose that it may fill (keyed by project id and audience)."""

    digests: dict[tuple[int, str], Digest]
    now: datetime
    before: datetime  # the occurrence being composed: "since" is the last digest sent before it

    @property
    def project_ids(self) -> list[int]:
        return sorted({project_id for project_id, _ in self.digests})

    @property
    def audiences(self) -> tuple[str, ...]:
        return tuple(a for a in AUDIENCES if any(audience == a for _, audience in self.digests))


@dataclass(frozen=True)
class SectionProvider:
    """Collects sections of the kinds in `fills` for every digest of a batch, in a constant number of queries."""

    fills: tuple[type[Section], ...]
    collect: Callable[[Session, Batch], Iterable[tuple[Digest, Section]]]

    @property
    def audiences(self) -> tuple[str, ...]:
        return tuple(a for a in AUDIENCES if any(a in kind.audiences for kind in self.fills))


def kind_of(audience: str) -> str:
    return f"digest.{audience}"


def compose(session: Session, project_ids: list[int], now: datetime, audiences: tuple[str, ...] = AUDIENCES,
            occurrence: datetime | None = None,
            sections: Iterable[SectionProvider] | None = None) -> dict[tuple[int, str], Digest]:
    """Digests keyed by (project id, audience): 1 + 3 per audience queries for the heads, then the providers'
    (`SECTIONS` unless given: 1 per audience for updates, 1 for milestones,
    2 for change requests), whatever the projects' history.

    "Since" is the last digest sent before this occurrence, so a retried channel gets the same content.
    """
    before = occurrence or now
    if not project_ids:
        return {}
    projects = session.execute(select(
        Project.id, Project.key, Project.name, Project.client_name, Project.timezone, Project.created_at,
    ).where(Project.id.in_(project_ids))).all()
    heads: dict[tuple[int, str], Digest] = {}
    for audience in audiences:
        since = _last_digests(session, project_ids, audience, before)
        status = current_status(session, project_ids, audience)
        for p in projects:
            heads[(p.id, audience)] = Digest(
                project_id=p.id, key=p.key, name=p.name, client=p.client_name, timezone=p.timezone,
                audience=audience, health=status[p.id][0], progress=status[p.id][1],
                since=since.get(p.id) or p.created_at, until=now, first=p.id not in since,
            )
    found: dict[tuple[int, str], list[Section]] = {key: [] for key in heads}
    for provider in SECTIONS if sections is None else sections:
        given = {key: d for key, d in heads.items() if d.audience in provider.audiences}
        if not given:
            continue
        for digest, section in provider.collect(session, Batch(given, now, before)):
            if not isinstance(section, provider.fills):
                raise TypeError(f"a {type(section).__name__} section from a provider that doesn't declare it")
            if digest.audience not in section.audiences:
                raise ValueError(f"a {type(section).__name__} section can't go into the {digest.audience} digest")
            found[(digest.project_id, digest.audience)].append(section)
    return {key: replace(d, sections=tuple(found[key])) for key, d in heads.items()}


def _last_digest_query(project_ids: list[int], audience: str, before: datetime):  # noqa: ANN202
    return (
        select(Delivery.project_id, func.max(Delivery.due_at).label("at"))
        .where(Delivery.project_id.in_(project_ids), Delivery.kind == kind_of(audience), Delivery.state == "sent",
               Delivery.due_at < before)
        .group_by(Delivery.project_id)
    )


def _last_digests(session: Session, project_ids: list[int], audience: str, before: datetime) -> dict[int, datetime]:
    return {project_id: at for project_id, at in session.execute(_last_digest_query(project_ids, audience, before))}


def collect_updates(session: Session, batch: Batch) -> Iterator[tuple[Digest, Section]]:
    """Updates since each digest's last one: one query per audience."""
    project_ids = batch.project_ids
    for audience in batch.audiences:
        last = _last_digest_query(project_ids, audience, batch.before).subquery()
        conditions = [
            Update.project_id.in_(project_ids), *LIVE, Update.created_at <= batch.now,
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
        shown: dict[int, list[DigestUpdate]] = defaultdict(list)
        totals: dict[int, int] = {}
        for r in session.execute(select(ranked).where(ranked.c.rank <= UPDATES_SHOWN)
                                 .order_by(ranked.c.project_id, ranked.c.rank)):
            shown[r.project_id].append(DigestUpdate(r.id, r.author_id, r.text, r.health, r.progress, r.visibility,
                                                    r.created_at, r.edited_at is not None))
            totals[r.project_id] = r.total
        for (project_id, digest_audience), digest in batch.digests.items():
            if digest_audience == audience:
                yield digest, Updates(tuple(shown[project_id]), totals.get(project_id, 0))


def collect_milestones(session: Session, batch: Batch) -> Iterator[tuple[Digest, Section]]:
    """Done since the last digest, overdue, due soon and coming up: one query for every audience."""
    now = batch.now
    rows = session.execute(
        select(Milestone.id, Milestone.project_id, Milestone.name, Milestone.due_date, Milestone.owner_id,
               Milestone.visibility, Milestone.done_at)
        .where(Milestone.project_id.in_(batch.project_ids),
               or_(Milestone.done_at.is_(None), and_(Milestone.done_at > now - DONE_LOOKBACK,
                                                       Milestone.done_at <= now)))
        .order_by(Milestone.due_date, Milestone.id)
    ).all()
    by_project: dict[int, list[MilestoneCard]] = defaultdict(list)
    for r in rows:
        by_project[r.project_id].append(MilestoneCard(r.id, r.name, r.due_date, r.owner_id, r.visibility, r.done_at))
    for digest in batch.digests.values():
        today = digest.today
        done, overdue, due_soon, coming = [], [], [], []
        for m in by_project.get(digest.project_id, ()):
            if digest.audience == "client" and m.visibility != "client":
                continue
            if m.done_at is not None:
                if m.done_at > digest.since or (digest.first and m.done_at >= digest.since):
                    done.append(m)
            elif m.due < today:
                overdue.append(m)
            elif m.due <= today + timedelta(days=HORIZON_DAYS):
                due_soon.append(m)
            else:
                coming.append(m)
        yield digest, Done(tuple(done))
        yield digest, Overdue(tuple(overdue))
        yield digest, DueSoon(tuple(due_soon))
        yield digest, ComingUp(tuple(coming))


def collect_changes(session: Session, batch: Batch) -> Iterator[tuple[Digest, Section]]:
    """New, awaiting a decision, decided, and the approved impact: two queries for every project and audience.

    The requests read are those each digest may show (filed or decided since the earliest "since" of the batch,
    or awaiting a decision) and the approved ones, whose impact adds up; their notes are never read."""
    project_ids, now = batch.project_ids, batch.now
    earliest = min(d.since for d in batch.digests.values())
    heads = session.execute(select(Project.id, Project.budget_cents, Project.budget_currency, Project.due_date)
                            .where(Project.id.in_(project_ids))).all()
    rows = session.execute(
        select(ChangeRequest.project_id, ChangeRequest.number, ChangeRequest.title, ChangeRequest.state,
               ChangeRequest.days, ChangeRequest.cost_cents, ChangeRequest.currency, ChangeRequest.created_at,
               ChangeRequest.changed_at, ChangeRequest.decided_by, ChangeRequest.decided_at, ChangeRequest.override)
        .where(ChangeRequest.project_id.in_(project_ids),
               or_(ChangeRequest.state.in_(("assessed", *APPROVED)), ChangeRequest.created_at >= earliest,
                   ChangeRequest.decided_at >= earliest))
        .order_by(ChangeRequest.project_id, ChangeRequest.number)
    ).all()
    by_project: dict[int, list[Row[Any]]] = defaultdict(list)
    sums: dict[int, dict[str, int]] = defaultdict(dict)
    days: dict[int, int] = defaultdict(int)
    count: dict[int, int] = defaultdict(int)
    for r in rows:
        by_project[r.project_id].append(r)
        if r.state in APPROVED:  # as bot.services.changes.totals adds them up
            count[r.project_id] += 1
            days[r.project_id] += r.days or 0
            if r.cost_cents and r.currency:
                sums[r.project_id][r.currency] = sums[r.project_id].get(r.currency, 0) + r.cost_cents
    totals = {}
    for project_id, budget, currency, due in heads:
        by_currency = sorted(sums[project_id].items(), key=lambda kv: (kv[0] != currency, kv[0]))
        totals[project_id] = Totals(budget, currency, due, tuple(by_currency), days[project_id], count[project_id])

    def since(at: datetime | None, digest: Digest) -> bool:
        return at is not None and at <= now and (at > digest.since or (digest.first and at >= digest.since))

    for digest in batch.digests.values():
        today = digest.today
        new, awaiting, decided = [], [], []
        for r in by_project.get(digest.project_id, ()):
            waiting = (working_days_between(local_day(r.changed_at, digest.timezone), today)
                       if r.state == "assessed" else 0)
            change = DigestChange(r.number, r.title, r.state, r.days, r.cost_cents, r.currency, waiting,
                                  r.decided_by, r.override)
            if since(r.created_at, digest):
                new.append(change)
            if r.state == "assessed":
                awaiting.append(change)
            if (r.state == "rejected" or r.state in APPROVED) and since(r.decided_at, digest):
                decided.append(change)
        awaiting.sort(key=lambda c: (-c.waiting, c.number))  # the longest wait first
        yield digest, Changes(tuple(new), tuple(awaiting), tuple(decided), totals.get(digest.project_id))


@dataclass(frozen=True)
class Comment:
    text: str
    score: int | None
    at: datetime
    source: str  # survey | feedback


@dataclass(frozen=True)
class Satisfaction(Section):
    """CSAT for the period (survey answers given since the last digest): average and number, the average of the
    period before (as long, just before it), and the latest comments (survey comments and feedback). The team's
    only: clients never see scores, comments or feedback."""

    average: float | None = None
    answers: int = 0
    previous: float | None = None
    comments: tuple[Comment, ...] = ()

    @property
    def happened(self) -> int:
        return self.answers + len(self.comments)


@dataclass(frozen=True)
class OpenFollowUp:
    id: int
    owner_id: str
    source: str
    opened_at: datetime


@dataclass(frozen=True)
class FollowUps(Section):
    """Follow-ups of low scores and complaints not resolved yet (the team's only)."""

    open: tuple[OpenFollowUp, ...] = ()


@dataclass(frozen=True)
class DigestRisk:
    number: int
    description: str
    score: int
    owner_id: str | None
    review_date: date | None
    state: str
    created_at: datetime
    changed_at: datetime

    @property
    def ref(self) -> str:
        return f"R-{self.number}"


@dataclass(frozen=True)
class Risks(Section):
    """The risk register (the team's only): open risks by score, those past their review date flagged, and what
    changed since the last digest (added, changed, closed)."""

    open: tuple[DigestRisk, ...] = ()
    changed: tuple[DigestRisk, ...] = ()

    @property
    def happened(self) -> int:
        return len(self.changed)


def collect_satisfaction(session: Session, batch: Batch) -> Iterator[tuple[Digest, Section]]:
    """Two queries for every project: the survey answers and the feedback of the two periods."""
    project_ids, now = batch.project_ids, batch.now
    earliest = min(d.since - (d.until - d.since) for d in batch.digests.values()) - timedelta(microseconds=1)
    answers = session.execute(
        select(Survey.project_id, SurveyAnswer.score, SurveyAnswer.comment, SurveyAnswer.answered_at,
               SurveyAnswer.changed_at)
        .join(Survey, Survey.id == SurveyAnswer.survey_id)
        .where(Survey.project_id.in_(project_ids),
               func.coalesce(SurveyAnswer.changed_at, SurveyAnswer.answered_at) > earliest,
               func.coalesce(SurveyAnswer.changed_at, SurveyAnswer.answered_at) <= now)).all()
    feedback = session.execute(
        select(Feedback.project_id, Feedback.text, Feedback.score, Feedback.created_at)
        .where(Feedback.project_id.in_(project_ids), Feedback.created_at > earliest, Feedback.created_at <= now)
    ).all()
    for digest in batch.digests.values():
        since, length = digest.since, digest.until - digest.since
        now_scores, before_scores, comments = [], [], []
        for a in answers:
            if a.project_id != digest.project_id:
                continue
            at = a.changed_at or a.answered_at
            if _in_period(at, digest):
                now_scores.append(a.score)
                if a.comment:
                    comments.append(Comment(a.comment, a.score, at, "survey"))
            elif at > since - length:
                before_scores.append(a.score)
        comments += [Comment(f.text, f.score, f.created_at, "feedback") for f in feedback
                     if f.project_id == digest.project_id and _in_period(f.created_at, digest)]
        comments.sort(key=lambda c: c.at, reverse=True)
        yield digest, Satisfaction(_mean(now_scores), len(now_scores), _mean(before_scores), tuple(comments[:3]))


def _in_period(at: datetime, digest: Digest) -> bool:
    """Since the last digest; a project's first digest counts from (and including) its creation."""
    return at > digest.since or (digest.first and at >= digest.since)


def _mean(scores: list[int]) -> float | None:
    return sum(scores) / len(scores) if scores else None


def collect_follow_ups(session: Session, batch: Batch) -> Iterator[tuple[Digest, Section]]:
    """One query: every open follow-up of the batch's projects."""
    found: dict[int, list[OpenFollowUp]] = defaultdict(list)
    for r in session.execute(select(FollowUp.id, FollowUp.project_id, FollowUp.owner_id, FollowUp.source,
                                    FollowUp.opened_at)
                             .where(FollowUp.project_id.in_(batch.project_ids), FollowUp.resolved_at.is_(None),
                                    FollowUp.opened_at <= batch.now)
                             .order_by(FollowUp.opened_at, FollowUp.id)):
        found[r.project_id].append(OpenFollowUp(r.id, r.owner_id, r.source, r.opened_at))
    for digest in batch.digests.values():
        yield digest, FollowUps(tuple(found[digest.project_id]))


RISK_LEVELS = {"low": 1, "medium": 2, "high": 3}


def collect_risks(session: Session, batch: Batch) -> Iterator[tuple[Digest, Section]]:
    """One query: open risks, and those changed since the earliest "since" of the batch."""
    earliest = min(d.since for d in batch.digests.values()) - timedelta(microseconds=1)
    by_project: dict[int, list[DigestRisk]] = defaultdict(list)
    for r in session.execute(select(Risk).where(Risk.project_id.in_(batch.project_ids),
                                                or_(Risk.state == "open", Risk.changed_at > earliest))).scalars():
        by_project[r.project_id].append(DigestRisk(
            r.number, r.description, RISK_LEVELS[r.likelihood] * RISK_LEVELS[r.impact], r.owner_id, r.review_date,
            r.state, r.created_at, r.changed_at))
    for digest in batch.digests.values():
        risks = by_project[digest.project_id]
        open_ = sorted((r for r in risks if r.state == "open"), key=lambda r: (-r.score, r.number))
        changed = sorted((r for r in risks if _in_period(r.changed_at, digest) and r.changed_at <= batch.now),
                         key=lambda r: r.number)
        yield digest, Risks(tuple(open_), tuple(changed))


# Every digest's sections, in the order shown (a renderer may show nothing for an empty one).
SECTIONS: tuple[SectionProvider, ...] = (
    SectionProvider((Updates,), collect_updates),
    SectionProvider((Done, Overdue, DueSoon, ComingUp), collect_milestones),
    SectionProvider((Changes,), collect_changes),
    SectionProvider((Satisfaction,), collect_satisfaction),
    SectionProvider((FollowUps,), collect_follow_ups),
    SectionProvider((Risks,), collect_risks),
)
