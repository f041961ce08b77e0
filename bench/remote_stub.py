"""The Slack stub in a process of its own, as Slack's servers are: its work doesn't share the benchmark's CPU
time slices with the client threads that measure. Same interface as the in-process FakeSlack that benchmarks use."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import urllib.request
from typing import Any

from bot.fake_slack import Call

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def lowest_priority() -> None:
    """The stub stands in for Slack's servers, whose work doesn't run on our machine: it gets what CPU is left."""
    os.nice(19)
    if hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass


class RemoteSlack:
    def __init__(self) -> None:
        self._process = subprocess.Popen([sys.executable, "-m", "bot.fake_slack"], cwd=ROOT, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, preexec_fn=lowest_priority)
        assert self._process.stdout is not None
        self.base_url = self._process.stdout.readline().strip()
        self._root = self.base_url.removesuffix("/api/")
        self._ids = itertools.count(1)

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
