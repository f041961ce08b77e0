"""HTTP benchmark: the real app under `liaison serve` against a floor app on the same gunicorn settings.

Drives both with signed `/project status` and `/project create` requests at several concurrencies, on SQLite
and PostgreSQL, and prints requests/s, p50 and p99 for each with the ratios. Target: p50 <= 1.3x, p99 <= 1.5x.
Run by hand from the repository root:  .venv/bin/python bench/http_bench.py
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import parse_qsl
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


from bot import payloads  # noqa: E402
from bench.remote_stub import RemoteSlack as FakeSlack  # noqa: E402
from bench.scratch import drop_database, scratch_database  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402

SECRET = "bench-secret"
TEAM = "T0AGENCY"
_channels = itertools.count(1)


@dataclass
class Result:
    rps: float
    p50: float
    p99: float
    failures: int
    samples: list[float] = field(default_factory=list, repr=False)  # seconds, for pooling repeated runs
    wall: float = 0.0


def pooled(results: list[Result]) -> Result:
    """Runs of one cell taken together: all their samples, their total time."""
    samples = [x for r in results for x in r.samples]
    wall = sum(r.wall for r in results)
    return Result(len(samples) / wall, *percentiles(samples), sum(r.failures for r in results), samples, wall)


def percentiles(latencies: list[float]) -> tuple[float, float]:
    latencies = sorted(latencies)
    return statistics.median(latencies) * 1000, latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(argv: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise SystemExit(f"server {argv} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def drive(port: int, bodies: list[str], concurrency: int, expect: str | None,
          sent: dict[str, float] | None = None) -> Result:
    """Send every body once, from `concurrency` threads each keeping one connection alive."""
    queue = iter(bodies)
    lock = threading.Lock()
    latencies: list[float] = []
    failures = [0]

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                body = next(queue, None)
            if body is None:
                break
            headers = {"content-type": "application/x-www-form-urlencoded", **payloads.sign(SECRET, body)}
            started = time.perf_counter()
            if sent is not None:
                sent[body] = time.monotonic()
            try:
                conn.request("POST", "/slack/events", body=body, headers=headers)
                response = conn.getresponse()
                answer = response.read().decode()
                ok = response.status == 200 and (expect is None or expect in answer)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                failures[0] += not ok
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return Result(len(bodies) / wall, *percentiles(latencies), failures[0], latencies, wall)


def answered(fake: FakeSlack, sent: dict[str, float], expect: str) -> Result:
    """For work done after the ack: wait for each request's response_url answer; time from sending to answer."""
    urls = {dict(parse_qsl(body))["response_url"].split("/response/", 1)[1]: at for body, at in sent.items()}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        calls = {c.url.split("/response/", 1)[1]: c for c in fake.calls_to("response_url")}
        if all(u in calls for u in urls):
            break
        time.sleep(0.25)
    waits = [calls[u].at - at for u, at in urls.items() if u in calls]
    wrong = sum(1 for u in urls if u not in calls or expect not in str(calls[u].args))
    span = max(c.at for u, c in calls.items() if u in urls) - min(urls.values())
    return Result(len(urls) / span, *percentiles(waits), wrong, waits, span)


def command(fake: FakeSlack, text_: str, channel: str) -> str:
    return payloads.command("/project", text_, user_id="U0LEAD", channel_id=channel, team_id=TEAM,
                            response_url=fake.response_url(channel, "U0LEAD"))[0]


def new_channels(fake: FakeSlack, count: int) -> list[str]:
    channels = [f"C0BENCH{next(_channels):06d}" for _ in range(count)]
    fake.add_channels([{"id": c, "name": c.lower()} for c in channels])
    return channels


def bench_backend(backend: str, args: argparse.Namespace, fake: FakeSlack) -> list[tuple]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="liaison-bench-") as workdir:
        url, handle = scratch_database(backend, args.pg_url, workdir)
        processes = []
        try:
            upgrade_to_head(Database(url).engine)
            env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
                   "DATABASE_URL": url, "SLACK_API_URL": fake.base_url, "LIAISON_TIMEZONE": "UTC",
                   "LIAISON_ENV_FILE": "/nonexistent/.env"}
            app_port, floor_port = free_port(), free_port()
            sizes = [str(args.workers), str(args.threads)]
            processes.append(start_server(
                [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(app_port),
                 "--workers", sizes[0], "--threads", sizes[1]], env, app_port))
            processes.append(start_server(
                [sys.executable, "bench/floor_app.py", str(floor_port), *sizes], env, floor_port))

            [status_channel] = new_channels(fake, 1)
            warm = [command(fake, "create Bench Status", status_channel)]
            warm += [command(fake, "status", status_channel)] * 40
            drive(app_port, warm[:1], 1, None)
            deadline = time.monotonic() + 30
            while drive(app_port, warm[1:2], 1, "Bench Status").failures and time.monotonic() < deadline:
                time.sleep(0.1)  # the project is created after the ack, by the scheduler process
            drive(app_port, warm, 4, None)
            drive(floor_port, warm, 4, None)

            for conc in args.concurrency:
                for name in ("status", "create"):
                    apps, floors, answers = [], [], []
                    for rep in range(args.repeat):  # app and floor interleaved, so drift hits both alike
                        if name == "status":
                            bodies = [command(fake, "status", status_channel)] * args.requests
                            apps.append(drive(app_port, bodies, conc, "Bench Status"))
                        else:
                            channels = new_channels(fake, args.requests)
                            bodies = [command(fake, f"create Bench {conc}x{rep}x{i}", c)
                                      for i, c in enumerate(channels)]
                            sent: dict[str, float] = {}
                            apps.append(drive(app_port, bodies, conc, None, sent))
                            # The app's work after the ack finishes before the floor runs on the same machine.
                            answers.append(answered(fake, sent, "Created"))
                        floors.append(drive(floor_port, bodies, conc, None))
                    rows.append((backend, f"/project {name}", conc, pooled(apps), pooled(floors),
                                 pooled(answers) if answers else None))
                    print(f"  measured {backend} {name} c={conc}", file=sys.stderr)
        finally:
            for process in processes:
                stop(process)
            drop_database(handle)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell, app and floor interleaved")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]

    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; server: gunicorn gthread, "
          f"{args.workers} workers x {args.threads} threads; {args.repeat} runs of {args.requests} requests per "
          "cell, app and floor interleaved; "
          "Slack Web API: local stub in its own process")
    rows = []
    with FakeSlack() as fake:
        for backend in args.backends.split(","):
            rows += bench_backend(backend, args, fake)

    print("\nAck: the HTTP response Slack waits for (must come within 3 s).")
    print("\n| backend | command | conc | app req/s | app p50 ms | app p99 ms | floor req/s | floor p50 ms "
          "| floor p99 ms | p50 ratio | p99 ratio | target met | failures |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for backend, name, conc, app, floor, _ in rows:
        r50, r99 = app.p50 / floor.p50, app.p99 / floor.p99
        met = "yes" if r50 <= 1.3 and r99 <= 1.5 else "NO"
        print(f"| {backend} | `{name}` | {conc} | {app.rps:.0f} | {app.p50:.2f} | {app.p99:.2f} | {floor.rps:.0f} "
              f"| {floor.p50:.2f} | {floor.p99:.2f} | {r50:.2f} | {r99:.2f} | {met} | {app.failures + floor.failures} |")
    print("\n`/project create` answers after the ack (channel lookup, 4 inserts + audit, channel post, then the "
          "response_url answer): time from sending the command to that answer, against the floor's ack.")
    print("\n| backend | conc | answers/s | answer p50 ms | answer p99 ms | floor p50 ms | floor p99 ms | wrong |")
    print("|---|---|---|---|---|---|---|---|")
    for backend, name, conc, _, floor, answer in rows:
        if answer:
            print(f"| {backend} | {conc} | {answer.rps:.0f} | {answer.p50:.2f} | {answer.p99:.2f} | {floor.p50:.2f} "
                  f"| {floor.p99:.2f} | {answer.failures} |")


if __name__ == "__main__":
    main()
