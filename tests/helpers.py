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
