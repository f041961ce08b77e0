"""Block Kit building blocks that keep Slack's limits and escape what people typed."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

Block = dict[str, Any]
T = TypeVar("T")

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_HEADER = 150
MAX_BUTTON = 75
MAX_FALLBACK_TEXT = 3000


def escape(text: str | None) -> str:
    """Text shown literally in mrkdwn (`&`, `<`, `>` escaped). What people typed goes through bot.markup.to_mrkdwn
    instead, which keeps their mentions and links and turns broadcasts into plain words."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER), "emoji": True}}


def section(text: str, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}
    if accessory:
        block["accessory"] = accessory
    return block


def fields(pairs: Sequence[tuple[str, str]]) -> Block:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": clip(f"*{k}*\n{v}", MAX_FIELD_TEXT)} for k, v in pairs[:10]],
    }


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(t, MAX_SECTION_TEXT)} for t in texts[:10]]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str = "", style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, MAX_BUTTON), "emoji": True},
        "action_id": action_id,
    }
    if value:
        element["value"] = value
    if style:
        element["style"] = style
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def bulleted(items: Iterable[T], line: Callable[[T], str], most: int, empty: str = "_none_") -> str:
    """One mrkdwn list that fits a section: at most `most` lines, then "and N more"."""
    items = list(items)
    if not items:
        return empty
    lines: list[str] = []
    used = 0
    for item in items[:most]:
        text = f"• {line(item)}"
        if used + len(text) + 40 > MAX_SECTION_TEXT:
            break
        lines.append(text)
        used += len(text) + 1
    rest = len(items) - len(lines)
    if rest:
        lines.append(f"_…and {rest} more_")
    return "\n".join(lines)


def message(text: str, blocks: list[Block]) -> dict[str, Any]:
    """chat.postMessage arguments: `text` is the notification and screen-reader fallback."""
    return {"text": clip(text, MAX_FALLBACK_TEXT), "blocks": blocks[:MAX_MESSAGE_BLOCKS]}


def ephemeral(text: str, blocks: list[Block] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"response_type": "ephemeral", "text": clip(text, MAX_FALLBACK_TEXT)}
    if blocks:
        body["blocks"] = blocks[:MAX_MESSAGE_BLOCKS]
    return body
