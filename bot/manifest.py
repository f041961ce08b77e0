"""The Slack app manifest, built from what the feature modules declare, so it never drifts from the code."""
from __future__ import annotations

from typing import Any

import yaml

from handlers import FEATURES

BOT_SCOPES = [
    "app_mentions:read",  # @Liaison from anyone, including people of the client's organisation
    "channels:join",  # join a public channel before posting when not yet a member
    "channels:read",  # conversations.info (is_ext_shared) and public channel events
    "chat:write",
    "commands",
    "groups:read",  # private channel events and conversations.info
    "im:write",  # tell a lead directly when a project has no internal channel left
    "users:read",  # users.info: which organisation someone belongs to
]


def build_manifest(name: str = "Liaison", url: str | None = None, socket: bool = False) -> dict[str, Any]:
    request_url = None if socket else (url or "https://liaison.example.com").rstrip("/") + "/slack/events"
    commands = []
    for feature in FEATURES:
        for spec in getattr(feature, "COMMANDS", []):
            command: dict[str, Any] = {
                "command": spec.name,
                "description": spec.summary[:2000],
                "usage_hint": " | ".join(s.name for s in spec.subs)[:1000],
                "should_escape": True,  # we receive <@U123> for mentions, not ambiguous display names
            }
            if request_url:
                command["url"] = request_url
            commands.append(command)
    shortcuts = [
        {**shortcut} for feature in FEATURES for shortcut in getattr(feature, "SHORTCUTS", [])
    ]
    events = sorted({e for feature in FEATURES for e in getattr(feature, "EVENTS", [])})

    subscriptions: dict[str, Any] = {"bot_events": events}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if request_url:
        subscriptions["request_url"] = request_url
        interactivity["request_url"] = request_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Client projects run in Slack: updates, milestones, change requests, digests.",
            "background_color": "#2c3e50",
        },
        "features": {
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": commands,
            "shortcuts": shortcuts,
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(**kwargs: Any) -> str:
    return yaml.safe_dump(build_manifest(**kwargs), sort_keys=False, allow_unicode=True)
