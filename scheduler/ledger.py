"""The delivery ledger: who sends an occurrence to a channel, and what became of it.

A process owns a delivery only if its INSERT created the row (the unique key arbitrates between schedulers
sharing the database) or its conditional UPDATE took over a failed one; everything else is someone else's.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from scheduler.plan import Existing, Planned
from storage import queries
from storage.models import Delivery

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)  # a sender that died mid-delivery leaves it to be retried after this


def claim_new(session: Session, item: Planned, now: datetime) -> int | None:
    return queries.insert_or_ignore(session, Delivery, dict(
        project_id=item.project_id, kind=item.kind, occurrence=item.occurrence, channel_id=item.channel_id,
        due_at=item.due_at, state="sending", attempts=1, lease_until=now + LEASE,
    ), returning=Delivery.id)


def claim_retry(session: Session, row: Existing, now: datetime) -> int | None:
    taken = session.execute(
        update(Delivery)
        .where(Delivery.id == row.id, Delivery.state == row.state, Delivery.attempts == row.attempts)
        .values(state="sending", attempts=row.attempts + 1, lease_until=now + LEASE, error=None)
    ).rowcount
    return row.id if taken == 1 else None


def record_skipped(session: Session, item: Planned, now: datetime) -> None:
    created = queries.insert_or_ignore(session, Delivery, dict(
        project_id=item.project_id, kind=item.kind, occurrence=item.occurrence, channel_id=item.channel_id,
        due_at=item.due_at, state="skipped", attempts=0, error="older than the grace period when the bot ran",
    ), returning=Delivery.id)
    if created is not None:
        log.warning("skipped %s %s for project %s in %s: due %s, older than the grace period",
                    item.kind, item.occurrence, item.project_id, item.channel_id, item.due_at.isoformat())


def sent(session: Session, delivery_id: int, ts: str | None, now: datetime) -> None:
    session.execute(update(Delivery).where(Delivery.id == delivery_id)
                    .values(state="sent", message_ts=ts, sent_at=now, lease_until=None, error=None))


def failed(session: Session, delivery_id: int, error: str) -> None:
    session.execute(update(Delivery).where(Delivery.id == delivery_id)
                    .values(state="failed", lease_until=None, error=error[:500]))
