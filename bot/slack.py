"""Talking to Slack's Web API: a client that retries what is worth retrying, and lookups that say what went wrong."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.errors import NotFound, SlackTrouble
from bot.services.people import PersonFacts
from bot.services.projects import ChannelFacts

log = logging.getLogger(__name__)


def retry_handlers() -> list[Any]:
    # slack_sdk retries only connection errors by default; 429 (honouring Retry-After) and 5xx need their own.
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def make_client(token: str | None, base_url: str, timeout: int = 10) -> WebClient:
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=retry_handlers())


def make_bulk_client(token: str | None, base_url: str, timeout: int = 10) -> WebClient:
    """For the scheduler's many posts: 429s come back to the caller, which posts elsewhere while it waits."""
    handlers = [ConnectionErrorRetryHandler(max_retry_count=2), ServerErrorRetryHandler(max_retry_count=2)]
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=handlers)


class _ShortRateLimitRetry(RateLimitErrorRetryHandler):
    """Wait out a 429 only when Slack asks for a second or less: there are under 3 s before the ack is due."""

    def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        retry_after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
        return int(retry_after[0]) <= 1


def make_quick_client(token: str | None, base_url: str) -> WebClient:
    """For calls made before the ack (lookups, views.open): bounded so the ack stays inside Slack's 3 s."""
    handlers = [ConnectionErrorRetryHandler(1), _ShortRateLimitRetry(1), ServerErrorRetryHandler(1)]
    return WebClient(token=token, base_url=base_url, timeout=2, retry_handlers=handlers)


def error_code(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)
    return type(error).__name__


def person_facts(client: WebClient, user_id: str) -> PersonFacts:
    try:
        user = client.users_info(user=user_id)["user"]
    except (SlackApiError, SlackClientError) as e:
        log.warning("users.info %s failed: %s", user_id, error_code(e))
        if error_code(e) == "user_not_found":
            raise NotFound(f"Slack doesn't know the person <@{user_id}>.") from e
        raise SlackTrouble("I couldn't look someone up in Slack just now, so nothing was done. Try again.") from e
    profile = user.get("profile") or {}
    return PersonFacts(
        user_id=user_id,
        home_team_id=user.get("team_id", ""),
        name=profile.get("display_name") or user.get("real_name") or user.get("name", ""),
        is_stranger=bool(user.get("is_stranger")),
        tz=user.get("tz"),
    )


def channel_facts(client: WebClient, channel_id: str) -> ChannelFacts:
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as e:
        code = error_code(e)
        log.warning("conversations.info %s failed: %s", channel_id, code)
        if code == "channel_not_found":
            raise SlackTrouble("I can't see this channel. Invite me first: `/invite @Liaison`.") from e
        raise SlackTrouble("Slack didn't tell me about this channel just now, so nothing was done. Try again.") from e
    except SlackClientError as e:
        raise SlackTrouble("I couldn't reach Slack just now, so nothing was done. Please try again.") from e
    return ChannelFacts(
        channel_id=channel_id,
        name=channel.get("name", ""),
        is_ext_shared=bool(channel.get("is_ext_shared")),
        is_private=bool(channel.get("is_private")),
        is_archived=bool(channel.get("is_archived")),
    )


class ChannelMembers:
    """Who is in a channel, as Slack's conversations.members says, remembered briefly.

    Being in one of a project's internal channels makes someone its team. Slack's member_joined_channel and
    member_left_channel events make this process forget a channel at once; other processes within `ttl`.
    """

    def __init__(self, client: WebClient, ttl: float = 60.0):
        self.client, self.ttl = client, ttl
        self._seen: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def of(self, channel_id: str) -> frozenset[str] | None:
        """The channel's members; None when Slack won't say (we are not in it, or it is gone)."""
        with self._lock:
            hit = self._seen.get(channel_id)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        members: set[str] = set()
        cursor = None
        try:
            while True:
                page = self.client.conversations_members(channel=channel_id, limit=1000, cursor=cursor)
                members.update(page.get("members") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as e:
            if error_code(e) in ("channel_not_found", "not_in_channel", "is_archived"):
                return None
            log.warning("conversations.members %s failed: %s", channel_id, error_code(e))
            raise SlackTrouble("I couldn't check with Slack who is on this project just now. Try again.") from e
        except SlackClientError as e:
            raise SlackTrouble("I couldn't reach Slack just now, so nothing was done. Please try again.") from e
        found = frozenset(members)
        with self._lock:
            self._seen[channel_id] = (time.monotonic(), found)
        return found

    def includes(self, channel_ids: Iterable[str], user_id: str) -> bool:
        return any(user_id in (self.of(c) or ()) for c in channel_ids)

    def forget(self, channel_id: str | None = None) -> None:
        """Ask Slack afresh next time: about one channel, or (None) about every channel."""
        with self._lock:
            if channel_id is None:
                self._seen.clear()
            else:
                self._seen.pop(channel_id, None)


def send(client: WebClient, channel_id: str, payload: dict[str, Any]) -> str | None:
    """chat.postMessage, joining a public channel first when Slack says we are not in it. Returns the message's
    ts; Slack's errors are raised (a private channel we can't join raises the original `not_in_channel`)."""
    try:
        return client.chat_postMessage(channel=channel_id, **payload).get("ts")
    except SlackApiError as e:
        if error_code(e) != "not_in_channel":
            raise
        not_in_channel = e
    try:
        client.conversations_join(channel=channel_id)
    except (SlackApiError, SlackClientError):
        raise not_in_channel from None
    return client.chat_postMessage(channel=channel_id, **payload).get("ts")


def post(client: WebClient, channel_id: str, payload: dict[str, Any]) -> str | None:
    """Post to a channel (see `send`). Returns the error code, or None when it was posted."""
    try:
        send(client, channel_id, payload)
        return None
    except (SlackApiError, SlackClientError) as e:
        code = error_code(e)
        log.warning("chat.postMessage to %s failed: %s", channel_id, code)
        return code


def respond(response_url: str | None, payload: dict[str, Any]) -> None:
    if not response_url:
        return
    try:
        WebhookClient(response_url, retry_handlers=retry_handlers()).send_dict(payload)
    except SlackClientError as e:
        log.warning("response_url post failed: %s", e)
