"""Posting what the ledger gave this process: channels in parallel, each channel's posts in order, so one
rate-limited channel never holds up the rest. Slack's 429s and 5xx are retried by the client's handlers;
what still fails is recorded and retried by the next run; an archived channel is unbound and the lead told."""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import slack

log = logging.getLogger(__name__)
GONE = {"is_archived", "channel_is_archived"}  # unbound; other failures are retried by the next run


@dataclass
class Outgoing:
    delivery_id: int
    channel_id: str
    payload: dict[str, Any]
    label: str


@dataclass
class Outcome:
    item: Outgoing
    ts: str | None = None
    error: str | None = None


def post_all(client: WebClient, items: list[Outgoing], concurrency: int,
             on_done: Callable[[Outcome], None]) -> list[Outcome]:
    by_channel: dict[str, list[Outgoing]] = defaultdict(list)
    for item in items:
        by_channel[item.channel_id].append(item)

    def channel_run(queue: list[Outgoing]) -> list[Outcome]:
        outcomes = []
        for item in queue:
            outcome = _post(client, item)
            on_done(outcome)  # recorded at once: a crash later in the run must not resend this one
            outcomes.append(outcome)
        return outcomes

    if not by_channel:
        return []
    with ThreadPoolExecutor(max_workers=min(concurrency, len(by_channel)), thread_name_prefix="liaison-post") as pool:
        results = pool.map(channel_run, by_channel.values())
        return [o for batch in results for o in batch]


def _post(client: WebClient, item: Outgoing) -> Outcome:
    try:
        response = client.chat_postMessage(channel=item.channel_id, **item.payload)
        return Outcome(item, ts=response.get("ts"))
    except SlackApiError as e:
        code = slack.error_code(e)
        if code == "not_in_channel" and _join(client, item.channel_id):
            try:
                response = client.chat_postMessage(channel=item.channel_id, **item.payload)
                return Outcome(item, ts=response.get("ts"))
            except (SlackApiError, SlackClientError) as again:
                code = slack.error_code(again)
        log.warning("%s to %s failed: %s", item.label, item.channel_id, code)
        return Outcome(item, error=code)
    except SlackClientError as e:
        log.warning("%s to %s failed: %s", item.label, item.channel_id, e)
        return Outcome(item, error=slack.error_code(e))


def _join(client: WebClient, channel_id: str) -> bool:
    try:
        client.conversations_join(channel=channel_id)
        return True
    except (SlackApiError, SlackClientError):
        return False  # a private channel: only a member can invite us
