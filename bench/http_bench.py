"""HTTP benchmark: what a person feels, from the real app under `liaison serve`, against a floor app on the same
gunicorn settings.

For `/project create` (acks `{}`; a job answers through response_url and posts the project's card) and `/update`
(answers in the ack; a job posts the update's card with chat.postMessage), on SQLite and PostgreSQL, at each
concurrency: a burst (capacity), a steady open-loop stream at a share of that capacity, and optionally the same
stream beside CPU hogs. Reports ack p50/p99 against the floor's, and the time from sending the command until
the answer and the card arrive at the Slack stub. Targets: ack p99 <= 1.5x the floor's; in the steady stream,
answers (and cards) <= 300 ms p99.
Run by hand from the repository root:  .venv/bin/python bench/http_bench.py --hogs 2 --out bench/results.md
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import math
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlparse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


from bot import payloads  # noqa: E402
from bench.remote_stub import RemoteSlack  # noqa: E402
from bench.scratch import drop_database, scratch_database  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from storage.db import Database  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from storage.models import Job  # noqa: E402

SECRET = "bench-secret"
TEAM = "T0AGENCY"
LEAD = "U0LEAD"
LATE = 0.010  # a stream's send this far behind its schedule counts as late
ACK_RATIO_TARGET, ANSWER_TARGET_MS = 1.5, 300.0
_serial = itertools.count(1)  # makes every channel, project name and update text of a run unique
TOKEN = re.compile(r"bu\d{7}z")  # the unique word in each update's text, found again in its card


# -- requests and what came back -------------------------------------------------------------------------------------
@dataclass
class Req:
    body: str
    expect_ack: str | None = None  # a word the ack's body must contain
    answer_url: str | None = None  # the response_url path its answer arrives at (create); None: answered in the ack
    expect_answer: str | None = None
    card_channel: str | None = None  # its card is the first chat.postMessage to this channel (create)
    card_token: str | None = None  # its card is the chat.postMessage whose text holds this word (update)
    sent: float = 0.0  # time.monotonic() when sent: the stub stamps arrivals with the same clock
    ack: float = math.inf  # seconds from sending to the whole HTTP response
    ok: bool = False
    late: float = 0.0  # stream: seconds behind its scheduled send time


@dataclass
class Stats:
    n: int
    p50: float  # ms; inf when more than half never came
    p99: float
    missing: int = 0  # never came within the timeout (or came wrong)
    rate: float = 0.0  # per second

    @staticmethod
    def of(seconds: list[float], missing: int = 0, rate: float = 0.0) -> Stats:
        s = sorted(seconds)
        if not s:
            return Stats(0, math.nan, math.nan, missing, rate)
        mid = len(s) // 2
        p50 = s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
        return Stats(len(s), p50 * 1000, s[min(len(s) - 1, int(len(s) * 0.99))] * 1000, missing, rate)


@dataclass
class Row:
    backend: str
    command: str
    mode: str  # burst | stream | stream+hogs
    conc: int
    rate: float  # burst: acks/s (the capacity); stream: the send rate held
    app: Stats
    floor: Stats | None
    answer: Stats | None  # create: response_url; update/status: the ack itself
    card: Stats | None
    done_rate: float = 0.0  # answers (create) or cards (update) per second, first send to last arrival
    late: int = 0
    target_rate: float = 0.0
    other_cpu: float = 0.0  # % of the machine's CPU used by others while it ran
    notes: list[str] = field(default_factory=list)


# -- servers ---------------------------------------------------------------------------------------------------------
def job_runners(server_pid: int) -> list[int]:
    """The pids of the scheduler processes `liaison serve` (pid `server_pid`) started: they run the jobs."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{pid}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if parent == server_pid and b"scheduler" in argv:
            found.append(int(pid))
    return found


def set_policy(pids: list[int], policy: int) -> None:
    """Every thread of these processes into a CPU scheduling class (a diagnosis: the app never does this)."""
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                os.sched_setscheduler(int(tid), policy, os.sched_param(0))
            except ProcessLookupError:
                pass  # a thread that ended meanwhile


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
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class Hogs:
    """`count` CPU-bound busy loops at normal priority beside the app, until the block ends.

    They share one session of their own, as two loops started from one terminal do: Linux's autogroup scheduling
    (kernel.sched_autogroup_enabled) then shares the CPU fairly between that session and the app's, rather than
    giving each loop as much as the whole app. `apart` gives each loop a session (and so a group) of its own."""

    def __init__(self, count: int, watch: CpuWatch | None = None, apart: bool = False):
        self.count, self.apart, self.watch = count, apart, watch
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Hogs:
        loop = [sys.executable, "-c", "while True: pass"]
        together = [sys.executable, "-c", "import subprocess, sys\n"
                    f"loops = [subprocess.Popen({loop!r}) for _ in range({self.count})]\n"
                    "[p.wait() for p in loops]"]
        for argv in [loop] * self.count if self.apart else [together] if self.count else []:
            self.processes.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True))
            if self.watch:
                self.watch.sessions.add(self.processes[-1].pid)
        time.sleep(0.5)  # let them take their share before anything is measured
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.processes:  # the process groups started here (by their ids), loops and all
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        self.processes = []


class CpuWatch:
    """How much CPU went to anything but this benchmark over a stretch of time: other people's processes on the
    machine, and the hypervisor's steal. Ours are the processes of our sessions (this script and the stub, each
    server with what it started, the hogs) and the PostgreSQL backends of our scratch database."""

    def __init__(self, sessions: set[int], database: str | None):
        self.sessions, self.database = sessions, database
        self._start: tuple[float, int, dict[int, int]] | None = None

    @staticmethod
    def _busy() -> int:
        with open("/proc/stat") as f:
            user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(x) for x in f.readline().split()[1:9])
        return user + nice + system + steal

    def _ours(self) -> dict[int, int]:
        found = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat") as f:
                    stat = f.read()
                rest = stat[stat.rindex(")") + 2:].split()
                mine = int(rest[3]) in self.sessions
                if not mine and self.database and stat[stat.index("(") + 1:stat.rindex(")")] == "postgres":
                    with open(f"/proc/{name}/cmdline", "rb") as f:
                        mine = self.database.encode() in f.read()
                if mine:
                    found[int(name)] = int(rest[11]) + int(rest[12])
            except (OSError, ValueError, IndexError):
                continue
        return found

    def start(self) -> None:
        self._start = (time.monotonic(), self._busy(), self._ours())

    def wait_quiet(self, below: float, most: float) -> float:
        """Wait (at most `most` s) for a 2-second stretch in which others use less than `below` % of the CPU,
        so that a measurement doesn't start in the middle of someone else's test run. Returns the seconds waited."""
        began = time.monotonic()
        while below < 100:
            self.start()
            time.sleep(2.0)
            if self.other() < below or time.monotonic() - began > most:
                break
        return time.monotonic() - began

    def other(self) -> float:
        """Percent of the machine's CPU (all cores) used by others since start()."""
        assert self._start is not None
        began, busy, ours = self._start
        now, ours_now = time.monotonic(), self._ours()
        mine = sum(t - ours.get(pid, 0) for pid, t in ours_now.items())
        ticks = (now - began) * os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1)
        return max(0.0, (self._busy() - busy - mine) / ticks * 100) if ticks else 0.0


# -- sending ---------------------------------------------------------------------------------------------------------
class Sender:
    """One keep-alive connection to a server; `send` fills in a Req's send time, ack time and whether it was right."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, req: Req) -> None:
        headers = {"content-type": "application/x-www-form-urlencoded", **payloads.sign(SECRET, req.body)}
        req.sent = time.monotonic()
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request("POST", "/slack/events", body=req.body, headers=headers)
                response = self.conn.getresponse()
                answer = response.read().decode()
                req.ok = response.status == 200 and (req.expect_ack is None or req.expect_ack in answer)
                break
            except (OSError, http.client.HTTPException) as e:
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                stale = isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError))
                if not (stale and attempt == 1):
                    req.ok = False
                    break
                # the server closed an idle keep-alive connection: resend on a new one (timed from the first try)
        req.ack = time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()


def burst(port: int, reqs: list[Req], concurrency: int) -> float:
    """Send every request once, from `concurrency` threads each sending its next as soon as it has its ack.
    Returns the wall time."""
    queue, lock = iter(reqs), threading.Lock()

    def worker() -> None:
        sender = Sender(port)
        while True:
            with lock:
                req = next(queue, None)
            if req is None:
                break
            sender.send(req)
        sender.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def stream(port: int, reqs: list[Req], rate: float, senders: int) -> float:
    """Open loop: request i is sent at start + i/rate whatever the answers before it, by whichever of `senders`
    threads is free (so a slow ack doesn't hold the schedule). Returns the wall time."""
    lock, slots = threading.Lock(), iter(range(len(reqs)))
    start = time.perf_counter() + 0.1

    def worker() -> None:
        sender = Sender(port)
        while True:
            with lock:
                i = next(slots, None)
            if i is None:
                break
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            reqs[i].late = max(0.0, time.perf_counter() - due)
            sender.send(reqs[i])
        sender.close()

    threads = [threading.Thread(target=worker) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


# -- what arrived at the stub ----------------------------------------------------------------------------------------
class Arrivals:
    """The response_url posts and chat.postMessage calls the stub recorded, read incrementally, by what they match."""

    def __init__(self, fake: RemoteSlack):
        self.fake, self.cursor = fake, 0
        self.by_url: dict[str, tuple[float, str]] = {}
        self.by_channel: dict[str, float] = {}
        self.by_token: dict[str, float] = {}

    def poll(self) -> None:
        calls, self.cursor = self.fake.arrivals(self.cursor)
        for a in calls:
            if a.method == "response_url":
                self.by_url.setdefault(a.url, (a.at, a.text))
            elif a.method == "chat.postMessage" and not a.failed:
                self.by_channel.setdefault(a.channel, a.at)
                for token in TOKEN.findall(a.text):
                    self.by_token.setdefault(token, a.at)

    def answer_at(self, req: Req) -> tuple[float, str] | None:
        return self.by_url.get(req.answer_url) if req.answer_url else None

    def card_at(self, req: Req) -> float | None:
        if req.card_token:
            return self.by_token.get(req.card_token)
        return self.by_channel.get(req.card_channel) if req.card_channel else None

    def complete(self, req: Req) -> bool:
        return ((not req.answer_url or self.answer_at(req) is not None)
                and (not (req.card_token or req.card_channel) or self.card_at(req) is not None))

    def wait(self, reqs: list[Req], drain: float) -> bool:
        """Until every request's answer and card have come (then its jobs are done), at most `drain` s after the
        last send. True if all came."""
        deadline = max(r.sent for r in reqs) + drain
        while True:
            self.poll()
            if all(self.complete(r) for r in reqs):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.25)


class Backlog:
    """The app's job queue, in the scratch database: what is still waiting after a stream's timeout is dropped (it
    is late already, so missing), so that it doesn't load the measurements after it."""

    def __init__(self, db: Database):
        self.db = db

    def drop_unclaimed(self) -> int:
        with self.db.transaction() as session:
            return session.execute(delete(Job).where(Job.state == "queued", Job.attempts == 0)).rowcount or 0

    def pause(self, pids: list[int]) -> None:
        """Stop the job runners (SIGSTOP) at a moment none is inside an SQLite transaction: one stopped while
        writing would make every ack wait for it, one stopped while reading would keep the WAL from being reset."""
        for _ in range(200):
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            if self.db.backend != "sqlite" or not self._in_transaction(pids):
                return
            self.resume(pids)
            time.sleep(0.01)
        raise SystemExit("could not pause the job runners outside a transaction")

    @staticmethod
    def resume(pids: list[int]) -> None:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)

    def _in_transaction(self, pids: list[int]) -> bool:
        """Whether one of `pids` holds one of SQLite's WAL locks (bytes 120-127 of the -shm file: the write,
        checkpoint and recovery locks and the read marks), as Linux lists them in /proc/locks."""
        inode = os.stat(f"{self.db.engine.url.database}-shm").st_ino
        with open("/proc/locks") as f:
            for line in f:
                fields = line.split()
                if fields[1] == "->":  # a lock waiting for this one: the same columns, shifted
                    fields = fields[1:]
                pid, where, start = int(fields[4]), fields[5], fields[6]
                if pid in pids and int(where.rsplit(":", 1)[1]) == inode and start.isdigit() \
                        and 120 <= int(start) <= 127:
                    return True
        return False

    def wait_empty(self, timeout: float) -> bool:
        """Until no job is queued or running (a claimed job stays `queued` until it is done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.db.read() as session:
                if not session.scalar(select(func.count()).select_from(Job).where(Job.state == "queued")):
                    return True
            time.sleep(0.25)
        return False


def settle(arrivals: Arrivals, reqs: list[Req], timeout: float) -> tuple[Stats, Stats | None, float]:
    """Answer and card times (from sending the command). What didn't come within `timeout` is missing and counts as
    never in the percentiles (so a p99 beyond the timeout shows as such). Also the rate answers (create) or cards
    (update) were done at: how many came, over first send to last arrival."""
    answers, cards, answer_missing, card_missing, arrived = [], [], 0, 0, []
    has_answer = any(r.answer_url for r in reqs)
    has_card = any(r.card_token or r.card_channel for r in reqs)
    for r in reqs:
        if has_answer:
            got = arrivals.answer_at(r)
            wait = got[0] - r.sent if got else math.inf
            wrong = bool(got and r.expect_answer and r.expect_answer not in got[1])
            answer_missing += wait > timeout or wrong
            answers.append(math.inf if wait > timeout or wrong else wait)
        else:  # answered in the ack
            good = r.ok and r.ack <= timeout
            answer_missing += not good
            answers.append(r.ack if good else math.inf)
        if has_card:
            at = arrivals.card_at(r)
            wait = at - r.sent if at is not None else math.inf
            card_missing += wait > timeout
            cards.append(math.inf if wait > timeout else wait)
        done = arrivals.card_at(r) if has_card and not has_answer else (arrivals.answer_at(r) or (None,))[0]
        if done is not None:
            arrived.append(done)
    first = min(r.sent for r in reqs)
    rate = len(arrived) / (max(arrived) - first) if arrived and max(arrived) > first else 0.0
    return Stats.of(answers, answer_missing), Stats.of(cards, card_missing) if has_card else None, rate


# -- the requests of each command ------------------------------------------------------------------------------------
class Commands:
    def __init__(self, fake: RemoteSlack, update_channel: str):
        self.fake, self.update_channel = fake, update_channel

    def new_channels(self, count: int, members: list[str] | None = None) -> list[str]:
        channels = [f"C0BENCH{next(_serial):07d}" for _ in range(count)]
        for i in range(0, count, 2000):
            self.fake.add_channels([{"id": c, "name": c.lower(), "members": members or [LEAD]}
                                    for c in channels[i:i + 2000]])
        return channels

    def _body(self, command: str, text: str, channel: str) -> tuple[str, str]:
        url = self.fake.response_url(channel, LEAD)
        body = payloads.command(command, text, user_id=LEAD, channel_id=channel, team_id=TEAM, response_url=url)[0]
        return body, urlparse(url).path  # the stub records a response_url call by its path

    def make(self, command: str, count: int, for_floor: bool = False) -> list[Req]:
        if command == "create":
            channels = ["C0FLOOR"] * count if for_floor else self.new_channels(count)
            reqs = []
            for c in channels:
                body, path = self._body("/project", f"create Bench {next(_serial)}", c)
                reqs.append(Req(body, answer_url=None if for_floor else path, expect_answer="Created",
                                card_channel=None if for_floor else c))
            return reqs
        if command == "update":
            reqs = []
            for _ in range(count):
                token = f"bu{next(_serial):07d}z"
                body, _ = self._body("/update", f"{token} shipped the home page", self.update_channel)
                reqs.append(Req(body, expect_ack=None if for_floor else "Logged update",
                                card_token=None if for_floor else token))
            return reqs
        if command == "status":
            return [Req(self._body("/project", "status", self.update_channel)[0],
                        expect_ack=None if for_floor else "Bench Updates") for _ in range(count)]
        raise SystemExit(f"unknown command {command!r}")


# -- one backend -----------------------------------------------------------------------------------------------------
def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_backend(backend: str, args: argparse.Namespace, fake: RemoteSlack) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="liaison-bench-") as workdir:
        url, handle = scratch_database(backend, args.pg_url, workdir)
        processes, db = [], None
        try:
            db = Database(url)
            upgrade_to_head(db.engine)
            backlog = Backlog(db)
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

            sessions = {os.getsid(0), *(p.pid for p in processes)}
            watch = CpuWatch(sessions, handle[1] if handle else None)
            arrivals = Arrivals(fake)
            arrivals.poll()
            # The project /update logs to: created through the app, its requester (LEAD) its lead.
            cmds = Commands(fake, "")
            [channel] = cmds.new_channels(1, [LEAD, "U0TEAM"])
            cmds.update_channel = channel
            body, path = cmds._body("/project", "create Bench Updates", channel)
            setup = [Req(body, answer_url=path, expect_answer="Created", card_channel=channel)]
            burst(app_port, setup, 1)
            if not arrivals.wait(setup, 60) or "Created" not in arrivals.answer_at(setup[0])[1]:
                raise SystemExit(f"{backend}: the project for /update was not created: {arrivals.answer_at(setup[0])}")
            # Warm both servers up: every worker has imported, connected and cached what it keeps.
            for command in args.commands:
                warm = cmds.make(command, 30)
                burst(app_port, warm, 4)
                if not all(r.ok for r in warm):
                    raise SystemExit(f"{backend}: warm-up {command} failed (ack did not say {warm[0].expect_ack!r})")
                arrivals.wait(warm, 60)
                burst(floor_port, cmds.make(command, 30, for_floor=True), 4)

            def measured(run: Callable[[], Row]) -> Row:
                """The cell measured again (at most --retries times) while others took much of the CPU; the run
                they disturbed least is kept."""
                best = None
                for attempt in range(args.retries + 1):
                    row = run()
                    best = row if best is None or row.other_cpu < best.other_cpu else best
                    if row.other_cpu <= args.retry_above:
                        break
                    if attempt < args.retries:
                        log(f"others took {row.other_cpu:.0f} % of the CPU during it: measuring it again")
                if attempt:
                    best.notes.append(f"least disturbed of {attempt + 1} runs")
                return best

            for conc in args.concurrency:
                for command in args.commands:
                    capacity = 0.0
                    if {"burst", "stream", "paused", "idle"} & set(args.modes):
                        row = measured(partial(run_burst, backend, command, conc, args, cmds, arrivals, app_port,
                                               floor_port, watch))
                        capacity = row.rate if args.rate_basis == "ack" else min(row.rate, row.done_rate or row.rate)
                        if "burst" in args.modes:
                            rows.append(row)
                    rate = args.load * capacity
                    if "stream" in args.modes:
                        for hogs in (0, args.hogs) if args.hogs else (0,):
                            rows.append(measured(partial(
                                run_stream, backend, command, conc, rate, args, cmds, arrivals, app_port, floor_port,
                                watch, backlog, hogs=hogs)))
                    if "paused" in args.modes:
                        rows.append(measured(partial(
                            run_stream, backend, command, conc, rate, args, cmds, arrivals, app_port, floor_port,
                            watch, backlog, hogs=0, paused=job_runners(processes[0].pid))))
                    if "idle" in args.modes:
                        rows.append(measured(partial(
                            run_stream, backend, command, conc, rate, args, cmds, arrivals, app_port, floor_port,
                            watch, backlog, hogs=0, idle=job_runners(processes[0].pid))))
        finally:
            for process in processes:
                stop(process)
            if db is not None:
                db.dispose()
            drop_database(handle)
    return rows


def quiet(watch: CpuWatch, args: argparse.Namespace) -> None:
    waited = watch.wait_quiet(args.quiet_below, args.quiet_wait)
    if waited > 3:
        log(f"waited {waited:.0f} s for others to leave the CPU")


def run_burst(backend: str, command: str, conc: int, args: argparse.Namespace, cmds: Commands,
              arrivals: Arrivals, app_port: int, floor_port: int, watch: CpuWatch) -> Row:
    quiet(watch, args)
    watch.start()
    apps: list[Req] = []
    floors: list[Req] = []
    wall = 0.0
    done_rates, notes = [], []
    for _ in range(args.repeat):  # app and floor interleaved, so drift hits both alike
        reqs = cmds.make(command, args.requests)
        wall += burst(app_port, reqs, conc)
        # The app's work after the ack is done before the floor runs on the same machine.
        if not arrivals.wait(reqs, args.drain):
            notes.append(f"backlog not drained in {args.drain:.0f} s")
        apps += reqs
        _, _, done = settle(arrivals, reqs, math.inf)
        done_rates.append(done)
        floor = cmds.make(command, args.requests, for_floor=True)
        burst(floor_port, floor, conc)
        floors += floor
    answer, card, _ = settle(arrivals, apps, math.inf)  # a burst's answers queue: no timeout but the drain
    row = Row(backend, command, "burst", conc, len(apps) / wall, ack_stats(apps), ack_stats(floors), answer, card,
              done_rate=sum(done_rates) / len(done_rates), notes=notes, other_cpu=watch.other())
    log(f"{backend} {command} burst c={conc}: {row.rate:.0f} req/s, ack p99 {row.app.p99:.1f} ms, "
        f"answers/cards done {row.done_rate:.0f}/s; other CPU {row.other_cpu:.0f} %")
    return row


def run_stream(backend: str, command: str, conc: int, rate: float, args: argparse.Namespace, cmds: Commands,
               arrivals: Arrivals, app_port: int, floor_port: int, watch: CpuWatch, backlog: Backlog,
               hogs: int, paused: list[int] | None = None, idle: list[int] | None = None) -> Row:
    """`paused`: the job runners' pids, stopped while the app's stream is sent (its work after the ack waits
    until the stream is over): what the acks cost without that work beside them, on the same load. `idle`: the
    job runners' pids, in the idle scheduling class while the app's stream is sent (they still do all the work,
    on the CPU the acks leave): whether what the acks share with them is the CPU."""
    count = max(1, round(rate * args.duration))
    senders = max(conc, args.senders)
    reqs = cmds.make(command, count)
    floor = cmds.make(command, count, for_floor=True)
    notes = []
    quiet(watch, args)
    watch.start()
    with Hogs(hogs, watch, apart=args.hogs_apart):
        if paused:
            backlog.pause(paused)
        set_policy(idle or [], os.SCHED_IDLE)
        try:
            wall = stream(app_port, reqs, rate, senders)
        finally:
            backlog.resume(paused or [])
            set_policy(idle or [], os.SCHED_OTHER)
        if paused is not None:
            if not arrivals.wait(reqs, args.drain):  # the work held back is done before the floor runs
                notes.append(f"work held back not done {args.drain:.0f} s after the stream")
        elif not arrivals.wait(reqs, args.answer_timeout):  # what hasn't come by now is counted missing
            dropped = backlog.drop_unclaimed()
            if dropped:
                notes.append(f"{dropped} jobs still queued {args.answer_timeout:.0f} s after the last send, dropped")
            if not backlog.wait_empty(args.drain):
                notes.append(f"jobs still running {args.drain:.0f} s after the last send")
            arrivals.poll()
        stream(floor_port, floor, rate, senders)
        other = watch.other()
    answer, card, done = settle(arrivals, reqs, args.answer_timeout)
    mode = f"stream+{hogs} hogs" if hogs else "stream, runner idle" if idle else "stream"
    if paused is not None:  # answers and cards waited for the runner on purpose: not measured
        mode, answer, card, done = "stream, runner paused", (answer if command != "create" else None), None, 0.0
    row = Row(backend, command, mode, conc, count / wall, ack_stats(reqs), ack_stats(floor), answer, card,
              done_rate=done, late=sum(r.late > LATE for r in reqs), target_rate=rate, notes=notes, other_cpu=other)
    card_p99 = fmt(row.card.p99, timeout=args.answer_timeout) if row.card else "–"
    answer_p99 = fmt(row.answer.p99, timeout=args.answer_timeout) if row.answer else "–"
    log(f"{backend} {command} {mode} c={conc} at {rate:.0f}/s: ack p99 {row.app.p99:.1f} ms, answer p99 "
        f"{answer_p99} ms, card p99 {card_p99} ms, missing "
        f"{row.answer.missing if row.answer else 0}/{row.card.missing if row.card else 0}; "
        f"other CPU {row.other_cpu:.0f} %")
    return row


def ack_stats(reqs: list[Req]) -> Stats:
    return Stats.of([r.ack if r.ok else math.inf for r in reqs], sum(not r.ok for r in reqs))


# -- the table -------------------------------------------------------------------------------------------------------
def fmt(ms: float, digits: int = 1, timeout: float = math.inf) -> str:
    if math.isnan(ms):
        return "–"
    if math.isinf(ms):
        return f"> {timeout * 1000:.0f}" if timeout < math.inf else "never"
    return f"{ms:.{digits}f}"


def table(rows: list[Row], timeout: float) -> str:
    head = ("| backend | command | mode | conc | req/s | ack p50 | ack p99 | floor p50 | floor p99 | p99 ×floor "
            "| answer p50 | answer p99 | card p50 | card p99 | done/s | missing | late | other CPU | targets |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        wait = math.inf if r.mode == "burst" else timeout  # a burst's answers may queue past the timeout

        def ms(s: Stats | None, which: str) -> str:
            return "–" if s is None else fmt(getattr(s, which), timeout=wait)  # noqa: B023

        ratio = r.app.p99 / r.floor.p99 if r.floor and r.floor.p99 else math.nan
        checks = [f"ack {'✓' if ratio <= ACK_RATIO_TARGET else '✗'}"]
        if r.mode != "burst":
            for name, s in (("answer", r.answer), ("card", r.card)):
                if s is not None:
                    checks.append(f"{name} {'✓' if s.p99 <= ANSWER_TARGET_MS and not s.missing else '✗'}")
        rate = f"{r.rate:.0f}" if r.mode == "burst" else f"{r.rate:.0f} of {r.target_rate:.0f}"
        missing = "/".join(str(s.missing) for s in (r.app, r.answer, r.card) if s is not None)
        cmd = {"create": "/project create", "update": "/update", "status": "/project status"}[r.command]
        notes = f" ({'; '.join(r.notes)})" if r.notes else ""
        done = f"{r.done_rate:.0f}" if r.command != "status" and r.card is not None else "–"
        late = str(r.late) if r.mode != "burst" else "–"
        lines.append(
            f"| {r.backend} | `{cmd}` | {r.mode} | {r.conc} | {rate} | {ms(r.app, 'p50')} | {ms(r.app, 'p99')} "
            f"| {ms(r.floor, 'p50')} | {ms(r.floor, 'p99')} | {fmt(ratio, 2)} "
            f"| {ms(r.answer, 'p50')} | {ms(r.answer, 'p99')} | {ms(r.card, 'p50')} | {ms(r.card, 'p99')} "
            f"| {done} | {missing} | {late} | {r.other_cpu:.0f} % "
            f"| {', '.join(checks)}{notes} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--commands", default="create,update", help="create, update, status (ack only)")
    parser.add_argument("--modes", default="burst,stream",
                        help="burst, stream (a stream measures a burst first), paused (the stream again with the "
                             "app's job runner stopped while it is sent: the acks without the work after them), "
                             "idle (the stream again with the job runner in the idle CPU class: do the acks share "
                             "the CPU with it?)")
    parser.add_argument("--requests", type=int, default=400, help="requests per burst")
    parser.add_argument("--repeat", type=int, default=1, help="bursts per cell, app and floor interleaved")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of each steady stream")
    parser.add_argument("--load", type=float, default=0.5, help="stream rate as a share of the app's capacity")
    parser.add_argument("--rate-basis", choices=("ack", "answers"), default="answers",
                        help="the capacity a stream's rate is a share of: the rate at which the burst's requests "
                             "were done, answers (create) or cards (update) included (default), or its acks/s")
    parser.add_argument("--quiet-below", type=float, default=15.0,
                        help="before each measurement, wait for others to use less than this %% of the CPU "
                             "(100: don't wait)")
    parser.add_argument("--quiet-wait", type=float, default=60.0, help="but no longer than this many seconds")
    parser.add_argument("--retry-above", type=float, default=20.0,
                        help="measure a cell again if others used more than this %% of the CPU during it")
    parser.add_argument("--retries", type=int, default=1, help="at most this many times (keeping the best run)")
    parser.add_argument("--senders", type=int, default=32, help="threads a stream may send from (at least conc)")
    parser.add_argument("--hogs", type=int, default=0, help="also run each stream beside this many busy loops")
    parser.add_argument("--hogs-apart", action="store_true",
                        help="each busy loop in a session (an autogroup) of its own, not one for all")
    parser.add_argument("--answer-timeout", type=float, default=10.0,
                        help="an answer or card later than this (s after sending) counts as missing")
    parser.add_argument("--drain", type=float, default=300.0,
                        help="seconds to wait after the last send for queued work before going on")
    parser.add_argument("--stub-priority", default="normal",
                        help="the Slack stub's CPU priority: normal (default), idle, or a nice value such as -5")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--out", help="also write the table (markdown) to this file")
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.commands = args.commands.split(",")
    args.modes = args.modes.split(",")

    started = time.monotonic()
    header = (f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; server: gunicorn gthread, "
              f"{args.workers} workers x {args.threads} threads; bursts: {args.repeat} x {args.requests} requests; "
              f"streams: {args.duration:.0f} s at {args.load:.0%} of the burst's "
              f"{'req/s' if args.rate_basis == 'ack' else 'answers/s'}, open loop, up to "
              f"{args.senders} senders; hogs: {args.hogs}{' (apart)' if args.hogs_apart else ''}; "
              f"answer timeout {args.answer_timeout:.0f} s; "
              f"Slack Web API: local stub in its own process, priority {args.stub_priority}")
    print(header, file=sys.stderr, flush=True)
    rows = []
    with RemoteSlack(args.stub_priority) as fake:
        for backend in args.backends.split(","):
            rows += bench_backend(backend, args, fake)
    elapsed = time.monotonic() - started
    command = " ".join(["bench/http_bench.py", *sys.argv[1:]])
    out = (f"`{command}`\n\n{header}\n\n{table(rows, args.answer_timeout)}\n\n"
           f"Times in ms. Total runtime {elapsed / 60:.1f} min.\n")
    print("\n" + out)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(out)


if __name__ == "__main__":
    main()
