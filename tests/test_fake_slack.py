"""The Slack stub answers a real slack_sdk WebClient the way Slack would, and fails when told to."""
from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.fake_slack import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def client(fake: FakeSlack, **kw) -> WebClient:
    return WebClient(base_url=fake.base_url, token="xoxb-test", **kw)


def test_post_message_is_recorded_with_blocks_decoded(fake):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    first = client(fake).chat_postMessage(channel="C0INTERNAL", text="hi", blocks=blocks)
    second = client(fake).chat_postMessage(channel="C0INTERNAL", text="again")
    assert first["ok"] and first["message"]["user"] == "U0LIAISON"
    assert float(second["ts"]) > float(first["ts"])
    call = fake.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == blocks and call.failed is None


def test_fail_next_answers_with_the_slack_error_once(fake):
    fake.fail_next("chat.postMessage", error="not_in_channel")
    with pytest.raises(SlackApiError) as e:
        client(fake).chat_postMessage(channel="C0INTERNAL", text="hi")
    assert e.value.response["error"] == "not_in_channel"
    assert client(fake).chat_postMessage(channel="C0INTERNAL", text="hi")["ok"]
    assert [c.failed for c in fake.calls_to("chat.postMessage")] == ["not_in_channel", None]


def test_rate_limit_is_retried_by_the_sdk_handler(fake):
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    web = client(fake, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert web.chat_postMessage(channel="C0SHARED", text="hi")["ok"]
    assert [c.failed for c in fake.calls_to("chat.postMessage")] == ["429", None]


def test_external_user_belongs_to_the_client_team(fake):
    user = client(fake).users_info(user="U0CLIENT")["user"]
    assert (user["team_id"], user["real_name"]) == ("T0CLIENT", "Casey Client")
    with pytest.raises(SlackApiError, match="user_not_found"):
        client(fake).users_info(user="U0NOBODY")


def test_channel_rules(fake):
    fake.world.add_channel(id="C0OLD", name="old", is_archived=True)
    fake.world.add_channel(id="C0OUT", name="out", bot_is_member=False)
    for channel, error in [("C0NOPE", "channel_not_found"), ("C0OLD", "is_archived"), ("C0OUT", "not_in_channel")]:
        with pytest.raises(SlackApiError, match=error):
            client(fake).chat_postMessage(channel=channel, text="hi")
    assert client(fake).conversations_join(channel="C0OUT")["channel"]["is_member"]
    assert client(fake).conversations_info(channel="C0SHARED")["channel"]["is_ext_shared"]


def test_views_update_needs_an_opened_view(fake):
    opened = client(fake).views_open(trigger_id="t", view={"type": "modal", "blocks": []})["view"]
    updated = client(fake).views_update(view_id=opened["id"], view={"type": "modal", "blocks": []})
    assert updated["view"]["id"] == opened["id"]
    with pytest.raises(SlackApiError, match="not_found"):
        client(fake).views_update(view_id="V0MISSING", view={"type": "modal", "blocks": []})


def test_wait_for_sees_a_call_made_from_another_thread(fake):
    def later() -> None:
        time.sleep(0.05)
        client(fake).chat_postMessage(channel="C0GENERAL", text="from a thread")

    threading.Thread(target=later).start()
    calls = fake.wait_for("chat.postMessage", where=lambda c: c.args.get("text") == "from a thread")
    assert calls[0].args["channel"] == "C0GENERAL"
    with pytest.raises(AssertionError, match="chat.postMessage"):
        fake.wait_for("chat.postMessage", count=2, timeout=0.05)


def test_response_url_posts_are_recorded(fake):
    url = fake.response_url("C0INTERNAL", "U0LEAD")
    request = urllib.request.Request(url, data=json.dumps({"text": "done", "blocks": []}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=2) as response:
        assert (response.status, response.read()) == (200, b"ok")
    call = fake.wait_for("response_url")[0]
    assert call.args["text"] == "done" and call.url.startswith("/response/C0INTERNAL/U0LEAD/")
