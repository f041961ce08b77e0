"""Building blocks of forms (pure): inputs, options, the modal itself, and reading a submitted one back."""
from __future__ import annotations

import json
from typing import Any

from bot.render.kit import Block


def form_input(block_id: str, label: str, element: Block, hint: str = "", optional: bool = False) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "optional": optional,
                    "label": {"type": "plain_text", "text": label}, "element": {**element, "action_id": "value"}}
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def text_element(initial: str | None = None, multiline: bool = False, max_length: int | None = None) -> Block:
    element: Block = {"type": "plain_text_input", "multiline": multiline}
    if initial:
        element["initial_value"] = initial
    if max_length:
        element["max_length"] = max_length
    return element


def option(text: str, value: str) -> Block:
    return {"text": {"type": "plain_text", "text": text[:75]}, "value": value}


def modal(callback: str, title: str, submit: str, metadata: dict[str, Any], blocks: list[Block]) -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback, "private_metadata": json.dumps(metadata),
            "title": {"type": "plain_text", "text": title}, "submit": {"type": "plain_text", "text": submit},
            "close": {"type": "plain_text", "text": "Cancel"}, "blocks": blocks}


def read_form(view: dict[str, Any]) -> dict[str, Any]:
    """{block id: value} of a submitted form: text, a date, a user, an option, options (a list) or a checkbox."""
    found: dict[str, Any] = {}
    for block_id, elements in view.get("state", {}).get("values", {}).items():
        element = elements.get("value", {})
        if element.get("type") in ("checkboxes", "multi_static_select") or "selected_options" in element:
            found[block_id] = [o.get("value") for o in element.get("selected_options") or []]
        elif "selected_option" in element:
            found[block_id] = (element.get("selected_option") or {}).get("value")
        else:
            found[block_id] = (element.get("value") or element.get("selected_date")
                               or element.get("selected_user") or None)
    return found

