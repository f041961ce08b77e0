"""Update cards and lists (pure: data in, blocks out)."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.markup import to_mrkdwn
from bot.render.kit import bulleted, context, ephemeral, message, section
from bot.services.updates import UpdateCard

HEALTH_EMOJI = {"green": ":large_green_circle:", "amber": ":large_orange_circle:", "red": ":red_circle:"}


def health_badge(health: str | None, progress: int | None) -> str:
    parts = []
    if health:
        parts.append(f"{HEALTH_EMOJI[health]} {health}")
    if progress is not None:
        parts.append(f"{progress}%")
    return " · ".join(parts)


def _when(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M")


def update_line(u: UpdateCard, tz: str, with_id: bool = True) -> str:
    badge = health_badge(u.health, u.progress)
    head = f"`#{u.id}` " if with_id else ""
    tail = (" _(edited)_" if u.edited else "") + (" _(internal)_" if u.visibility == "internal" else "")
    text = to_mrkdwn(u.text.replace("\n", " "), 300)
    return f"{head}{_when(u.created_at, tz)} <@{u.author_id}>: {text}" + (f" — {badge}" if badge else "") + tail


def update_card(u: UpdateCard, tz: str) -> dict[str, Any]:
    """What the channel sees when an update is logged: a heading, the text whole in a section of its own (an update
    is at most TEXT_MAX long as Slack counts it, so it is never clipped) and one context line."""
    if u.hidden:
        text = (f":no_entry_sign: Update `#{u.id}` by <@{u.author_id}> was hidden by <@{u.hidden_by}>: "
                f"{to_mrkdwn(u.hidden_reason or '')}")
        return message(f"Update #{u.id} was hidden", [section(text)])
    badge = health_badge(u.health, u.progress)
    captured = f" (captured by <@{u.logged_by}>)" if u.logged_by != u.author_id else ""
    where = "internal only" if u.visibility == "internal" else "shared with the client"
    link = f" · <{u.permalink}|original message>" if u.permalink else ""
    edited = " · edited" if u.edited else ""
    blocks = [
        section(f":memo: *Update* on *{to_mrkdwn(u.project_name)}*" + (f"  {badge}" if badge else "")),
        section(to_mrkdwn(u.text)),
        context(f"`#{u.id}` by <@{u.author_id}>{captured} · {where}{edited}{link}"),
    ]
    return message(f"Update on {to_mrkdwn(u.project_name)}: {to_mrkdwn(u.text, 200)}", blocks)


def in_channel(payload: dict[str, Any]) -> dict[str, Any]:
    return {"response_type": "in_channel", **payload}


def list_reply(updates: list[UpdateCard], tz: str, key: str, most: int) -> dict[str, Any]:
    title = f"Recent updates in `{key}`"
    body = bulleted(updates[:most], lambda u: update_line(u, tz), most=most, empty="_no updates yet_")
    blocks = [section(f"*{title}*"), section(body)]  # the list in a section of its own fits it: never clipped
    if len(updates) > most:
        blocks.append(section("_…older ones with `since=`_"))
    return ephemeral(f"Recent updates in {key}", blocks)


def logged_reply(u: UpdateCard) -> dict[str, Any]:
    text = f":white_check_mark: Logged update `#{u.id}`; its card follows. `/update edit {u.id} new words` changes it."
    return ephemeral(f"Logged update #{u.id}.", [section(text)])


def changed_reply(u: UpdateCard, what: str) -> dict[str, Any]:
    return ephemeral(f"Update #{u.id} {what}.", [section(f":white_check_mark: Update `#{u.id}` {what}.")])


def duplicate_reply() -> dict[str, Any]:
    return ephemeral("That message is already logged as an update.")
