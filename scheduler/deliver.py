"""Posting what the ledger gave this process, channel by channel in parallel.

Each channel's posts go in order (Slack allows short bursts per channel). A 429 does not put a worker
to sleep: the channel is set aside until its Retry-After has passed and the worker moves on to other channels,
so one rate-limited channel never holds up the rest. 5xx and dropped connections are retried by the client's
handlers; what still fails is recorded and retried by the next run.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import slack
from scheduler.plan import CardRef

log = logging.getLogger(__name__)
GONE = {"is_archived", "channel_is_archived"}  # unbound; other failures are retried by the next run
RATE_LIMITED_MOST = 5  # 429s for one post in one run before it is left to the next run


@dataclass
class Outgoing:
    delivery_id: int
    channel_id: str
    payload: dict[str, Any]
    label: str
    project_id: int | None = None
    card: CardRef | None = None  # once posted, remembered as a card of this record (with the delivery, at once)


@dataclass
class Outcome:
    item: Outgoing
    ts: str | None = None
    error: str | None = None


class _RateLimited(Exception):
    def __init__(self, retry_after: float):
        self.retry_after = retry_after


def post_all(client: WebClient, items: list[Outgoing], concurrency: int,
             on_done: Callable[[Outcome], None]) -> list[Outcome]:
    """`client` must not wait out 429s itself (see bot.slack.make_bulk_client): this loop does."""
    queues: dict[str, deque[Outgoing]] = {}
    for item in items:
        queues.setdefault(item.channel_id, deque()).append(item)
    order = itertools.count()
    ready = [(0.0, next(order), channel) for channel in queues]  # (not before, tie-break, channel)
    heapq.heapify(ready)
    cond = threading.Condition()
    limited: dict[int, int] = {}
    outcomes: list[Outcome] = []
    left = [len(items)]

    def take() -> str | None:
        with cond:
            while left[0]:
                now = time.monotonic()
                if ready and ready[0][0] <= now:
                    return heapq.heappop(ready)[2]
                cond.wait(ready[0][0] - now if ready else None)
            return None

    def worker() -> None:
        while (channel := take()) is not None:
            item = queues[channel][0]
            try:
                outcome = _post(client, item)
            except _RateLimited as e:
                limited[item.delivery_id] = limited.get(item.delivery_id, 0) + 1
                if limited[item.delivery_id] < RATE_LIMITED_MOST:
                    with cond:
                        heapq.heappush(ready, (time.monotonic() + e.retry_after, next(order), channel))
                        cond.notify_all()
                    continue
                outcome = Outcome(item, error="ratelimited")
            on_done(outcome)  # recorded at once: a crash later in the run must not resend this one
            with cond:
                queues[channel].popleft()
                outcomes.append(outcome)
                left[0] -= 1
                if queues[channel]:
                    heapq.heappush(ready, (0.0, next(order), channel))
                cond.notify_all()

    threads = [threading.Thread(target=worker, name=f"liaison-deliver-{i}", daemon=True)
               for i in range(max(1, min(concurrency, len(queues))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _post(client: WebClient, item: Outgoing) -> Outcome:
    try:
        return Outcome(item, ts=slack.send(client, item.channel_id, item.payload))
    except SlackApiError as e:
        if e.response.status_code == 429:
            raise _RateLimited(_retry_after(e)) from None
        code = slack.error_code(e)
    except SlackClientError as e:
        code = slack.error_code(e)
    log.warning("%s to %s failed: %s", item.label, item.channel_id, code)
    return Outcome(item, error=code)


def _retry_after(error: SlackApiError) -> float:
    value = next((v for k, v in error.response.headers.items() if k.lower() == "retry-after"), "1")
    value = value[0] if isinstance(value, list) else value
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0
