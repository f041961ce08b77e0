"""What every handler and job needs, built once per process: settings, database, Slack clients, clock, queues."""
from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from slack_sdk import WebClient

from bot.config import Settings
from bot.jobs import JobQueue
from bot.outbox import Outbox
from bot.slack import ChannelMembers, make_bulk_client, make_client, make_quick_client
from storage.db import Database


class Clock(Protocol):
    def now(self): ...  # noqa: ANN201 - returns an aware datetime


@dataclass
class Runtime:
    settings: Settings
    db: Database
    client: WebClient  # posts, after the ack: retried patiently
    quick: WebClient  # lookups before the ack: retried only briefly
    bulk: WebClient  # the scheduler's posts: 429s handled by the caller, which posts elsewhere meanwhile
    clock: Clock
    outbox: Outbox  # quick in-process follow-ups that must happen within seconds (views.open)
    jobs: JobQueue  # work accepted in an ack, done by a job runner; survives restarts
    members: ChannelMembers  # who is in which channel (internal channels make a project's team)


def build_runtime(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    executor: Executor | None = None,
) -> Runtime:
    from bot.clock import SystemClock

    client = make_client(settings.slack_bot_token, settings.slack_api_url)
    executor = executor or ThreadPoolExecutor(max_workers=8, thread_name_prefix="liaison-post")
    db = db or Database(settings.database_url)
    quick = make_quick_client(settings.slack_bot_token, settings.slack_api_url)
    return Runtime(
        settings=settings,
        db=db,
        client=client,
        quick=quick,
        bulk=make_bulk_client(settings.slack_bot_token, settings.slack_api_url),
        clock=clock or SystemClock(),
        outbox=Outbox(executor),
        jobs=JobQueue(db),
        members=ChannelMembers(quick),
    )
