"""The requests Slack sends, built and signed exactly as Slack would: the console and the tests speak through these."""
from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

_ids = itertools.count(1)


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack adds: x-slack-signature is v0= HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
    }


def command(
    command: str, text: str, *, user_id: str, channel_id: str, team_id: str,
    response_url: str = "", channel_name: str = "", user_name: str = "",
) -> tuple[str, str]:
    n = next(_ids)
    body = urlencode({
        "token": "legacy-verification-token", "team_id": team_id, "team_domain": "agency",
        "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id, "user_name": user_name,
        "command": command, "text": text, "api_app_id": "A0LIAISON", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": f"{n}.{n}.trigger",
    })
    return body, "application/x-www-form-urlencoded"


def event(event: dict[str, Any], *, team_id: str, event_id: str | None = None) -> tuple[str, str]:
    n = next(_ids)
    body = json.dumps({
        "token": "legacy-verification-token", "team_id": team_id, "api_app_id": "A0LIAISON",
        "event": {"event_ts": f"{1_700_000_000 + n}.000100", **event}, "type": "event_callback",
        "event_id": event_id or f"Ev{n:08d}", "event_time": 1_700_000_000 + n,
        "authorizations": [{"team_id": team_id, "user_id": "U0LIAISON", "is_bot": True}],
    })
    return body, "application/json"


def view_submission(
    view: dict[str, Any], values: dict[str, str | None], *, user_id: str, team_id: str, user_team_id: str | None = None
) -> tuple[str, str]:
    """A modal submitted with `values` typed into its inputs, keyed by block_id."""
    state: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        typed = values.get(block["block_id"], element.get("initial_value"))
        if element["type"] == "datepicker":
            field = {"type": "datepicker", "selected_date": typed}
        elif element["type"] == "users_select":
            field = {"type": "users_select", "selected_user": element.get("initial_user") if typed is None else typed}
        elif element["type"] == "checkboxes" and typed is None:  # untouched: as it was shown
            chosen = element.get("initial_options", [])
            field = {"type": "checkboxes", "selected_options": chosen}
        elif element["type"] == "checkboxes":
            chosen = [o for o in element["options"] if typed and typed.lower() in ("yes", "true", o["value"])]
            field = {"type": "checkboxes", "selected_options": chosen}
        elif element["type"] == "static_select":  # typed: an option's value (or its text)
            chosen = [o for o in element["options"] if typed in (o["value"], o["text"]["text"])]
            field = {"type": "static_select", "selected_option": chosen[0] if chosen else element.get(
                "initial_option") if typed is None else None}
        elif element["type"] == "multi_static_select":  # typed: values separated by commas
            wanted = [w.strip().lstrip("#") for w in typed.split(",")] if isinstance(typed, str) else None
            chosen = (element.get("initial_options", []) if wanted is None
                      else [o for o in element["options"] if o["value"] in wanted])
            field = {"type": "multi_static_select", "selected_options": chosen}
        else:
            field = {"type": element["type"], "value": typed}
        state[block["block_id"]] = {element["action_id"]: field}
    submitted = {**view, "state": {"values": state}, "team_id": team_id}
    payload = {
        "type": "view_submission", "team": {"id": team_id, "domain": "agency"},
        "user": {"id": user_id, "team_id": user_team_id or team_id}, "api_app_id": "A0LIAISON",
        "trigger_id": f"{next(_ids)}.trigger", "view": submitted,
    }
    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def message_action(
    callback_id: str, message: dict[str, Any], *, user_id: str, channel_id: str, team_id: str, response_url: str = "",
) -> tuple[str, str]:
    """A message shortcut used on `message` (a dict with user, text and ts)."""
    n = next(_ids)
    payload = {
        "type": "message_action", "callback_id": callback_id, "trigger_id": f"{n}.{n}.trigger",
        "team": {"id": team_id, "domain": "agency"}, "user": {"id": user_id, "team_id": team_id},
        "channel": {"id": channel_id}, "response_url": response_url, "message_ts": message.get("ts"),
        "message": {"type": "message", **message},
    }
    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def block_actions(
    action_id: str, value: str, *, user_id: str, team_id: str, channel_id: str | None, message_ts: str | None = None,
    response_url: str = "", user_team_id: str | None = None, block_id: str = "actions",
) -> tuple[str, str]:
    """A button pressed in a message (`message_ts` in `channel_id`); its value is whatever the button carried."""
    n = next(_ids)
    payload: dict[str, Any] = {
        "type": "block_actions", "trigger_id": f"{n}.{n}.trigger", "api_app_id": "A0LIAISON",
        "team": {"id": team_id, "domain": "agency"},
        "user": {"id": user_id, "team_id": user_team_id or team_id},
        "actions": [{"type": "button", "action_id": action_id, "block_id": block_id, "value": value,
                     "action_ts": f"{1_700_000_000 + n}.000200"}],
        "response_url": response_url,
    }
    if channel_id:
        payload["channel"] = {"id": channel_id}
        payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                                "is_ephemeral": message_ts is None}
    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The buttons of a message, in order, each with the block it sits in (`block_id`)."""
    found = []
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            found += [{**e, "block_id": block.get("block_id", "actions")} for e in block.get("elements", [])
                      if e.get("type") == "button"]
    return found
