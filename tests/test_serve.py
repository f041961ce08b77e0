"""`liaison serve`: the production HTTP server (gunicorn) answers Slack and load balancers."""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot import payloads
from bot.fake_slack import FakeSlack

SECRET = "serve-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


served_pids: list[int] = []
served_dbs: list[str] = []


@pytest.fixture
def serve_pid(served) -> int:
    return served_pids[-1]


@pytest.fixture
def served_db(served) -> str:
    return served_dbs[-1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    port = free_port()
    fake = FakeSlack().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LIAISON_", "DATABASE_URL"))}
    db_path = f"{tmp_path_factory.mktemp('serve')}/liaison.db"
    env.update(SLACK_BOT_TOKEN="xoxb-serve-test", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake.base_url,
               DATABASE_URL=f"sqlite:///{db_path}",
               LIAISON_ENV_FILE="/nonexistent/.env")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--threads", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"liaison serve exited: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
    else:
        pytest.fail("liaison serve did not answer /healthz within 30 s")
    served_pids.append(process.pid)
    served_dbs.append(db_path)
    yield base, fake
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=15)
    fake.stop()


def test_healthz(served):
    base, _ = served
    with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
        assert response.status == 200


def test_signed_command_is_answered_and_posted(served):
    base, fake = served
    body, ctype = payloads.command("/project", "create Served Project", user_id="U0LEAD", channel_id="C0INTERNAL",
                                   team_id="T0AGENCY", response_url=fake.response_url("C0INTERNAL", "U0LEAD"))
    request = urllib.request.Request(base + "/slack/events", data=body.encode(), method="POST",
                                     headers={"content-type": ctype, **payloads.sign(SECRET, body)})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200  # acked at once; the work and the answer follow
    assert "Served Project" in str(fake.wait_for("chat.postMessage")[0].args)
    assert "Created" in str(fake.wait_for("response_url")[0].args)


def test_what_the_workers_write_reaches_the_database_file_within_seconds(served, served_db, tmp_path):
    """The web workers leave copying SQLite's write-ahead log back into the database to the scheduler process,
    which does it every second: the database file alone (what a plain file backup takes) soon holds a new project,
    long before the log reaches the 1,000 pages after which SQLite would copy it back by itself."""
    base, fake = served
    body, ctype = payloads.command("/project", "create Checkpointed Project", user_id="U0LEAD",
                                   channel_id="C0GENERAL", team_id="T0AGENCY",
                                   response_url=fake.response_url("C0GENERAL", "U0LEAD"))
    request = urllib.request.Request(base + "/slack/events", data=body.encode(), method="POST",
                                     headers={"content-type": ctype, **payloads.sign(SECRET, body)})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    copy = tmp_path / "copy.db"
    names: list[str] = []
    deadline = time.monotonic() + 15
    while "Checkpointed Project" not in names and time.monotonic() < deadline:
        time.sleep(0.2)
        copy.write_bytes(Path(served_db).read_bytes())  # the database file only, without its -wal beside it
        try:
            with sqlite3.connect(copy) as conn:
                names = [name for (name,) in conn.execute("SELECT name FROM projects")]
        except sqlite3.DatabaseError:  # copied halfway through a checkpoint: look again
            names = []
        finally:
            for leftover in (copy, tmp_path / "copy.db-wal", tmp_path / "copy.db-shm"):
                leftover.unlink(missing_ok=True)
    assert "Checkpointed Project" in names


def test_unsigned_request_is_refused(served):
    base, _ = served
    request = urllib.request.Request(base + "/slack/events", data=b"command=/project&text=list", method="POST",
                                     headers={"content-type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 401


def scheduler_children(parent: int) -> list[int]:
    """The `liaison scheduler` processes started by the serve process `parent`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                args = cmd.read().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and b"scheduler" in args:
            found.append(int(entry))
    return found


def test_serve_keeps_its_scheduler_process_running(served, serve_pid):
    deadline = time.monotonic() + 15
    while not (first := scheduler_children(serve_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(first) == 1
    os.kill(first[0], signal.SIGKILL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        again = scheduler_children(serve_pid)
        if again and again != first:
            break
        time.sleep(0.2)
    assert len(again) == 1 and again != first
