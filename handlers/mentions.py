"""@Liaison mentions: how people from the client's organisation (who can't use our slash commands) reach us."""
from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.render.mentions import mention_help
from bot.runtime import Runtime
from handlers import updates
from handlers.context import actor_of

EVENTS = ["app_mention"]


def register(app: App, rt: Runtime) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        text = updates.mentioned_update(event.get("text", ""))
        if text is not None:
            updates.log_mentioned(rt, actor_of(context), event, text)
            return
        rt.outbox.later(client.chat_postEphemeral, channel=event["channel"], user=event["user"], **mention_help())
