"""Quick follow-ups after the ack that must happen within seconds (opening a modal); durable work goes to jobs."""
from __future__ import annotations

import logging
from collections.abc import Callable
import threading
from concurrent.futures import Executor, Future, wait
from typing import Any

from bot import slack
from bot.render.errors import answer_for

log = logging.getLogger(__name__)


class InlineExecutor(Executor):
    """Runs work at once, in order: the console uses it so that a transcript reads in the order things happened."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 - handed to the caller through the future, as a pool would
            future.set_exception(e)
        return future


class Outbox:
    def __init__(self, executor: Executor):
        self.executor = executor
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def later(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        future = self.executor.submit(fn, *args, **kwargs)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait for what is queued (tests, and a clean shutdown)."""
        with self._lock:
            pending = list(self._pending)
        wait(pending, timeout=timeout)

    def answer(self, response_url: str | None, work: Callable[[], dict[str, Any] | None]) -> Future[Any]:
        """Do `work` after the ack and send what it returns to the person; a failure is told, never swallowed."""

        def run() -> None:
            try:
                payload = work()
            except Exception as e:  # noqa: BLE001 - the person is told; ours are logged with the id they see
                payload, error_id = answer_for(e)
                if error_id:
                    log.exception("unexpected error %s", error_id)
            if payload:
                slack.respond(response_url, payload)

        return self.later(run)
