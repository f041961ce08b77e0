"""The scheduler: every tick, plan what is due, claim it in the ledger, compose it, post it, record it.

What is due is planned, and its messages composed, by each registered kind (scheduler/kinds.py: digests, quiet
nudges, milestone reminders); this module and the ledger know none of them by name. Besides, each tick runs the
small upkeep steps listed in `UPKEEP` (closing CSAT surveys after their seven days).

APScheduler only wakes the tick; what is due is computed from the projects' schedules and the ledger, so a
restart catches up missed occurrences (within the grace period) and any number of schedulers sharing the
database deliver each occurrence once.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.jobs import prune
from bot.render import digests as render
from bot.render import projects as render_projects
from bot.runtime import Runtime
from bot.services import channels as channel_events
from scheduler import digests, ledger, surveys
from scheduler.deliver import GONE, Outcome, Outgoing, post_all
from scheduler.kinds import KINDS
from scheduler.plan import Composed, Plan, Planned, ScheduledKind, owner, plan
from storage.models import Member, Project

log = logging.getLogger(__name__)
TICK_SECONDS = 30
CHECKPOINT_SECONDS = 1  # SQLite: how often this process copies the write-ahead log back (storage.db.make_engine)


@dataclass
class TickReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    already: int = 0  # someone else (or an earlier press) claimed these first
    errors: dict[str, int] = field(default_factory=dict)


# Work each tick does besides posting what is due: closing the CSAT surveys whose seven days are over (their cards
# change in place; that is a chat.update, which no delivery of the ledger makes).
UPKEEP: tuple[Callable[[Runtime, datetime], int], ...] = (surveys.close_due,)


def tick(rt: Runtime, concurrency: int = 32, kinds: Sequence[ScheduledKind[Any]] = KINDS) -> TickReport:
    now = rt.clock.now()
    grace = timedelta(hours=rt.settings.grace_hours)
    for step in UPKEEP:
        try:
            step(rt, now)
        except Exception:  # noqa: BLE001 - tried again by the next tick; what is due still goes out
            log.exception("scheduler upkeep %s failed", step.__name__)
    with rt.db.read() as session:
        todo = plan(session, now, grace, kinds)
    return _deliver(rt, todo, now, concurrency, kinds)


def post_now(rt: Runtime, project_id: int, now: datetime) -> TickReport:
    """`/project digest`: one occurrence of its own ("manual" at this minute) through the same ledger."""
    with rt.db.read() as session:
        items = digests.manual(session, project_id, now)
    return _deliver(rt, Plan(items, [], []), now, 8, (digests.DIGESTS,))


def post_now_job(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    """The work of `/project digest`, after its ack: post both digests now and tell the person how it went."""
    report = post_now(rt, args["project_id"], datetime.fromisoformat(args["now"]))
    return render_projects.digest_posted_reply(report.sent, report.failed, report.errors, report.already)


JOBS = {"digest.now": post_now_job}


def _deliver(rt: Runtime, todo: Plan, now: datetime, concurrency: int,
             kinds: Sequence[ScheduledKind[Any]]) -> TickReport:
    report = TickReport(skipped=len(todo.skip))
    mine: list[tuple[int, Planned[Any]]] = []
    first_tries: set[int] = set()
    with rt.db.transaction() as session:
        for item in todo.skip:
            ledger.record_skipped(session, item, now)
        for item in todo.send:
            delivery_id = ledger.claim_new(session, item, now)
            if delivery_id is not None:
                mine.append((delivery_id, item))
                first_tries.add(delivery_id)
            else:
                report.already += 1
        for item, row in todo.retry:
            delivery_id = ledger.claim_retry(session, row, now)
            if delivery_id is not None:
                mine.append((delivery_id, item))
    if not mine:
        return report
    outgoing = compose_all(rt, mine, now, kinds)

    with ledger.Recorder(rt.db, rt.clock) as recorder:
        outcomes = post_all(rt.bulk, outgoing, concurrency, recorder.record)
    for o in outcomes:
        if o.error is None:
            report.sent += 1
        else:
            report.failed += 1
            report.errors[o.error] = report.errors.get(o.error, 0) + 1
    _handle_failures(rt, [o for o in outcomes if o.error], {d: item for d, item in mine}, first_tries, now)
    return report


def compose_all(rt: Runtime, mine: list[tuple[int, Planned[Any]]], now: datetime,
                kinds: Sequence[ScheduledKind[Any]]) -> list[Outgoing]:
    """Messages for the claimed deliveries, in their order: each kind composes all of its own at once."""
    by_kind: dict[ScheduledKind[Any], list[tuple[int, Planned[Any]]]] = {}
    for delivery_id, item in mine:
        by_kind.setdefault(owner(kinds, item.kind), []).append((delivery_id, item))
    composed: dict[int, Composed] = {}
    with rt.db.read() as session:
        for kind, claimed in by_kind.items():
            messages = kind.compose(session, [item for _, item in claimed], now)
            composed.update({delivery_id: c for (delivery_id, _), c in zip(claimed, messages, strict=True)})
    return [Outgoing(delivery_id, item.channel_id, composed[delivery_id].payload, f"{item.kind} {item.occurrence}",
                     item.project_id, composed[delivery_id].card) for delivery_id, item in mine]


def _handle_failures(rt: Runtime, failed: list[Outcome], items: dict[int, Planned[Any]], first_tries: set[int],
                     now: datetime) -> None:
    """A gone channel is unbound and the lead told; a channel we can't join is reported to the lead, once."""
    for outcome in failed:
        item = items[outcome.item.delivery_id]
        if item.audience == "lead":
            continue
        if outcome.error in GONE:
            with rt.db.transaction() as session:
                team_id = session.scalar(select(Project.team_id).where(Project.id == item.project_id))
                notices = channel_events.archived(session, team_id, item.channel_id, now) if team_id else []
            for n in notices:
                rt.jobs.enqueue("slack.post", {"channel_id": n.channel_id, "payload": render.lead_told(n.text)})
        elif outcome.error in ("not_in_channel", "channel_not_found") and outcome.item.delivery_id in first_tries:
            _tell_leads(rt, item, f"I couldn't post the {item.kind.replace('.', ' ')} to <#{item.channel_id}>: "
                                  "I'm not in that channel. Invite me with `/invite @Liaison`; I'll try again.")


def _tell_leads(rt: Runtime, item: Planned[Any], text: str) -> None:
    with rt.db.read() as session:
        leads = list(session.scalars(select(Member.user_id).where(Member.project_id == item.project_id,
                                                                  Member.role == "lead")))
    for lead in leads:
        rt.jobs.enqueue("slack.post", {"channel_id": lead, "payload": render.lead_told(text)})


def start(rt: Runtime, seconds: int = TICK_SECONDS) -> Any:
    """APScheduler wakes the tick (one at a time per process, a missed wake-up is folded into the next), the pruning
    of finished jobs and, on SQLite, the checkpoints that the web workers leave to this process."""
    from apscheduler.schedulers.background import BackgroundScheduler

    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line every 30 s; the tick logs its work

    def safe_tick() -> None:
        try:
            report = tick(rt)
            if report.sent or report.failed or report.skipped:
                log.info("scheduler tick: %s", report)
        except Exception:  # noqa: BLE001 - the next tick tries again; the ledger keeps what was done
            log.exception("scheduler tick failed")

    def safe_prune() -> None:
        try:
            prune(rt.db)
        except Exception:  # noqa: BLE001 - tried again in an hour
            log.exception("pruning finished jobs failed")

    def safe_checkpoint() -> None:
        try:
            rt.db.checkpoint()
        except Exception:  # noqa: BLE001 - tried again in a second; a writer checkpoints past the limit
            log.exception("checkpointing the SQLite write-ahead log failed")

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(safe_tick, "interval", seconds=seconds, max_instances=1, coalesce=True,
                      next_run_time=datetime.now().astimezone(), id="liaison-tick")
    scheduler.add_job(safe_prune, "interval", hours=1, max_instances=1, coalesce=True, id="liaison-prune")
    if rt.db.backend == "sqlite":  # a checkpoint is never too late (no "missed" warnings on a busy machine)
        scheduler.add_job(safe_checkpoint, "interval", seconds=CHECKPOINT_SECONDS, max_instances=1, coalesce=True,
                          misfire_grace_time=None, id="liaison-checkpoint")
    scheduler.start()
    return scheduler
