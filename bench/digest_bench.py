"""Digest composition benchmark: 2,000 projects with a year of history each, on SQLite and PostgreSQL.

Each project: an internal and a client channel, a lead, 50 updates and 12 milestones spread over the past year,
and a year of weekly digests in the delivery ledger. Composes and renders both digests (internal and client)
of every project, as the scheduler does (batches of 200), and reports ms per project and SQL statements per
project, counted with SQLAlchemy's before_cursor_execute. A second run with a tenth of the history shows the
statement count does not depend on it (no N+1). Target: <= 2 ms per project.
Run by hand from the repository root:  .venv/bin/python bench/digest_bench.py
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import event, insert, text  # noqa: E402

from bot.render.digests import digest_message  # noqa: E402
from bot.services.digests import compose  # noqa: E402
from scheduler.digests import COMPOSE_BATCH  # noqa: E402
from scheduler.kinds import KINDS  # noqa: E402
from scheduler.plan import plan  # noqa: E402
from storage.db import Database  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scratch import drop_database, scratch_database  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from storage.models import Delivery, Member, Milestone, Project, ProjectChannel, Update, Workspace  # noqa: E402

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
TEAM = "T0BENCH"


def seed(db: Database, projects: int, updates: int, milestones: int) -> list[int]:
    rng = random.Random(1)
    year_ago = NOW - timedelta(days=365)
    with db.transaction() as s:
        s.execute(insert(Workspace), [{"team_id": TEAM, "name": "bench", "created_at": year_ago}])
        s.execute(insert(Project), [dict(
            team_id=TEAM, key=f"p{i:05d}", name=f"Project {i}", client_name=f"Client {i}", timezone="Europe/London",
            created_by="U0LEAD", created_at=year_ago, digest_schedule="weekly mon 09:00",
        ) for i in range(projects)])
    with db.read() as s:
        ids = [pid for (pid,) in s.execute(text("SELECT id FROM projects ORDER BY id"))]
    with db.transaction() as s:
        s.execute(insert(ProjectChannel), [dict(
            team_id=TEAM, project_id=pid, channel_id=f"C{pid:07d}{a[0].upper()}", name=f"ch-{pid}-{a}", audience=a,
            is_archived=False, bound_by="U0LEAD", bound_at=year_ago,
        ) for pid in ids for a in ("internal", "client")])
        s.execute(insert(Member), [dict(project_id=pid, user_id="U0LEAD", role="lead", added_by="U0LEAD",
                                        added_at=year_ago) for pid in ids])
        s.execute(insert(Update), [dict(
            project_id=pid, author_id="U0TEAM", logged_by="U0TEAM", text=f"Update {n} on project {pid}: " + "x" * 120,
            health=rng.choice(["green", "amber", None]), progress=min(100, n * 2), source="command",
            visibility=rng.choice(["internal", "client"]), channel_id=f"C{pid:07d}I",
            created_at=year_ago + timedelta(days=365 * (n + 1) / (updates + 1)),
        ) for pid in ids for n in range(updates)])
        s.execute(insert(Milestone), [dict(
            project_id=pid, name=f"Milestone {n}", due_date=(year_ago + timedelta(days=30 * (n + 1))).date(),
            owner_id="U0TEAM", visibility="client" if n % 3 else "internal", created_by="U0LEAD",
            created_at=year_ago, done_at=(year_ago + timedelta(days=30 * (n + 1))) if n < milestones - 3 else None,
        ) for pid in ids for n in range(milestones)])
        weeks = [NOW - timedelta(weeks=w) for w in range(1, 53)]
        s.execute(insert(Delivery), [dict(
            project_id=pid, kind=f"digest.{a}", occurrence=at.strftime("%Y-%m-%dT%H:%MZ"),
            channel_id=f"C{pid:07d}{a[0].upper()}", due_at=at, state="sent", attempts=1, sent_at=at,
        ) for pid in ids for a in ("internal", "client") for at in weeks])
    return ids


def measure(db: Database, ids: list[int]) -> tuple[float, int, int]:
    statements = [0]

    def count(*_: object) -> None:
        statements[0] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        blocks = 0
        with db.read() as session:
            for start in range(0, len(ids), COMPOSE_BATCH):
                for digest in compose(session, ids[start:start + COMPOSE_BATCH], NOW).values():
                    blocks += len(digest_message(digest)["blocks"])
        elapsed = time.perf_counter() - started
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return elapsed, statements[0], blocks


def planning(db: Database) -> float:
    """What each scheduler tick (every 30 s) does before it sends anything: which occurrence of every scheduled
    kind is due for every project. Runs in the scheduler process beside the job runner; the median of 5, in ms."""
    times = []
    for _ in range(5):
        started = time.perf_counter()
        with db.read() as session:
            plan(session, NOW, timedelta(hours=6), KINDS)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; {args.projects} projects; "
          f"both digests (internal and client) composed and rendered per project; batches of {COMPOSE_BATCH}")
    print("\n| backend | history per project | total s | ms per project | SQL statements | statements per "
          "project | blocks rendered | target ≤ 2 ms met | a tick's planning, ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="liaison-bench-") as workdir:
        for backend in args.backends.split(","):
            for updates, milestones in ((50, 12), (5, 12)):
                url, handle = scratch_database(backend, args.pg_url, workdir)
                try:
                    db = Database(url)
                    upgrade_to_head(db.engine)
                    ids = seed(db, args.projects, updates, milestones)
                    if backend == "postgresql":  # planner statistics, as autovacuum keeps them on a live database
                        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                            conn.execute(text("ANALYZE"))
                    db.dispose()  # closing folds SQLite's bulk-load write-ahead log in, as checkpoints would
                    db = Database(url)
                    measure(db, ids[:COMPOSE_BATCH])  # warm caches and compiled statements
                    elapsed, statements, blocks = measure(db, ids)
                    per = elapsed * 1000 / len(ids)
                    print(f"| {backend} | {updates} updates, {milestones} milestones, 104 digests | {elapsed:.2f} "
                          f"| {per:.2f} | {statements} | {statements / len(ids):.3f} | {blocks} "
                          f"| {'yes' if per <= 2 else 'NO'} | {planning(db):.0f} |", flush=True)
                    db.dispose()
                finally:
                    drop_database(handle)


if __name__ == "__main__":
    main()
