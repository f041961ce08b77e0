"""Modal views and the ids their submissions are read by."""
from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from bot.markup import to_mrkdwn
from bot.render.kit import Block


class ProjectCreateIds(StrEnum):
    CALLBACK = "project-create"
    NAME = "name"
    CLIENT = "client"
    DUE = "due"
    BUDGET = "budget"
    TZ = "tz"
    KEY = "key"


def _text_input(block_id: str, label: str, hint: str = "", optional: bool = False,
                initial: str | None = None, max_length: int | None = None) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": "value"}
    if initial:
        element["initial_value"] = initial
    if max_length:
        element["max_length"] = max_length
    block: Block = {"type": "input", "block_id": block_id, "optional": optional,
                    "label": {"type": "plain_text", "text": label}, "element": element}
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def project_create_modal(channel_id: str, default_tz: str, name: str = "") -> dict[str, Any]:
    ids = ProjectCreateIds
    return {
        "type": "modal",
        "callback_id": ids.CALLBACK,
        "private_metadata": json.dumps({"channel_id": channel_id}),
        "title": {"type": "plain_text", "text": "New project"},
        "submit": {"type": "plain_text", "text": "Create"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _text_input(ids.NAME, "Project name", initial=name or None, max_length=80),
            _text_input(ids.CLIENT, "Client", "The client organisation, e.g. Acme Co", optional=True, max_length=80),
            {
                "type": "input",
                "block_id": ids.DUE,
                "optional": True,
                "label": {"type": "plain_text", "text": "Due date"},
                "element": {"type": "datepicker", "action_id": "value"},
            },
            _text_input(ids.BUDGET, "Budget", "The agreed budget, amount and currency, e.g. 48000 EUR",
                        optional=True, max_length=40),
            _text_input(ids.TZ, "Timezone", "An IANA name such as Europe/Paris", initial=default_tz),
            _text_input(ids.KEY, "Short key", "Made from the name when left empty, e.g. acme-web", optional=True),
        ],
    }


def read_project_create(view: dict[str, Any]) -> tuple[str, dict[str, str | None]]:
    """(channel_id, {field: typed value or None}) from a submitted project-create modal."""
    values = view.get("state", {}).get("values", {})

    def value(block_id: str) -> str | None:
        element = values.get(block_id, {}).get("value", {})
        return element.get("value") or element.get("selected_date") or None

    metadata = json.loads(view.get("private_metadata") or "{}")
    return metadata.get("channel_id", ""), {i.value: value(i.value) for i in ProjectCreateIds if i != "project-create"}


class MilestoneAddIds(StrEnum):
    CALLBACK = "milestone-add"
    NAME = "name"
    DUE = "due"
    OWNER = "owner"
    INTERNAL = "internal"


def milestone_add_modal(channel_id: str, project: str | None, project_name: str) -> dict[str, Any]:
    ids = MilestoneAddIds
    return {
        "type": "modal",
        "callback_id": ids.CALLBACK,
        "private_metadata": json.dumps({"channel_id": channel_id, "project": project}),
        "title": {"type": "plain_text", "text": "New milestone"},
        "submit": {"type": "plain_text", "text": "Add"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Project: *{to_mrkdwn(project_name, 150)}*"}]},
            _text_input(ids.NAME, "Milestone", "e.g. Design sign-off", max_length=200),
            {"type": "input", "block_id": ids.DUE, "label": {"type": "plain_text", "text": "Due"},
             "element": {"type": "datepicker", "action_id": "value"}},
            {"type": "input", "block_id": ids.OWNER, "optional": True,
             "label": {"type": "plain_text", "text": "Owner"}, "hint": {"type": "plain_text", "text":
                                                                        "Reminders mention them"},
             "element": {"type": "users_select", "action_id": "value"}},
            {"type": "input", "block_id": ids.INTERNAL, "optional": True,
             "label": {"type": "plain_text", "text": "Visibility"},
             "element": {"type": "checkboxes", "action_id": "value", "options": [
                 {"text": {"type": "plain_text", "text": "Internal only: the client never sees it"},
                  "value": "yes"}]}},
        ],
    }


def read_milestone_add(view: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str | None]]:
    """(private metadata, {field: value or None}) from a submitted milestone modal."""
    values = view.get("state", {}).get("values", {})

    def value(block_id: str) -> str | None:
        element = values.get(block_id, {}).get("value", {})
        if "selected_options" in element:
            return "yes" if element["selected_options"] else None
        return element.get("value") or element.get("selected_date") or element.get("selected_user") or None

    metadata = json.loads(view.get("private_metadata") or "{}")
    return metadata, {i.value: value(i.value) for i in MilestoneAddIds if i != MilestoneAddIds.CALLBACK}
