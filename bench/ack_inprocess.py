"""The work inside /update's ack, without HTTP: the real Bolt app against the floor's listener, in one process.

Over HTTP (http_bench.py) both carry a few milliseconds of the server, the loopback and the CPU scheduler, and
the tail of that noise decides a p99. Here each signed request goes straight to `App.dispatch` (the signature
checked, every middleware, the listener, the database), one at a time, so what remains is what our code does
before it acks: the rights check, the update, its audit entry and its card's job, against the floor's one insert.

    .venv/bin/python bench/ack_inprocess.py                       # SQLite and PostgreSQL, 3,000 requests each
    .venv/bin/python bench/ack_inprocess.py --backends sqlite --requests 500

The Slack Web API is the in-process stub (`bot.fake_slack`); the update cards' jobs, and on SQLite the checkpoints
that `liaison serve` leaves to its scheduler process, are run between batches (not timed). Times in ms.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for path in (ROOT, os.path.join(ROOT, "bench")):
    if path not in sys.path:
        sys.path.insert(0, path)

from slack_bolt import App  # noqa: E402
from slack_bolt.request import BoltRequest  # noqa: E402

from bot import payloads  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.fake_slack import FakeSlack  # noqa: E402
from bot.jobs import JobRunner  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from handlers import job_kinds  # noqa: E402
from scratch import drop_database, scratch_database  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402

SECRET, TEAM, LEAD, CHANNEL = "bench-secret", "T0AGENCY", "U0LEAD", "C0INPROC01"


def percentiles(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    return tuple(ordered[min(len(ordered) - 1, int(len(ordered) * q))] for q in (0.5, 0.9, 0.99))  # type: ignore


def timed(app: App, text: str, fake: FakeSlack) -> tuple[float, Any]:
    body, ctype = payloads.command("/update", text, user_id=LEAD, channel_id=CHANNEL, team_id=TEAM,
                                   response_url=f"{fake.base_url}../response/{CHANNEL}")
    request = BoltRequest(body=body, headers={"content-type": ctype, **payloads.sign(SECRET, body)})
    start = time.perf_counter()
    response = app.dispatch(request)
    return (time.perf_counter() - start) * 1000, response


def measure_app(url: str, fake: FakeSlack, requests: int) -> list[float]:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "DATABASE_URL": url,
                              "SLACK_API_URL": fake.base_url}, dotenv=False)
    # As in a `liaison serve` worker: SQLite's checkpoints are left to the scheduler process (done here between
    # batches, with the jobs, untimed).
    rt = build_runtime(settings, db=Database(url, background_checkpoints=True))
    upgrade_to_head(rt.db.engine)
    app, runner = build_app(rt, SECRET), JobRunner(rt, job_kinds())
    body, ctype = payloads.command("/project", "create In-process Bench", user_id=LEAD, channel_id=CHANNEL,
                                   team_id=TEAM, response_url=f"{fake.base_url}../response/{CHANNEL}")
    app.dispatch(BoltRequest(body=body, headers={"content-type": ctype, **payloads.sign(SECRET, body)}))
    runner.run_pending()
    for i in range(200):  # warm: caches filled, statements compiled, PostgreSQL's plans prepared
        timed(app, f"warm {i}", fake)
    runner.run_pending()
    times = []
    for i in range(requests):
        ms, response = timed(app, f"u{i:06d} shipped the home page", fake)
        if response.status != 200 or "Logged update" not in response.body:
            raise SystemExit(f"/update did not log: {response.status} {response.body[:200]}")
        times.append(ms)
        if i % 250 == 249:
            runner.run_pending()
            rt.db.checkpoint()
    runner.run_pending()
    rt.db.dispose()
    return times


def measure_floor(url: str, fake: FakeSlack, requests: int) -> list[float]:
    os.environ.update(DATABASE_URL=url, SLACK_API_URL=fake.base_url, SLACK_SIGNING_SECRET=SECRET)
    import floor_app

    db = Database(url)
    floor_app.FloorBase.metadata.create_all(db.engine)
    app = floor_app.load().app
    for i in range(200):
        timed(app, f"warm {i}", fake)
    times = [timed(app, f"u{i:06d} shipped the home page", fake)[0] for i in range(requests)]
    db.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    fake = FakeSlack().start()
    fake.world.add_channel(id=CHANNEL, name="inproc-bench", members=[LEAD, "U0TEAM"])
    print("| backend | what | p50 | p90 | p99 | p50 ×floor | p99 ×floor |\n|---|---|---|---|---|---|---|")
    for backend in args.backends.split(","):
        results = {}
        for what, measure in (("/update (real app)", measure_app), ("floor: one insert", measure_floor)):
            with tempfile.TemporaryDirectory(prefix="liaison-inproc-") as workdir:
                url, handle = scratch_database(backend, args.pg_url, workdir)
                try:
                    results[what] = percentiles(measure(url, fake, args.requests))
                finally:
                    drop_database(handle)
        floor = results["floor: one insert"]
        for what, (p50, p90, p99) in results.items():
            print(f"| {backend} | {what} | {p50:.2f} | {p90:.2f} | {p99:.2f} | {p50 / floor[0]:.2f} | "
                  f"{p99 / floor[2]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
