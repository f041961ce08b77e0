"""CSAT surveys, a scheduled kind: each project whose lead turned them on (`/project survey monthly|after-milestone`)
asks its client in each of its live client channels, at 10:00 project time,
- `monthly`: on the first working day of each month (occurrence `monthly:2026-12`);
- `after-milestone`: on the working day after client-visible milestones are done, one for all those done on the
  same local day of the project (occurrence `milestone-day:2026-11-27`).
An occurrence due before the schedule was set (or before the project existed) is not sent.

Once per occurrence and channel across restarts and schedulers: the ledger's unique key (project, kind,
occurrence, channel) lets one process post it. The survey's row (unique per project and occurrence) is made when
the first of its posts is composed, so that its buttons can name it, and each post is remembered as the survey's
card, so that it shows how many answered and, after seven days, that it closed (`close_due`, run by each tick).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.render.surveys import survey_card
from bot.runtime import Runtime
from bot.services import surveys
from bot.services.dates import local_day
from scheduler.plan import LOOKBACK, CardRef, Composed, Facts, Planned, ScheduledKind
from storage.db import Database
from storage.models import Milestone, Project

KINDS = {"monthly": "survey.monthly", "after-milestone": "survey.milestone"}


@dataclass(frozen=True)
class SurveyDue:
    """The survey a post asks, by its occurrence (the `surveys` row's)."""

    occurrence: str

    @property
    def key(self) -> None:
        return None  # the occurrence says which survey it is; nothing counts them


def plan(session: Session, now: datetime, facts: Facts) -> list[Planned[SurveyDue]]:
    by_id = {p.id: p for p in facts.projects}
    on = {pid: schedule for pid, schedule in session.execute(
        select(Project.id, Project.survey_schedule).where(Project.survey_schedule != "off")) if pid in by_id}
    if not on:
        return []
    since = surveys.schedule_set_at(session, list(on))
    done: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    after = [pid for pid, schedule in on.items() if schedule == "after-milestone"]
    if after:
        # Its survey is due at most four days after it was done (done on a Friday evening far west: Monday 10:00).
        for m in session.execute(select(Milestone.id, Milestone.project_id, Milestone.done_at).where(
                Milestone.project_id.in_(after), Milestone.visibility == "client", Milestone.done_at.is_not(None),
                Milestone.done_at > now - LOOKBACK - timedelta(days=4)).order_by(Milestone.id)):
            done[m.project_id].append((m.id, m.done_at))
    planned: list[Planned[SurveyDue]] = []
    for pid, schedule in on.items():
        p = by_id[pid]
        clients = [channel for channel, audience in facts.channels.get(pid, ()) if audience == "client"]
        if not clients:
            continue
        start = max(p.created_at, since.get(pid, p.created_at))
        due: list[tuple[str, datetime]] = []
        if schedule == "monthly":
            at = surveys.monthly_at(now, p.timezone)
            due.append((surveys.monthly_occurrence(at, p.timezone), at))
        else:
            # One survey per local day of the project that milestones were done on, however many were.
            due += list({f"milestone-day:{local_day(done_at, p.timezone).isoformat()}":
                         surveys.after_milestone_at(done_at, p.timezone)
                         for _, done_at in done[pid] if done_at >= start}.items())
        for occurrence, at in due:
            # Only within the look-back: later ticks don't plan (and log as skipped) what is long gone.
            if start <= at <= now and now - at < LOOKBACK:
                planned += [Planned(pid, KINDS[schedule], occurrence, channel, at, "client", SurveyDue(occurrence))
                            for channel in clients]
    return planned


def compose_all(session: Session, items: list[Planned[SurveyDue]], now: datetime) -> list[Composed]:
    """Each item's survey, made now if it isn't yet, as its card. The rows are made (and read back) in a short write
    transaction of their own: composing reads in a read-only one, whose view may predate them."""
    if not items:
        return []
    with _own_transaction(session) as writer:
        ids = {(item.project_id, item.subject.occurrence): surveys.open_survey(
            writer, item.project_id, item.subject.occurrence, item.channel_id, now) for item in items}
        shown = surveys.views(writer, list(set(ids.values())))
    composed = []
    for item in items:
        survey_id = ids[(item.project_id, item.subject.occurrence)]
        composed.append(Composed(survey_card(shown[survey_id]), CardRef("survey", survey_id)))
    return composed


@contextmanager
def _own_transaction(session: Session) -> Iterator[Session]:
    """A write transaction on the engine `session` reads from (SQLite: BEGIN IMMEDIATE, so it waits its turn rather
    than failing on a stale read snapshot)."""
    engine = session.get_bind()
    with Database(engine.url.render_as_string(hide_password=False), engine=engine).transaction() as writer:
        yield writer


def close_due(rt: Runtime, now: datetime) -> int:
    """Close the surveys whose seven days are over, and change their cards in place to say so (one refresh job
    each, queued with the close: of several schedulers, the one whose UPDATE closed it). Run by every tick."""
    with rt.db.transaction() as session:
        closed = surveys.close_due(session, now)
        for survey_id in closed:
            # handlers.cards.refresh, which the scheduler may not import: the same job, by its name.
            rt.jobs.enqueue("card.refresh", {"kind": "survey", "record_id": survey_id}, session=session)
    return len(closed)


SURVEYS = ScheduledKind("survey.", plan, compose_all)
