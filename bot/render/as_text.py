"""Block Kit as plain text, for the console and transcripts: roughly what a person would read in Slack."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_MENTION = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?://|mailto:)[^>|]+)(?:\|([^>]*))?>")  # shown by its label, as Slack shows it
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_EMOJI_CHARS = {"white_check_mark": "✅", "warning": "⚠️", "sparkles": "✨", "handshake": "🤝", "link": "🔗",
                "red_circle": "🔴", "large_yellow_circle": "🟡", "large_green_circle": "🟢", "calendar": "📅",
                "large_orange_circle": "🟠", "memo": "📝", "triangular_flag_on_post": "🚩", "alarm_clock": "⏰",
                "zzz": "💤", "wave": "👋", "bar_chart": "📊", "no_entry_sign": "🚫", "information_source": "ℹ️",
                "inbox_tray": "📥", "hourglass_flowing_sand": "⏳", "hourglass": "⌛", "no_entry": "⛔",
                "hammer_and_wrench": "🛠️", "checkered_flag": "🏁", "wastebasket": "🗑️",
                "arrows_counterclockwise": "🔄", "rotating_light": "🚨", "pray": "🙏"}


def mrkdwn(text: str, names: Mapping[str, str]) -> str:
    def mention(match: re.Match[str]) -> str:
        sigil, ident, label = match.groups()
        if sigil == "!":
            return f"@{ident}"
        return f"{'@' if sigil == '@' else '#'}{label or names.get(ident, ident)}"

    text = _MENTION.sub(mention, text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _EMOJI.sub(lambda m: _EMOJI_CHARS.get(m.group(1), m.group(0)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any, names: Mapping[str, str]) -> str:
    if not obj:
        return ""
    if not isinstance(obj, dict):
        return str(obj)
    # plain_text is shown as typed by Slack; only mrkdwn turns <...> into mentions and links.
    return obj.get("text", "") if obj.get("type") == "plain_text" else mrkdwn(obj.get("text", ""), names)


def _element(el: dict[str, Any], names: Mapping[str, str]) -> str:
    if el.get("type") == "button":
        return f"[{_text(el.get('text'), names)}]"
    if el.get("type") in ("mrkdwn", "plain_text"):
        return _text(el, names)
    return f"<{el.get('type')}>"


def block_lines(block: dict[str, Any], names: Mapping[str, str]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"), names)
        return [title, "=" * min(len(title), 60)]
    if kind == "divider":
        return ["-" * 20]
    if kind == "section":
        lines = _text(block.get("text"), names).splitlines()
        for field in block.get("fields", []):
            lines.append("  ".join(_text(field, names).splitlines()))
        if block.get("accessory"):
            lines.append(_element(block["accessory"], names))
        return lines
    if kind == "context":
        return ["  " + "  ".join(_element(e, names) for e in block.get("elements", []))]
    if kind == "actions":
        return [" ".join(_element(e, names) for e in block.get("elements", []))]
    if kind == "input":
        optional = " (optional)" if block.get("optional") else ""
        element = block.get("element", {})
        initial = element.get("initial_value") or element.get("initial_date") or ""
        shown = f" = {initial}" if initial else ""
        return [f"  {block.get('block_id')}: {_text(block.get('label'), names)}{optional} <{element.get('type')}>{shown}"]
    return [f"<{kind}>"]


def message_text(payload: Mapping[str, Any], names: Mapping[str, str]) -> str:
    blocks = payload.get("blocks")
    if not blocks:
        return mrkdwn(str(payload.get("text", "")), names)
    return "\n".join(line for b in blocks for line in block_lines(b, names))


def view_text(view: Mapping[str, Any], names: Mapping[str, str]) -> str:
    lines = [f"[{_text(view.get('title'), names)}]"]
    lines += [line for b in view.get("blocks", []) for line in block_lines(b, names)]
    if view.get("submit"):
        lines.append(f"[{_text(view['submit'], names)}]  [{_text(view.get('close'), names) or 'Cancel'}]")
    return "\n".join(lines)
