"""Living cards: a message the bot posts for a record is remembered (kind, record, channel, ts) and kept showing
the record as it is now: changed in place with chat.update when the record changes, deleted when it is gone.

Each feature declares its card kinds (`CARDS`): how a record is shown in a channel of a given audience. Posting
and refreshing are jobs, queued in the transaction of the write they follow (`post` / `refresh` below).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot import slack
from bot.jobs import JobFunction
from bot.render.errors import cards_not_changed, post_failed
from bot.runtime import Runtime
from bot.services import cards

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shown:
    project_id: int
    message: dict[str, Any]


@dataclass(frozen=True)
class CardKind:
    name: str
    # The record as a card in a channel of this audience ("internal" or "client"); None once it is gone.
    show: Callable[[Session, int, str], Shown | None]


def post(rt: Runtime, session: Session, kind: str, record_id: int, channel_id: str, audience: str,
         response_url: str | None = None) -> None:
    """Queue a card for the record in a channel, in `session`'s transaction (so the record and its card go
    together); the person behind `response_url` is told if Slack refuses it."""
    rt.jobs.enqueue("card.post", {"kind": kind, "record_id": record_id, "channel_id": channel_id,
                                  "audience": audience}, response_url, session=session)


def refresh(rt: Runtime, session: Session, kind: str, record_id: int, response_url: str | None = None) -> None:
    """Queue the update in place of every card of the record, in `session`'s transaction."""
    rt.jobs.enqueue("card.refresh", {"kind": kind, "record_id": record_id}, response_url, session=session)


def post_now(rt: Runtime, kind: CardKind, record_id: int, channel_id: str, audience: str) -> str | None:
    """Post the record's card and remember where (within a job); returns Slack's error code if it refused.
    A record has one card per channel: a job run again after its lease ended doesn't post a second."""
    with rt.db.read() as session:
        shown = kind.show(session, record_id, audience)
        if any(channel == channel_id for channel, _ in cards.posted(session, kind.name, record_id)):
            return None
    if shown is None:
        return None
    try:
        ts = slack.send(rt.client, channel_id, shown.message)
    except (SlackApiError, SlackClientError) as e:
        return slack.error_code(e)
    if not ts:
        return None
    with rt.db.transaction() as session:
        cards.remember(session, kind.name, record_id, shown.project_id, channel_id, ts, rt.clock.now())
    # A change made while this card was on its way may have been refreshed before the card was remembered
    # (jobs run side by side): what the record is now is read once more, after the card is known.
    with rt.db.read() as session:
        now_shown = kind.show(session, record_id, audience)
    if now_shown != shown:
        _change(rt, kind, record_id, channel_id, ts, now_shown)
    return None


def _change(rt: Runtime, kind: CardKind, record_id: int, channel_id: str, ts: str,
            shown: Shown | None) -> str | None:
    """Show the record as it is now on one of its cards, or delete the card (and forget it) where the record is
    no longer shown; returns Slack's error code if it refused."""
    try:
        if shown is None:
            with rt.db.transaction() as session:
                cards.forget_at(session, channel_id, ts)
            rt.client.chat_delete(channel=channel_id, ts=ts)
        else:
            rt.client.chat_update(channel=channel_id, ts=ts, **shown.message)
    except (SlackApiError, SlackClientError) as e:
        if slack.error_code(e) == "message_not_found":  # someone deleted it in Slack already
            return None
        log.warning("%s card %s in %s not changed: %s", kind.name, record_id, channel_id, slack.error_code(e))
        return slack.error_code(e)
    return None


def card_jobs(kinds: Sequence[CardKind]) -> dict[str, JobFunction]:
    by_name = {k.name: k for k in kinds}

    def post_job(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
        code = post_now(rt, by_name[args["kind"]], args["record_id"], args["channel_id"], args["audience"])
        return None if code is None else post_failed(code, args["channel_id"])

    def refresh_job(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
        kind, record_id = by_name[args["kind"]], args["record_id"]
        with rt.db.read() as session:
            shown_in = cards.shown_in(session, kind.name, record_id)
            views = {audience: kind.show(session, record_id, audience) for audience in {a for _, _, a in shown_in}}
        failed = [(channel_id, code) for channel_id, ts, audience in shown_in
                  if (code := _change(rt, kind, record_id, channel_id, ts, views[audience])) is not None]
        return cards_not_changed(failed) if failed else None

    return {"card.post": post_job, "card.refresh": refresh_job}
