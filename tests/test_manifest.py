"""`liaison manifest` prints a manifest Slack accepts, listing everything the code listens to."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.manifest import build_manifest, manifest_yaml

SCHEMA = Path(__file__).resolve().parents[1].parent / "shared" / "schemas" / "slack-manifest" / "manifest.schema.1.0.0.json"


def schema() -> dict:
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is not beside the checkout ({SCHEMA})")
    return json.loads(SCHEMA.read_text())


@pytest.mark.parametrize("kwargs", [{"url": "https://liaison.agency.com"}, {"socket": True}])
def test_manifest_is_valid_against_slacks_schema(kwargs):
    jsonschema = pytest.importorskip("jsonschema")
    manifest = yaml.safe_load(manifest_yaml(**kwargs))
    jsonschema.validate(manifest, schema())


def test_manifest_lists_commands_events_scopes_and_interactivity():
    manifest = build_manifest(url="https://liaison.agency.com/")
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/project", "/update", "/milestone", "/change", "/feedback",
                                                   "/risk"]
    assert [s["callback_id"] for s in manifest["features"]["shortcuts"]] == ["log_status_update",
                                                                             "file_change_request"]
    assert all(c["url"] == "https://liaison.agency.com/slack/events" and c["should_escape"] for c in commands)
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    for event in ("app_mention", "channel_id_changed", "channel_shared", "channel_unshared", "channel_archive",
                  "group_archive", "channel_deleted"):
        assert event in events
    assert {"commands", "chat:write", "users:read", "channels:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    assert manifest["settings"]["interactivity"]["is_enabled"]


def test_socket_mode_manifest_has_no_urls():
    manifest = build_manifest(socket=True)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "url" not in json.dumps(manifest).replace("background", "")
