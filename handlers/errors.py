"""One place that turns errors into what the person sees: their own mistakes plainly, ours with an id to quote."""
from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot import slack
from bot.errors import UserError
from bot.render.errors import answer_for
from bot.runtime import Runtime

log = logging.getLogger(__name__)


def _json(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(status=200, body=json.dumps(payload), headers={"content-type": "application/json"})


def on_error(error: Exception, body: dict[str, Any], client: WebClient) -> BoltResponse:
    payload, error_id = answer_for(error)
    if error_id:
        log.error("unexpected error %s", error_id, exc_info=error)

    if "command" in body:
        return _json(payload)
    kind = body.get("type")
    if kind == "view_submission":
        field = error.field if isinstance(error, UserError) and error.field else None
        block = field or _first_input(body.get("view", {})) or "name"
        return _json({"response_action": "errors", "errors": {block: payload["text"].removeprefix("⚠️ ")}})
    if body.get("response_url"):
        if kind == "block_actions":  # said beside the message pressed, never instead of it
            payload = {**payload, "response_type": "ephemeral", "replace_original": False}
        slack.respond(body["response_url"], payload)
    elif kind == "event_callback":
        event = body.get("event", {})
        if event.get("channel") and event.get("user"):
            try:
                client.chat_postEphemeral(channel=event["channel"], user=event["user"], **payload)
            except SlackClientError as e:
                log.warning("could not tell %s about an error: %s", event.get("user"), e)
    # 200 even on failure: a non-2xx makes Slack deliver the same event again.
    return BoltResponse(status=200, body="")


def _first_input(view: dict[str, Any]) -> str | None:
    return next((b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"), None)


def register(app: App, rt: Runtime) -> None:
    app.error(on_error)
