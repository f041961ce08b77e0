"""The floor for the HTTP benchmark: a bare Bolt app whose one listener acks after a single ORM insert.

The listener answers `/project` and `/update` alike, so both commands have a floor.

Served by the same gunicorn settings as `liaison serve` (bot.web.run_gunicorn). Run by bench/http_bench.py.
"""
from __future__ import annotations

import os
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from slack_bolt import Ack, App  # noqa: E402
from slack_bolt.adapter.wsgi import SlackRequestHandler  # noqa: E402
from slack_sdk import WebClient  # noqa: E402
from sqlalchemy import String  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column  # noqa: E402

from bot.web import run_gunicorn  # noqa: E402
from storage.db import Database  # noqa: E402


class FloorBase(DeclarativeBase):
    pass


class FloorRow(FloorBase):
    __tablename__ = "bench_floor"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]


def load():  # noqa: ANN201
    db = Database(os.environ["DATABASE_URL"])
    app = App(
        client=WebClient(token="xoxb-bench", base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=True,
        token_verification_enabled=False,
    )

    @app.command("/project")
    @app.command("/update")
    def store_and_ack(ack: Ack, body: dict) -> None:
        with db.transaction() as session:
            session.add(FloorRow(text=body.get("text", "")[:200], at=datetime.now(timezone.utc)))
        ack()

    return SlackRequestHandler(app)


if __name__ == "__main__":
    port, workers, threads = (int(a) for a in sys.argv[1:4])
    FloorBase.metadata.create_all(Database(os.environ["DATABASE_URL"]).engine)
    run_gunicorn(load, "127.0.0.1", port, workers, threads)
