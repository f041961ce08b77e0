"""Shared fixtures: a real SQLite and a real PostgreSQL database, the Slack API stub, and the app over HTTP."""
from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from sqlalchemy import create_engine, delete, text

from bot import payloads
from bot.clock import ManualClock
from bot.config import Settings
from bot.fake_slack import FakeSlack, World
from bot.jobs import JobRunner
from handlers import job_kinds
from bot.runtime import Runtime, build_runtime
from bot.web import make_wsgi
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.models import Base

PG_ADMIN_URL = os.environ.get("LIAISON_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SECRET = "test-signing-secret"
TEAM = "T0AGENCY"
START = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A scratch database for this run, dropped at the end."""
    name = f"liaison_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"PostgreSQL tests cannot run: {e}. Start it or set LIAISON_TEST_PG_URL.", pytrace=False)
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db')}/liaison.db"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    url = request.getfixturevalue("postgres_url" if request.param == "postgresql" else "sqlite_url")
    database = Database(url)
    upgrade_to_head(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def clean_db(db: Database) -> Database:
    with db.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
    return db


@pytest.fixture(scope="module")
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(World.demo()) as fake:
        yield fake


@pytest.fixture
def slack(fake_slack: FakeSlack) -> FakeSlack:
    """The stub with a fresh demo world and no recorded calls, for each test."""
    fake_slack.world = World.demo()
    fake_slack.clear()
    return fake_slack


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Reply:
    status: int
    body: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}

    @property
    def text(self) -> str:
        """Everything the person sees in the reply: fallback text plus every block's text."""
        data = self.json
        parts = [data.get("text", "")]
        parts += [json.dumps(b) for b in data.get("blocks", [])]
        return "\n".join(parts)


class LiaisonServer:
    """The real app behind a real HTTP server; requests are signed exactly as Slack signs them."""

    def __init__(self, rt: Runtime, fake: FakeSlack):
        self.rt = rt
        self.fake = fake
        self.jobs = JobRunner(rt, job_kinds()).start()
        self.httpd = make_server("127.0.0.1", 0, make_wsgi(rt), server_class=_ThreadingWSGIServer,
                                 handler_class=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def post(self, body: str, headers: dict[str, str], path: str = "/slack/events") -> Reply:
        request = urllib.request.Request(self.url + path, data=body.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.read().decode())

    def send(self, built: tuple[str, str], timestamp: int | None = None) -> Reply:
        body, content_type = built
        return self.post(body, {"content-type": content_type, **payloads.sign(SECRET, body, timestamp)})

    def command(self, text: str, *, user: str = "U0LEAD", channel: str = "C0INTERNAL",
                name: str = "/project", answer: bool = True) -> Reply:
        """The person's answer: the ack's body, or (for work done after the ack) the first response_url post."""
        url = self.fake.response_url(channel, user)
        reply = self.send(payloads.command(name, text, user_id=user, channel_id=channel, team_id=TEAM,
                                           response_url=url))
        if reply.status == 200 and not reply.body and answer:
            # Generous: work after the ack may be waiting out Slack's backoff before it answers.
            later = self.fake.wait_for("response_url", timeout=15, where=lambda c: url.endswith(c.url))[0]
            return Reply(200, json.dumps(later.args))
        return reply

    def press(self, message: Any, label: str, *, user: str = "U0LEAD", channel: str | None = None) -> Reply:
        """Press the button labelled `label` in a posted message (a chat.postMessage call of the stub), as Slack
        sends it; the answer is what only the presser sees (through response_url)."""
        channel = channel or message.args["channel"]
        [button] = [b for b in payloads.buttons(message.args) if b["text"]["text"] == label]
        return self.press_value(button["action_id"], button.get("value", ""), user=user, channel=channel,
                                message_ts=message.ts, block_id=button["block_id"])

    def press_value(self, action_id: str, value: str, *, user: str = "U0LEAD", channel: str | None = "C0INTERNAL",
                    message_ts: str | None = None, block_id: str = "actions",
                    team: str = TEAM, user_team: str | None = None) -> Reply:
        """A block_actions request with any value, as a forger could send it."""
        url = self.fake.response_url(channel or "none", user)
        ack = self.send(payloads.block_actions(action_id, value, user_id=user, team_id=team, channel_id=channel,
                                               message_ts=message_ts, response_url=url, user_team_id=user_team,
                                               block_id=block_id))
        assert ack.status == 200 and ack.body == "", ack
        answer = self.fake.wait_for("response_url", timeout=15, where=lambda c: url.endswith(c.url))[0]
        return Reply(200, json.dumps(answer.args))

    def event(self, event: dict[str, Any], event_id: str | None = None) -> Reply:
        return self.send(payloads.event(event, team_id=TEAM, event_id=event_id))

    def submit(self, view: dict[str, Any], values: dict[str, str | None], user: str = "U0LEAD") -> Reply:
        return self.send(payloads.view_submission(view, values, user_id=user, team_id=TEAM))

    def close(self) -> None:
        self.jobs.stop()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(scope="module")
def server(db: Database, fake_slack: FakeSlack, clock: ManualClock) -> Iterator[LiaisonServer]:
    settings = Settings(
        slack_bot_token="xoxb-test", slack_signing_secret=SECRET, database_url=db.url,
        slack_api_url=fake_slack.base_url, timezone="Europe/London",
    )
    srv = LiaisonServer(build_runtime(settings, db=db, clock=clock), fake_slack)
    yield srv
    srv.close()


@pytest.fixture
def app(server: LiaisonServer, clean_db: Database, slack: FakeSlack, clock: ManualClock) -> Iterator[LiaisonServer]:
    """Per test: empty tables, a fresh fake workspace (whose channel members the app hasn't seen yet), the clock
    at START; afterwards, posts finish."""
    clock.set(START)
    server.rt.members.forget()
    yield server
    server.rt.outbox.drain()
    server.jobs.drain()


@pytest.fixture
def project(app: LiaisonServer) -> LiaisonServer:
    """The app with project `acme` set up: see tests.helpers.acme (a test module may define its own)."""
    from tests.helpers import acme

    acme(app)
    return app
