"""Small steps many tests share: a project with an internal and a client channel, counting rows."""
from __future__ import annotations

from sqlalchemy import func, select


def count(db, model, *where) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def acme(app, *, due: str = "2027-03-31") -> None:
    """Project `acme` bound to #acme-internal (internal) and #acme-shared (client), lead U0LEAD, client U0CLIENT."""
    assert "Created" in app.command(f'create key=acme client="Acme Co" due={due} Acme Website').text
    assert "client" in app.command("link acme", channel="C0SHARED").text
    app.jobs.drain()
    app.fake.clear()


def posts(fake, channel: str | None = None, timeout: float = 0) -> list[str]:
    """What was posted (successfully), as text, in order; with a timeout, waits for at least one post."""
    import json

    if timeout:
        fake.wait_for("chat.postMessage", timeout=timeout,
                      where=lambda c: not c.failed and (channel is None or c.args.get("channel") == channel))

    return [json.dumps(c.args) for c in fake.calls_to("chat.postMessage")
            if not c.failed and (channel is None or c.args.get("channel") == channel)]


def said(reply) -> str:
    """What the person reads of an answer (fallback text plus blocks; Slack shows `&lt;` as `<`)."""
    import html
    import json

    data = reply.json
    parts = [data.get("text", ""), *(json.dumps(b, ensure_ascii=False) for b in data.get("blocks", []))]
    return html.unescape("\n".join(parts))


def mention(app, text: str, *, user: str = "U0CLIENT", channel: str = "C0SHARED", ts: str = "1764000000.000100",
            event_id: str = "Ev0MENTION1", retry: int | None = None):
    """`@Liaison <text>` as Slack delivers it (a retry, with `retry`: the same event again)."""
    from bot import payloads
    from tests.conftest import SECRET, TEAM

    event = {"type": "app_mention", "user": user, "text": f"<@U0LIAISON> {text}", "channel": channel, "ts": ts}
    body, ctype = payloads.event(event, team_id=TEAM, event_id=event_id)
    headers = {"content-type": ctype, **payloads.sign(SECRET, body)}
    if retry:
        headers |= {"x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"}
    return app.post(body, headers)


def ticks_at_once(app, db, clock, schedulers: int = 4) -> list:
    """`schedulers` processes sharing one database tick at the same moment; their reports."""
    import threading

    from bot.runtime import build_runtime
    from scheduler import service

    runtimes = [app.rt, *(build_runtime(app.rt.settings, db=db, clock=clock) for _ in range(schedulers - 1))]
    reports: list = []
    threads = [threading.Thread(target=lambda rt=rt: reports.append(service.tick(rt))) for rt in runtimes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return reports
