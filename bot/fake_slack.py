"""A stand-in for Slack's Web API served over real HTTP on loopback: the console's Slack and the tests' only fake.

It answers the methods Liaison calls the way Slack does, records every call, and can be told to fail.
"""
from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

_JSON_FIELDS = ("blocks", "view", "attachments")
_Answer = tuple[int, dict[str, Any], dict[str, str], str | None]  # HTTP status, body, extra headers, Call.failed


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    url: str = ""
    at: float = 0.0
    failed: str | None = None  # "429", "500", or the error code Slack answered with
    ts: str | None = None  # of the message a chat.postMessage made


@dataclass
class User:
    id: str
    name: str
    team_id: str
    real_name: str = ""
    is_stranger: bool = False
    is_bot: bool = False
    tz: str = "Europe/London"
    deleted: bool = False


@dataclass
class Channel:
    id: str
    name: str
    is_ext_shared: bool = False
    is_private: bool = False
    is_archived: bool = False
    bot_is_member: bool = True
    members: list[str] = field(default_factory=list)  # the people in it (conversations.members)


@dataclass
class World:
    team_id: str = "T0AGENCY"
    team_name: str = "Agency"
    bot_user_id: str = "U0LIAISON"
    bot_id: str = "B0LIAISON"
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)

    def add_user(self, **kw: Any) -> User:
        kw.setdefault("team_id", self.team_id)
        user = User(**kw)
        self.users[user.id] = user
        return user

    def add_channel(self, **kw: Any) -> Channel:
        channel = Channel(**kw)
        self.channels[channel.id] = channel
        return channel

    @classmethod
    def demo(cls) -> World:
        world = cls()
        world.add_user(id="U0LEAD", name="alex", real_name="Alex Lead")
        world.add_user(id="U0TEAM", name="sam", real_name="Sam Team")
        world.add_user(id="U0CLIENT", name="casey", real_name="Casey Client", team_id="T0CLIENT")
        world.add_user(id="U0OTHER", name="pat", real_name="Pat Elsewhere")  # our organisation, on no project
        world.add_channel(id="C0INTERNAL", name="acme-internal", members=["U0LEAD", "U0TEAM"])
        world.add_channel(id="C0SHARED", name="acme-shared", is_ext_shared=True,
                          members=["U0LEAD", "U0TEAM", "U0CLIENT"])
        world.add_channel(id="C0GENERAL", name="general", members=["U0LEAD", "U0TEAM", "U0OTHER"])
        return world


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: int | None
    times: int


def _read_args(request: BaseHTTPRequestHandler, query: str) -> dict[str, Any]:
    """Query string plus form or JSON body; raises ValueError on a body that is not a JSON object."""
    length = int(request.headers.get("Content-Length") or 0)
    raw = request.rfile.read(length).decode() if length else ""
    args: dict[str, Any] = dict(parse_qsl(query))
    if raw and "json" in (request.headers.get("Content-Type") or ""):
        body = json.loads(raw)
        if not isinstance(body, dict):
            raise ValueError("not a JSON object")
        args.update(body)
    elif raw:
        args.update(parse_qsl(raw, keep_blank_values=True))
    # Form-encoded clients send these as JSON strings; tests want to look inside them either way.
    for key in _JSON_FIELDS:
        if isinstance(args.get(key), str):
            try:
                args[key] = json.loads(args[key])
            except ValueError:
                pass
    return args


class FakeSlack:
    def __init__(self, world: World | None = None):
        self.world = world or World.demo()
        self.calls: list[Call] = []
        self.base_url = ""
        # Load shaping for benchmarks; all off by default.
        self.per_channel_interval = 0.0
        self.random_429_rate = 0.0
        self.latency = 0.0
        self.rng = random.Random(7)
        self.socket_url = "ws://127.0.0.1:1/"  # where apps.connections.open sends Socket Mode clients
        self._faults: dict[str, list[_Fault]] = {}
        self._last_post: dict[str, float] = {}
        self._views: dict[str, dict[str, Any]] = {}  # by id and by external_id, so views.update can say not_found
        self._ts = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._response_ids = itertools.count(1)
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._root = ""

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                fake._serve(self)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self._root = f"http://{host}:{port}"
        self.base_url = f"{self._root}/api/"
        # A short poll keeps stop() quick; the default 0.5 s adds up across test modules.
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True, name="fake-slack").start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests and the console use ---------------------------------------------------------------------------
    def response_url(self, channel_id: str, user_id: str) -> str:
        return f"{self._root}/response/{channel_id}/{user_id}/{next(self._response_ids)}"

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 3.0,
                 where: Callable[[Call], bool] | None = None) -> list[Call]:
        def matching() -> list[Call]:
            return [c for c in self.calls if c.method == method and (where is None or where(c))]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                seen = [c.method + (f" ({c.failed})" if c.failed else "") for c in self.calls]
                raise AssertionError(f"expected {count} {method} call(s) within {timeout}s; saw {seen}")
            return matching()

    def clear(self) -> None:
        with self._cond:
            self.calls.clear()
            self._faults.clear()
            self._last_post.clear()

    def fail_next(self, method: str, *, status: int = 200, error: str | None = None,
                  retry_after: int | None = None, times: int = 1) -> None:
        with self._cond:
            self._faults.setdefault(method, []).append(_Fault(status, error, retry_after, times))

    # -- the server side ----------------------------------------------------------------------------------------
    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        received = time.monotonic()
        parsed = urlparse(request.path)
        try:
            args, answer = _read_args(request, parsed.query), None
        except ValueError:
            args, answer = {}, (200, {"ok": False, "error": "invalid_json"}, {}, "invalid_json")

        if parsed.path.startswith("/_control/"):
            return self._control(request, parsed.path.removeprefix("/_control/"), args)
        if parsed.path.startswith("/response/"):
            self._record(Call("response_url", args, url=parsed.path, at=received))
            return self._reply(request, 200, b"ok", "text/plain")
        method = parsed.path.removeprefix("/api/")
        if self.latency:
            time.sleep(self.latency)
        status, body, headers, failed = answer or self._answer(method, args)
        # Recorded before replying, so a client that has its answer can already see its call.
        ts = body.get("ts") if method == "chat.postMessage" and not failed else None
        self._record(Call(method, args, at=received, failed=failed, ts=ts))
        self._reply(request, status, json.dumps(body).encode(), "application/json", headers)

    def _control(self, request: BaseHTTPRequestHandler, what: str, args: dict[str, Any]) -> None:
        """For a stub in its own process (benchmarks): shape it, add channels, read its calls."""
        if what == "calls":
            with self._cond:
                body: Any = [asdict(c) for c in self.calls if c.method == args.get("method", c.method)]
        elif what == "channels":
            for channel in args.get("channels", []):
                self.world.add_channel(**channel)
            body = {"ok": True}
        elif what == "shape":
            self.per_channel_interval = float(args.get("per_channel_interval", self.per_channel_interval))
            self.random_429_rate = float(args.get("random_429_rate", self.random_429_rate))
            body = {"ok": True}
        elif what == "clear":
            self.clear()
            body = {"ok": True}
        else:
            return self._reply(request, 404, b"{}", "application/json")
        self._reply(request, 200, json.dumps(body).encode(), "application/json")

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str,
               headers: dict[str, str] | None = None) -> None:
        request.send_response(status)
        request.send_header("Content-Type", ctype)
        request.send_header("Content-Length", str(len(body)))
        request.send_header("Connection", "close")
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(body)

    def _injected(self, method: str, args: dict[str, Any]) -> _Answer | None:
        with self._cond:
            faults = self._faults.get(method)
            fault = faults[0] if faults else None
            if fault:
                fault.times -= 1
                if fault.times <= 0:
                    faults.pop(0)
            elif method == "chat.postMessage":
                channel, now = str(args.get("channel", "")), time.monotonic()
                too_soon = now - self._last_post.get(channel, -1e9) < self.per_channel_interval
                if too_soon or (self.random_429_rate and self.rng.random() < self.random_429_rate):
                    return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}, "429"
                self._last_post[channel] = now
        if fault is None:
            return None
        if fault.status == 429:
            retry = str(fault.retry_after if fault.retry_after is not None else 1)
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": retry}, "429"
        if fault.status >= 400:
            return fault.status, {"ok": False, "error": fault.error or "internal_error"}, {}, str(fault.status)
        return 200, {"ok": False, "error": fault.error or "fatal_error"}, {}, fault.error or "fatal_error"

    def _answer(self, method: str, args: dict[str, Any]) -> _Answer:
        injected = self._injected(method, args)
        if injected:
            return injected
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        body = handler(args) if handler else {"ok": False, "error": "unknown_method"}
        return 200, body, {}, None if body.get("ok") else body.get("error")

    # -- Web API methods, named _api_<method with dots as underscores> -------------------------------------------
    def _api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        w = self.world
        return {"ok": True, "url": "https://agency.slack.com/", "team": w.team_name, "team_id": w.team_id,
                "user": "liaison", "user_id": w.bot_user_id, "bot_id": w.bot_id}

    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.world.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        data = asdict(user)
        data["profile"] = {"real_name": user.real_name, "display_name": user.name}
        return {"ok": True, "user": data}

    @staticmethod
    def _channel_json(c: Channel) -> dict[str, Any]:
        return {"id": c.id, "name": c.name, "is_channel": not c.is_private, "is_group": c.is_private,
                "is_private": c.is_private, "is_ext_shared": c.is_ext_shared, "is_shared": c.is_ext_shared,
                "is_archived": c.is_archived, "is_member": c.bot_is_member}

    def _api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.world.channels.get(str(args.get("channel")))
        # Slack hides private channels from a bot that is not in them.
        if channel is None or (channel.is_private and not channel.bot_is_member):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": self._channel_json(channel)}

    def _api_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.world.channels.get(str(args.get("channel")))
        if channel is None or (channel.is_private and not channel.bot_is_member):
            return {"ok": False, "error": "channel_not_found"}
        # One page at a time, as Slack pages long member lists with a cursor.
        start, size = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        page = channel.members[start:start + size]
        cursor = str(start + size) if start + size < len(channel.members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _api_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.world.channels.get(str(args.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.is_archived:
            return {"ok": False, "error": "is_archived"}
        if channel.is_private:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        channel.bot_is_member = True
        return {"ok": True, "channel": self._channel_json(channel)}

    def _why_not_postable(self, args: dict[str, Any]) -> str | None:
        target = str(args.get("channel", ""))
        if target in self.world.users:  # a direct message to a person
            return None
        channel = self.world.channels.get(target)
        if channel is None:
            return "channel_not_found"
        if channel.is_archived:
            return "is_archived"
        return None if channel.bot_is_member else "not_in_channel"

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - Slack's method name
        if error := self._why_not_postable(args):
            return {"ok": False, "error": error}
        ts = self._next_ts()
        message = {"text": args.get("text", ""), "blocks": args.get("blocks", []),
                   "user": self.world.bot_user_id, "ts": ts}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": message}

    def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        if error := self._why_not_postable(args):
            return {"ok": False, "error": error}
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}

    def _api_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}

    def _api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel, ts = args.get("channel"), str(args.get("message_ts", "")).replace(".", "")
        return {"ok": True, "channel": channel, "permalink": f"https://agency.slack.com/archives/{channel}/p{ts}"}

    def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": self._keep_view(f"V{next(self._view_ids):08d}", args)}

    _api_views_push = _api_views_open

    def _api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            old = self._views.get(str(args.get("view_id") or args.get("external_id") or ""))
        if old is None:
            return {"ok": False, "error": "not_found"}
        return {"ok": True, "view": self._keep_view(old["id"], args)}

    def _keep_view(self, view_id: str, args: dict[str, Any]) -> dict[str, Any]:
        view = dict(args.get("view") or {})
        view.update(id=view_id, hash=f"h{time.monotonic_ns()}")
        with self._cond:
            self._views[view_id] = view
            if view.get("external_id"):
                self._views[str(view["external_id"])] = view
        return view

    def _api_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_url}


def main(stub: type[FakeSlack] | None = None) -> None:
    """`python -m bot.fake_slack [PORT]`: the stub in a process of its own (benchmarks); prints its base URL."""
    import sys

    fake = (stub or FakeSlack)(World.demo()).start(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(fake.base_url, flush=True)
    try:
        sys.stdin.read()  # runs until whoever started it closes our stdin (or ends)
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
