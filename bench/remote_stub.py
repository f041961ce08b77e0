"""The Slack stub in a process of its own, as Slack's servers are: its work doesn't share the benchmark's CPU
time slices with the client threads that measure. Same interface as the in-process FakeSlack that benchmarks use.

Run as `python -m bench.remote_stub` (RemoteSlack does): the stub of `bot.fake_slack` plus one control,
`arrivals`, that hands out only the calls recorded since a cursor, slimmed to what a benchmark matches on
(method, URL, channel, text, arrival time). Arrival times are the stub's `time.monotonic()` when it read the
request (CLOCK_MONOTONIC is one clock for every process on the machine, so the benchmark compares them with its
own `time.monotonic()` when it sent the command)."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bot import fake_slack  # noqa: E402
from bot.fake_slack import Call, FakeSlack  # noqa: E402


def lowest_priority() -> None:
    """The stub stands in for Slack's servers, whose work doesn't run on our machine: it gets what CPU is left."""
    os.nice(19)
    if hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass


def _niceness(value: int):  # noqa: ANN202
    def apply() -> None:
        try:
            os.nice(value)
        except OSError:  # raising priority needs privileges; stay at normal priority then
            pass
    return apply


@dataclass(frozen=True)
class Arrival:
    method: str
    url: str  # path of a response_url call ("/response/C.../U.../r12"), else ""
    channel: str
    text: str
    at: float  # the stub's time.monotonic() when it read the request
    failed: str | None


class RemoteSlack:
    def __init__(self, priority: str | int = "idle") -> None:
        """`priority`: "idle" (nice 19 and SCHED_IDLE: only CPU nobody else wants), "normal", or a nice value
        (negative values need root; without it the stub stays at normal priority)."""
        if priority == "idle":
            preexec = lowest_priority
        elif priority == "normal":
            preexec = None
        else:
            preexec = _niceness(int(priority))
        self.priority = priority
        self._process = subprocess.Popen([sys.executable, "-m", "bench.remote_stub"], cwd=ROOT,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                         preexec_fn=preexec)
        assert self._process.stdout is not None
        self.base_url = self._process.stdout.readline().strip()
        self._root = self.base_url.removesuffix("/api/")
        self._ids = itertools.count(1)

    @property
    def pid(self) -> int:
        return self._process.pid

    def __enter__(self) -> RemoteSlack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            self._process.wait(timeout=10)

    def _control(self, what: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(f"{self._root}/_control/{what}", data=json.dumps(body or {}).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def response_url(self, channel_id: str, user_id: str) -> str:
        return f"{self._root}/response/{channel_id}/{user_id}/r{next(self._ids)}"

    def add_channels(self, channels: list[dict[str, Any]]) -> None:
        self._control("channels", {"channels": channels})

    def shape(self, **settings: float) -> None:
        self._control("shape", settings)

    def clear(self) -> None:
        self._control("clear")

    def calls_to(self, method: str) -> list[Call]:
        return [Call(**c) for c in self._control("calls", {"method": method})]

    def arrivals(self, after: int, methods: tuple[str, ...] = ("response_url", "chat.postMessage")
                 ) -> tuple[list[Arrival], int]:
        """Calls to `methods` recorded since cursor `after` (0: from the start), and the cursor to ask from next.
        Don't mix with clear(), which restarts the record (and so the cursor)."""
        found = self._control("arrivals", {"after": after, "methods": list(methods)})
        return [Arrival(*a) for a in found["calls"]], found["next"]


class _Stub(FakeSlack):
    """The stub with the `arrivals` control (served in the stub's own process)."""

    def _control(self, request: BaseHTTPRequestHandler, what: str, args: dict[str, Any]) -> None:
        if what != "arrivals":
            return super()._control(request, what, args)
        after, methods = int(args.get("after", 0)), set(args.get("methods") or ())
        with self._cond:
            calls, cursor = self.calls[after:], len(self.calls)
        body = {"next": cursor, "calls": [
            [c.method, c.url, str(c.args.get("channel", "")), str(c.args.get("text", "")), c.at, c.failed]
            for c in calls if not methods or c.method in methods]}
        self._reply(request, 200, json.dumps(body).encode(), "application/json")


if __name__ == "__main__":
    fake_slack.main(_Stub)
