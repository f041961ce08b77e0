"""Only Slack gets in: signatures and freshness are checked on every request; health is for load balancers."""
from __future__ import annotations

import time
import urllib.request

from bot import payloads
from tests.conftest import SECRET, TEAM


def project_command():
    return payloads.command("/project", "list", user_id="U0LEAD", channel_id="C0INTERNAL", team_id=TEAM)


def test_correctly_signed_request_is_served(app):
    assert app.send(project_command()).status == 200


def test_bad_signature_is_refused(app):
    body, ctype = project_command()
    headers = {"content-type": ctype, **payloads.sign("not-the-secret", body)}
    assert app.post(body, headers).status == 401


def test_tampered_body_is_refused(app):
    body, ctype = project_command()
    headers = {"content-type": ctype, **payloads.sign(SECRET, body)}
    assert app.post(body.replace("list", "create+Evil"), headers).status == 401


def test_timestamp_older_than_five_minutes_is_refused(app):
    assert app.send(project_command(), timestamp=int(time.time()) - 6 * 60).status == 401


def test_missing_signature_is_refused(app):
    body, ctype = project_command()
    assert app.post(body, {"content-type": ctype}).status == 401


def test_healthz_and_unknown_paths(app):
    with urllib.request.urlopen(app.url + "/healthz", timeout=5) as response:
        assert response.status == 200 and response.read() == b"ok\n"
    body, ctype = project_command()
    assert app.post(body, {"content-type": ctype}, path="/elsewhere").status == 404
