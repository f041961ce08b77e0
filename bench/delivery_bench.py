"""Delivery benchmark: 1,000 digests to 1,000 channels through the Slack stub, which allows one
chat.postMessage per second per channel and answers 10 % of posts with 429 (Retry-After: 1).

Reports: all delivered, none twice; the posting time (first post to last) against the target
1.2 x (1,000 x one post's round trip / concurrency + the Retry-After waits / concurrency); and the whole tick
(planning, composing, claiming and recording included).
Run by hand from the repository root:  .venv/bin/python bench/delivery_bench.py
"""
from __future__ import annotations

import argparse
import collections
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import insert, select  # noqa: E402

from bot.clock import ManualClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from scheduler import service  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from storage.models import Delivery, Member, Project, ProjectChannel, Workspace  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scratch import drop_database, scratch_database  # noqa: E402
from remote_stub import RemoteSlack  # noqa: E402

MONDAY = datetime(2026, 11, 30, 9, 0, 30, tzinfo=timezone.utc)
TEAM = "T0AGENCY"


def seed(db: Database, n: int, fake: RemoteSlack) -> None:
    week_ago = MONDAY - timedelta(days=6)
    with db.transaction() as s:
        s.execute(insert(Workspace), [{"team_id": TEAM, "name": "bench", "created_at": week_ago}])
        s.execute(insert(Project), [dict(
            team_id=TEAM, key=f"p{i:05d}", name=f"Project {i}", timezone="UTC", created_by="U0LEAD",
            created_at=week_ago, digest_schedule="weekly mon 09:00",
        ) for i in range(n)])
    with db.read() as s:
        ids = list(s.scalars(select(Project.id).order_by(Project.id)))
    with db.transaction() as s:
        s.execute(insert(ProjectChannel), [dict(
            team_id=TEAM, project_id=pid, channel_id=f"C0D{pid:06d}", name=f"d-{pid}", audience="internal",
            is_archived=False, bound_by="U0LEAD", bound_at=week_ago) for pid in ids])
        s.execute(insert(Member), [dict(project_id=pid, user_id="U0LEAD", role="lead", added_by="U0LEAD",
                                        added_at=week_ago) for pid in ids])
    fake.add_channels([{"id": f"C0D{pid:06d}", "name": f"d-{pid}"} for pid in ids])


def round_trip(rt, fake: RemoteSlack, samples: int = 200) -> float:
    """One chat.postMessage, measured one at a time on channels of their own (no pacing, no 429s)."""
    fake.add_channels([{"id": f"C0RTT{i:04d}", "name": f"rtt-{i}"} for i in range(samples)])
    started = time.perf_counter()
    for i in range(samples):
        rt.bulk.chat_postMessage(channel=f"C0RTT{i:04d}", text=f"rtt {i}")
    return (time.perf_counter() - started) / samples


def run(backend: str, args: argparse.Namespace, workdir: str) -> dict:
    url, handle = scratch_database(backend, args.pg_url, workdir)
    try:
        db = Database(url)
        upgrade_to_head(db.engine)
        with RemoteSlack() as fake:
            seed(db, args.digests, fake)
            settings = Settings(slack_bot_token="xoxb-bench", slack_signing_secret="s", database_url=url,
                                slack_api_url=fake.base_url, timezone="UTC")
            rt = build_runtime(settings, db=db, clock=ManualClock(MONDAY))
            rtt = round_trip(rt, fake)
            fake.clear()
            fake.shape(per_channel_interval=1.0, random_429_rate=0.10)
            started = time.perf_counter()
            report = service.tick(rt, concurrency=args.concurrency)
            tick_s = time.perf_counter() - started
            calls = fake.calls_to("chat.postMessage")
            ok = [c for c in calls if not c.failed]
            limited = [c for c in calls if c.failed == "429"]
            per_channel = collections.Counter(c.args["channel"] for c in ok)
            posting_s = max(c.at for c in ok) - min(c.at for c in calls)
            with db.read() as s:
                states = collections.Counter(s.scalars(select(Delivery.state)))
            ideal = args.digests * rtt / args.concurrency
            waits = len(limited) * 1.0 / args.concurrency
            target = 1.2 * (ideal + waits)
            rt.db.dispose()
        return dict(backend=backend, sent=report.sent, channels=len(per_channel),
                    twice=sum(1 for v in per_channel.values() if v > 1), limited=len(limited), rtt=rtt * 1000,
                    ideal=ideal, waits=waits, target=target, posting=posting_s, tick=tick_s, states=dict(states))
    finally:
        drop_database(handle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; {args.digests} digests to "
          f"{args.digests} channels; stub (own process): 1 post/s per channel, 10 % random 429 (Retry-After 1 s); "
          f"concurrency {args.concurrency}")
    print("\n| backend | delivered | channels posted | posted twice | 429s | one post ms | 1000×rtt÷conc s "
          "| waits÷conc s | target s (1.2×) | posting s | target met | whole tick s | ledger |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="liaison-bench-") as workdir:
        for backend in args.backends.split(","):
            r = run(backend, args, workdir)
            print(f"| {r['backend']} | {r['sent']} | {r['channels']} | {r['twice']} | {r['limited']} | {r['rtt']:.2f} "
                  f"| {r['ideal']:.2f} | {r['waits']:.2f} | {r['target']:.2f} | {r['posting']:.2f} "
                  f"| {'yes' if r['posting'] <= r['target'] else 'NO'} | {r['tick']:.2f} | {r['states']} |",
                  flush=True)


if __name__ == "__main__":
    main()
