"""The delivery ledger: who sends an occurrence to a channel, and what became of it.

A process owns a delivery only if its INSERT created the row (the unique key arbitrates between schedulers
sharing the database) or its conditional UPDATE took over a failed one; everything else is someone else's.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.services import cards
from scheduler.plan import Existing, Planned
from storage import queries
from storage.db import Database
from storage.models import Delivery

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)  # a sender that died mid-delivery leaves it to be retried after this


def claim_new(session: Session, item: Planned[Any], now: datetime) -> int | None:
    return queries.insert_or_ignore(session, Delivery, dict(
        project_id=item.project_id, kind=item.kind, occurrence=item.occurrence, channel_id=item.channel_id,
        subject=item.subject_key, due_at=item.due_at, state="sending", attempts=1, lease_until=now + LEASE,
    ), returning=Delivery.id)


def claim_retry(session: Session, row: Existing, now: datetime) -> int | None:
    taken = session.execute(
        update(Delivery)
        .where(Delivery.id == row.id, Delivery.state == row.state, Delivery.attempts == row.attempts)
        .values(state="sending", attempts=row.attempts + 1, lease_until=now + LEASE, error=None)
    ).rowcount
    return row.id if taken == 1 else None


def record_skipped(session: Session, item: Planned[Any], now: datetime) -> None:
    created = queries.insert_or_ignore(session, Delivery, dict(
        project_id=item.project_id, kind=item.kind, occurrence=item.occurrence, channel_id=item.channel_id,
        subject=item.subject_key, due_at=item.due_at, state="skipped", attempts=0, error="older than the grace period when the bot ran",
    ), returning=Delivery.id)
    if created is not None:
        log.warning("skipped %s %s for project %s in %s: due %s, older than the grace period",
                    item.kind, item.occurrence, item.project_id, item.channel_id, item.due_at.isoformat())


class Recorder:
    """Writes what became of each post as soon as it is known, several per transaction when posts finish together.

    One thread writes: whatever finished while it wrote the last batch goes in the next (a group commit), so a
    post is recorded within about one transaction's time of Slack's answer, without a transaction per post. A post
    that is to be a card of a record (Outgoing.card) becomes one in the transaction that records it as sent.
    """

    def __init__(self, db: Database, clock: Any):
        self.db, self.clock = db, clock
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="liaison-ledger", daemon=True)

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._queue.put(None)
        self._thread.join()

    def record(self, outcome: Any) -> None:
        self._queue.put(outcome)

    def _run(self) -> None:
        done = False
        while not done:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            done = None in batch
            outcomes = [o for o in batch if o is not None]
            if outcomes:
                self._write(outcomes)

    def _write(self, outcomes: list[Any]) -> None:
        # These posts are made: not recording them would have them posted again once their lease ends, so a
        # database hiccup is waited out rather than given up on.
        for attempt in range(1, 11):
            try:
                with self.db.transaction() as session:
                    now = self.clock.now()
                    for o in outcomes:
                        if o.error is None:
                            sent(session, o.item.delivery_id, o.ts, now)
                            if o.item.card is not None and o.ts:  # the post becomes a card of its record
                                cards.remember(session, o.item.card.kind, o.item.card.record_id, o.item.project_id,
                                               o.item.channel_id, o.ts, now)
                        else:
                            failed(session, o.item.delivery_id, o.error)
                return
            except Exception:  # noqa: BLE001 - retried; logged
                log.exception("could not record %d deliveries (attempt %d)", len(outcomes), attempt)
                time.sleep(min(0.5 * attempt, 5))


def sent(session: Session, delivery_id: int, ts: str | None, now: datetime) -> None:
    session.execute(update(Delivery).where(Delivery.id == delivery_id)
                    .values(state="sent", message_ts=ts, sent_at=now, lease_until=None, error=None))


def failed(session: Session, delivery_id: int, error: str) -> None:
    session.execute(update(Delivery).where(Delivery.id == delivery_id)
                    .values(state="failed", lease_until=None, error=error[:500]))
