"""How problems look to the person who caused or met them."""
from __future__ import annotations

import uuid
from typing import Any

from bot.errors import UserError
from bot.markup import to_mrkdwn
from bot.render.kit import ephemeral, section


def problem(message: str) -> dict[str, Any]:
    # A message may repeat what was typed (`status=<!channel>`): mentions and links stay, nothing else pings.
    shown = to_mrkdwn(message)
    return ephemeral(f"⚠️ {shown}", [section(f":warning: {shown}")])


def unexpected(error_id: str) -> dict[str, Any]:
    text = f"Something went wrong on our side, so nothing was saved. Please try again. (error id `{error_id}`)"
    return problem(text)


def answer_for(error: Exception) -> tuple[dict[str, Any], str | None]:
    """What the person is told about an error: their own mistake plainly; ours with a new id to quote, which the
    caller logs with the error (None for their mistakes)."""
    if isinstance(error, UserError):
        return problem(error.message), None
    error_id = uuid.uuid4().hex[:8]
    return unexpected(error_id), error_id


def post_failed(code: str, channel_id: str) -> dict[str, Any]:
    return problem(_post_problem(code, channel_id))


def with_post_problem(reply: dict[str, Any], code: str | None, channel_id: str) -> dict[str, Any]:
    """A confirmation that also says when the channel post it promised could not be made."""
    if code is None:
        return reply
    return {**reply, "blocks": [*reply.get("blocks", []), section(f":warning: {_post_problem(code, channel_id)}")]}


def _post_problem(code: str, channel_id: str) -> str:
    reasons = {
        "not_in_channel": f"I'm not a member of <#{channel_id}> and can't join it. Invite me with `/invite @Liaison`.",
        "channel_not_found": f"I can't find <#{channel_id}>; it may be private or deleted. Invite me with `/invite @Liaison`.",
        "is_archived": f"<#{channel_id}> is archived, so I can't post there.",
    }
    reason = reasons.get(code, f"Slack refused my message in <#{channel_id}> (`{code}`).")
    return f"{reason} Everything you entered is saved; `/project status` shows it."


def cards_not_changed(failed: list[tuple[str, str]]) -> dict[str, Any]:
    where = ", ".join(f"<#{channel}> (`{code}`)" for channel, code in failed)
    text = f":warning: The change is saved, but Slack didn't let me change its card in {where}."
    return ephemeral("Card not changed in every channel.", [section(text)])
