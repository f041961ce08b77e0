"""`liaison socket`: the real process, connected over Socket Mode to a WebSocket peer standing in for Slack."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid

import pytest

from bot.fake_slack import FakeSlack
from tests.socket_peer import SocketPeer


@pytest.fixture(scope="module")
def connected(tmp_path_factory):
    fake = FakeSlack().start()
    peer = SocketPeer()
    fake.socket_url = peer.url
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LIAISON_", "DATABASE_URL"))}
    env.update(SLACK_BOT_TOKEN="xoxb-socket-test", SLACK_APP_TOKEN="xapp-socket-test", SLACK_API_URL=fake.base_url,
               DATABASE_URL=f"sqlite:///{tmp_path_factory.mktemp('socket')}/liaison.db",
               LIAISON_ENV_FILE="/nonexistent/.env")
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "socket"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        peer.wait_connected()
        yield fake, peer
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        peer.close()
        fake.stop()


def slash(peer: SocketPeer, fake: FakeSlack, text: str) -> tuple[str, str]:
    envelope_id = uuid.uuid4().hex
    url = fake.response_url("C0INTERNAL", "U0LEAD")
    peer.send({"envelope_id": envelope_id, "type": "slash_commands", "accepts_response_payload": True, "payload": {
        "token": "legacy", "team_id": "T0AGENCY", "team_domain": "agency", "channel_id": "C0INTERNAL",
        "channel_name": "acme-internal", "user_id": "U0LEAD", "user_name": "alex", "command": "/project",
        "text": text, "api_app_id": "A0LIAISON", "response_url": url, "trigger_id": f"{envelope_id}.trigger",
    }})
    return envelope_id, url


def test_a_slash_command_over_socket_mode_is_answered_in_its_ack(connected):
    fake, peer = connected
    envelope_id, _ = slash(peer, fake, "help")
    assert "/project create" in json.dumps(peer.ack(envelope_id))


def test_work_after_the_ack_is_answered_and_posted(connected):
    fake, peer = connected
    envelope_id, url = slash(peer, fake, "create Socket Project")
    assert peer.ack(envelope_id) == {}  # acked at once; the work follows
    answer = fake.wait_for("response_url", timeout=15, where=lambda c: url.endswith(c.url))[0]
    assert "Created" in json.dumps(answer.args)
    assert any("Socket Project" in json.dumps(c.args) for c in fake.calls_to("chat.postMessage"))


def test_an_event_over_socket_mode_is_acknowledged_and_handled(connected):
    fake, peer = connected
    envelope_id = uuid.uuid4().hex
    peer.send({"envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False,
               "retry_attempt": 0, "retry_reason": "", "payload": {
                   "token": "legacy", "team_id": "T0AGENCY", "api_app_id": "A0LIAISON", "type": "event_callback",
                   "event_id": f"Ev{envelope_id[:8]}", "event_time": 1764000000,
                   "event": {"type": "app_mention", "user": "U0LEAD", "text": "<@U0LIAISON> hello",
                             "channel": "C0INTERNAL", "ts": "1764000000.000100"}}})
    peer.ack(envelope_id)
    # A mention it doesn't understand is answered in its thread.
    fake.wait_for("chat.postMessage", timeout=10, where=lambda c: c.args.get("thread_ts") == "1764000000.000100")
