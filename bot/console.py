"""The local console: type as a team member or a client, see what Liaison answers and posts.

Each line becomes the signed request Slack would send and goes through the same Bolt app; Slack's Web API is
the in-process stub, whose recorded calls are printed as text.
"""
from __future__ import annotations

import dataclasses
import json
import re
import secrets
import shlex
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from slack_bolt import BoltRequest

from bot import payloads
from bot.app import build_app
from bot.clock import AdjustableClock, ManualClock
from bot.config import Settings
from bot.manifest import build_manifest
from bot.fake_slack import Call, Channel, FakeSlack, User, World
from bot.jobs import JobRunner
from handlers import FEATURES, job_kinds
from bot.outbox import InlineExecutor
from bot.render.as_text import message_text, view_text
from bot.runtime import build_runtime
from storage.db import Database
from storage.migrate import upgrade_to_head

CONSOLE_HELP = """\
Type as you would in Slack:
  /project help                 a slash command (any of Liaison's commands)
  @Liaison hello                mention the bot
Console commands:
  :as <name>                    act as someone else; `:as client` is the client from another organisation
  :in <channel>                 switch channel; `:in client-channel` is the Slack Connect channel shared with the
                                client; `:in #new-name` creates a channel (`:in #new-name shared` a shared one)
  :submit key=value ...         submit the last form Liaison opened (keys are its field names)
  :shortcut [name]              use a message shortcut on the last message here: "Log as status update" (the
                                default) or "File as change request"
  :click <number or label>      press a button: each message's buttons are shown numbered, `[3 Mark done]`
  :time [2026-11-30T09:00]      show or move the console's clock (UTC unless an offset is given)
  :tick                         run the scheduler once now: digests and reminders that are due are posted
  :share / :unshare / :archive / :unarchive   what Slack tells Liaison when the channel changes
  :who                          who and where you are;  :people, :channels list them
  :quit                         leave (Ctrl-D works too)"""

_QUIET = {"users.info", "conversations.info", "conversations.members", "auth.test", "chat.getPermalink"}


class Console:
    def __init__(self, settings: Settings, *, now: datetime | None = None, world: World | None = None):
        self.slack = FakeSlack(world or World.demo()).start()
        self.world = self.slack.world
        secret = secrets.token_hex(16)
        self.settings = dataclasses.replace(
            settings, slack_bot_token="xoxb-local-console", slack_signing_secret=secret,
            slack_api_url=self.slack.base_url, slack_app_token=None,
        )
        db = Database(self.settings.database_url)
        upgrade_to_head(db.engine)
        clock = ManualClock(now) if now else AdjustableClock()
        # Posts run inline so that a transcript reads in the order things happened.
        self.rt = build_runtime(self.settings, db=db, clock=clock, executor=InlineExecutor())
        self.app = build_app(self.rt)
        self.jobs = JobRunner(self.rt, job_kinds())
        self.secret = secret
        self.user = next(u for u in self.world.users.values() if u.team_id == self.world.team_id and not u.is_bot)
        self.channel = next(c for c in self.world.channels.values() if not c.is_ext_shared)
        self.last_view: dict[str, Any] | None = None
        self.last_message: dict[str, dict[str, str]] = {}  # by channel: the last message a person typed
        self.buttons: list[_Button] = []  # every button shown, numbered from 1 in the order shown
        self.subscribed = set(build_manifest()["settings"]["event_subscriptions"]["bot_events"])

    def close(self) -> None:
        self.slack.stop()
        self.rt.db.dispose()

    @property
    def prompt(self) -> str:
        return f"{self.user.name} in #{self.channel.name}> "

    def names(self) -> dict[str, str]:
        return {**{u.id: u.name for u in self.world.users.values()},
                **{c.id: c.name for c in self.world.channels.values()}}

    # -- one typed line -----------------------------------------------------------------------------------------
    def handle(self, line: str) -> list[str]:
        line = line.strip()
        if not line or line.startswith("#"):
            return []
        if line.startswith(":"):
            return self._console_command(line)
        if not self._can_be_here():
            return [f"(Slack: {self.user.name} is from another organisation and can't be in #{self.channel.name}; "
                    "only channels shared with them. `:in client-channel` goes there.)"]
        self._join()
        if line.startswith("/"):
            name, _, text = line.partition(" ")
            if self._is_external():
                return [f"(Slack: `{name}` isn't available to {self.user.name}: people from another organisation "
                        "can't use this app's slash commands in a shared channel. Clients talk to Liaison with "
                        "mentions and buttons: try `@Liaison help`.)"]
            return self._send_command(name, text)
        return self._send_message(line)

    def _is_external(self) -> bool:
        return self.user.team_id != self.world.team_id

    def _can_be_here(self) -> bool:
        return not self._is_external() or self.channel.is_ext_shared

    def _join(self) -> None:
        """People are in the channels they type in; Slack tells the app when someone joins."""
        if self.user.id in self.channel.members:
            return
        self.channel.members.append(self.user.id)
        body, ctype = payloads.event({"type": "member_joined_channel", "user": self.user.id,
                                      "channel": self.channel.id, "channel_type": "C"}, team_id=self.world.team_id)
        self._dispatch(body, ctype)

    def _dispatch(self, body: str, content_type: str) -> tuple[int, str, list[Call]]:
        seen = len(self.slack.calls)
        headers = {"content-type": content_type, **payloads.sign(self.secret, body)}
        response = self.app.dispatch(BoltRequest(body=body, headers=headers))
        self.jobs.run_pending()  # at once, so that a transcript reads in the order things happened
        return response.status, response.body, self.slack.calls[seen:]

    def _send_command(self, name: str, text: str) -> list[str]:
        text = _escape_mentions(text, self.world)
        body, ctype = payloads.command(
            name, text, user_id=self.user.id, channel_id=self.channel.id, team_id=self.world.team_id,
            response_url=self.slack.response_url(self.channel.id, self.user.id),
            channel_name=self.channel.name, user_name=self.user.name,
        )
        status, reply, calls = self._dispatch(body, ctype)
        if status == 404:
            return [f"(Slack: `{name}` is not a command of this app)"]
        out = []
        if reply:
            payload = json.loads(reply)
            if payload.get("response_type") == "in_channel":  # Slack shows it to the channel, under the command
                out.append(_indent(f"Liaison in #{self.channel.name} (answering {name}):",
                                   message_text(payload, self.names())))
            else:
                out.append(self._only_you(payload))
        return out + self._show(calls)

    def _send_message(self, line: str) -> list[str]:
        text = re.sub(r"@liaison\b", f"<@{self.world.bot_user_id}>", line, flags=re.I)
        text = _escape_mentions(text, self.world)
        kind = "app_mention" if f"<@{self.world.bot_user_id}>" in text else "message"
        ts = f"{1_700_000_000 + len(self.slack.calls)}.000200"
        self.last_message[self.channel.id] = {"user": self.user.id, "text": text, "ts": ts}  # for `:shortcut`
        if kind == "message" and "message.channels" not in self.subscribed:
            return []  # Slack sends only the events the app subscribed to in its manifest
        body, ctype = payloads.event(
            {"type": kind, "user": self.user.id, "text": text, "channel": self.channel.id, "ts": ts,
             "channel_type": "channel"},
            team_id=self.world.team_id,
        )
        status, _, calls = self._dispatch(body, ctype)
        shown = self._show(calls)
        return shown or ([] if kind == "message" else ["(Liaison did not answer)"])

    def _submit(self, args: str) -> list[str]:
        if self.last_view is None:
            return ["(no form is open: a command such as `/project create` opens one)"]
        values = dict(_pairs(args))
        body, ctype = payloads.view_submission(self.last_view, values, user_id=self.user.id,
                                               team_id=self.world.team_id, user_team_id=self.user.team_id)
        status, reply, calls = self._dispatch(body, ctype)
        answer = json.loads(reply) if reply else {}
        if answer.get("response_action") == "errors":
            return [f"(form) {field}: {msg}" for field, msg in answer["errors"].items()]
        self.last_view = None
        return ["(form submitted)"] + self._show(calls)

    def _shortcut(self, name: str = "") -> list[str]:
        if not self._can_be_here():
            return [f"(Slack: {self.user.name} can't be in #{self.channel.name})"]
        if self._is_external():
            return [f"(Slack: message shortcuts of this app aren't available to {self.user.name}: people from "
                    "another organisation can't use them. Clients use `@Liaison update: …` instead.)"]
        shortcuts = {s["name"].lower(): s["callback_id"] for f in FEATURES for s in getattr(f, "SHORTCUTS", [])}
        callback_id = shortcuts.get((name.strip() or "Log as status update").lower())
        if callback_id is None:
            return ["(no such shortcut; there are: " + ", ".join(f'"{n}"' for n in shortcuts) + ")"]
        message = self.last_message.get(self.channel.id)
        if message is None:
            return ["(no message in this channel yet: type one, then `:shortcut`)"]
        self._join()
        body, ctype = payloads.message_action(
            callback_id, message, user_id=self.user.id, channel_id=self.channel.id,
            team_id=self.world.team_id, response_url=self.slack.response_url(self.channel.id, self.user.id))
        _, _, calls = self._dispatch(body, ctype)
        return self._show(calls)

    # -- what Slack received, as text ---------------------------------------------------------------------------
    def _only_you(self, payload: dict[str, Any]) -> str:
        return _indent("Liaison (only you can see this):", message_text(payload, self.names()))

    def _show(self, calls: Iterable[Call]) -> list[str]:
        out = []
        names = self.names()
        for call in calls:
            if call.method in _QUIET or getattr(call, "failed", None):
                continue
            if call.method == "chat.postMessage":
                target = call.args.get("channel", "")
                where = (f"to @{names[target]} (direct message)" if target in self.world.users
                         else f"in #{names.get(target, target)}")
                shown = self._numbered(call.args, target, call.ts, None)
                out.append(_indent(f"Liaison {where}:", message_text(shown, names)))
            elif call.method == "chat.postEphemeral":
                shown = self._numbered(call.args, call.args.get("channel"), None, call.args.get("user"))
                out.append(_indent(f"Liaison (only @{names.get(call.args.get('user'), '')} can see this):",
                                   message_text(shown, names)))
            elif call.method == "response_url":
                _, _, channel_id, user_id, _ = call.url.split("/", 4)
                out.append(self._only_you(self._numbered(call.args, channel_id, None, user_id)))
            elif call.method == "views.open":
                self.last_view = call.args["view"]
                fields = [b["block_id"] for b in self.last_view.get("blocks", []) if b.get("type") == "input"]
                example = " ".join(f'{f}="..."' for f in fields[:2])
                out.append(_indent("Liaison opened a form:", view_text(self.last_view, names)
                                   + f"\n(type `:submit {example}` to submit it; fields: {', '.join(fields)})"))
            elif call.method == "chat.update":
                where = names.get(call.args.get("channel", ""), call.args.get("channel", ""))
                self._unshow(call.args.get("channel"), call.args.get("ts"))
                shown = self._numbered(call.args, call.args.get("channel"), call.args.get("ts"), None)
                out.append(_indent(f"Liaison changed its message in #{where} to:", message_text(shown, names)))
            elif call.method == "chat.delete":
                self._unshow(call.args.get("channel"), call.args.get("ts"))
                where = names.get(call.args.get("channel", ""), call.args.get("channel", ""))
                out.append(f"(Liaison deleted its message in #{where})")
            elif call.method == "conversations.join":
                out.append(f"(Liaison joined #{names.get(call.args.get('channel'), '')})")
            else:
                out.append(f"({call.method})")
        return out

    def _numbered(self, payload: dict[str, Any], channel_id: str | None, ts: str | None,
                  only: str | None) -> dict[str, Any]:
        """The message with a number before each button's label, remembered for `:click`."""
        blocks = []
        for block in payload.get("blocks") or []:
            if block.get("type") == "actions":
                elements = []
                for element in block.get("elements", []):
                    if element.get("type") == "button":
                        label = element["text"]["text"]
                        self.buttons.append(_Button(len(self.buttons) + 1, label, element["action_id"],
                                                    element.get("value", ""), block.get("block_id", "actions"),
                                                    channel_id, ts, only))
                        element = {**element, "text": {**element["text"], "text": f"{len(self.buttons)} {label}"}}
                    elements.append(element)
                block = {**block, "elements": elements}
            blocks.append(block)
        return {**payload, "blocks": blocks} if blocks else payload

    def _unshow(self, channel_id: str | None, ts: str | None) -> None:
        """A message changed or deleted: its old buttons are gone."""
        for button in self.buttons:
            if (button.channel_id, button.message_ts) == (channel_id, ts):
                button.gone = True

    def _click(self, args: str) -> list[str]:
        wanted = args.strip().strip("[]").lower()
        if not wanted:
            return ["(say which button: `:click 3` or `:click Mark done`)"]
        live = [b for b in self.buttons if not b.gone and b.only in (None, self.user.id)]
        if wanted.isdigit():
            match = next((b for b in self.buttons if b.number == int(wanted)), None)
        else:
            here = [b for b in live if b.label.lower() == wanted]
            match = next((b for b in reversed(here) if b.channel_id == self.channel.id), here[-1] if here else None)
        if match is None:
            return [f"(no button `{args.strip()}`: buttons are shown numbered, e.g. `[3 Mark done]`)"]
        if match.gone:
            return [f"(button {match.number} is gone: its message was changed or deleted)"]
        if match.only not in (None, self.user.id):
            return [f"(button {match.number} is in a message only someone else sees)"]
        if match.channel_id != self.channel.id:
            where = self.names().get(match.channel_id or "", match.channel_id)
            return [f"(button {match.number} is in #{where}: `:in {where}` first)"]
        if not self._can_be_here():
            return [f"(Slack: {self.user.name} can't be in #{self.channel.name})"]
        self._join()
        body, ctype = payloads.block_actions(
            match.action_id, match.value, user_id=self.user.id, team_id=self.world.team_id,
            channel_id=match.channel_id, message_ts=match.message_ts, user_team_id=self.user.team_id,
            response_url=self.slack.response_url(self.channel.id, self.user.id), block_id=match.block_id)
        _, _, calls = self._dispatch(body, ctype)
        return [f"({self.user.name} pressed [{match.label}])"] + self._show(calls)

    # -- console commands ---------------------------------------------------------------------------------------
    def _console_command(self, line: str) -> list[str]:
        name, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        actions: dict[str, Callable[[str], list[str]]] = {
            "as": self._as, "in": self._in, "submit": self._submit, "who": lambda _: self._who(),
            "shortcut": self._shortcut, "click": self._click,
            "people": lambda _: [f"{u.name} ({u.id}, {self._org(u)})" for u in self.world.users.values()
                                 if not u.is_bot],
            "channels": lambda _: [f"#{c.name} ({c.id}{', shared with another org' if c.is_ext_shared else ''}"
                                   f"{', archived' if c.is_archived else ''})" for c in self.world.channels.values()],
            "help": lambda _: CONSOLE_HELP.splitlines(),
            "share": lambda _: self._channel_event("share"), "unshare": lambda _: self._channel_event("unshare"),
            "archive": lambda _: self._channel_event("archive"),
            "unarchive": lambda _: self._channel_event("unarchive"),
            "time": self._time, "tick": lambda _: self._tick(),
        }
        action = actions.get(name)
        return action(rest) if action else [f"(unknown console command `:{name}`; `:help` lists them)"]

    def _time(self, args: str) -> list[str]:
        if not args:
            return [f"(it is {self.rt.clock.now():%a %d %b %Y %H:%M} UTC)"]
        try:
            when = datetime.fromisoformat(args)
        except ValueError:
            return ["(give an ISO time: `:time 2026-11-30T09:00` is UTC, or add an offset such as +01:00)"]
        self.rt.clock.set(when if when.tzinfo else when.replace(tzinfo=timezone.utc))  # type: ignore[attr-defined]
        return self._time("")

    def _tick(self) -> list[str]:
        """One run of the scheduler at the console's time: what is due is posted, as `liaison scheduler` would."""
        from scheduler import service

        seen = len(self.slack.calls)
        report = service.tick(self.rt, concurrency=1)
        self.jobs.run_pending()
        shown = self._show(self.slack.calls[seen:])
        skipped = [f"({report.skipped} missed occurrence(s) older than the grace period skipped)"] if report.skipped else []
        return (shown or ["(nothing is due)"]) + skipped

    def _org(self, user: User) -> str:
        return "our organisation" if user.team_id == self.world.team_id else "client organisation"

    def _who(self) -> list[str]:
        shared = " (shared with another organisation)" if self.channel.is_ext_shared else ""
        return [f"You are {self.user.name} ({self._org(self.user)}) in #{self.channel.name}{shared}."]

    def _as(self, who: str) -> list[str]:
        who = who.lstrip("@").lower()
        users = [u for u in self.world.users.values() if not u.is_bot]
        if who == "client":
            match = next((u for u in users if u.team_id != self.world.team_id), None)
        elif who in ("team", "me"):
            match = next((u for u in users if u.team_id == self.world.team_id), None)
        else:
            match = next((u for u in users if who in (u.name.lower(), u.id.lower())), None)
        if match is None:
            return [f"(nobody called `{who}`; `:people` lists who is here)"]
        self.user = match
        return self._who()

    def _in(self, args: str) -> list[str]:
        words = args.split()
        if not words:
            return ["(say which channel: `:in #name`)"]
        wanted = words[0].lstrip("#").lower()
        channels = list(self.world.channels.values())
        if wanted == "client-channel":
            match = next((c for c in channels if c.is_ext_shared), None)
        elif wanted == "internal":
            match = next((c for c in channels if not c.is_ext_shared), None)
        else:
            match = next((c for c in channels if wanted in (c.name.lower(), c.id.lower())), None)
        if match is None:
            if not re.fullmatch(r"[a-z0-9_-]{1,80}", wanted):
                return ["(channel names use lowercase letters, digits, - and _)"]
            match = self.world.add_channel(id=f"C0{wanted.upper().replace('-', '').replace('_', '')[:9]}",
                                           name=wanted, is_ext_shared="shared" in words[1:])
        self.channel = match
        return self._who()

    def _channel_event(self, change: str) -> list[str]:
        channel = self.channel
        if change == "share":
            channel.is_ext_shared = True
            event = {"type": "channel_shared", "connected_team_id": "T0CLIENT", "channel": channel.id}
        elif change == "unshare":
            channel.is_ext_shared = False
            event = {"type": "channel_unshared", "previously_connected_team_id": "T0CLIENT",
                     "channel": channel.id, "is_ext_shared": False}
        else:
            channel.is_archived = change == "archive"
            event = {"type": f"channel_{change}", "channel": channel.id, "user": self.user.id}
        body, ctype = payloads.event(event, team_id=self.world.team_id)
        _, _, calls = self._dispatch(body, ctype)
        return [f"(Slack: #{channel.name} was {change}d)"] + self._show(calls)


@dataclasses.dataclass
class _Button:
    number: int
    label: str
    action_id: str
    value: str
    block_id: str
    channel_id: str | None
    message_ts: str | None  # None in a message only one person sees
    only: str | None  # that person
    gone: bool = False


def _escape_mentions(text: str, world: World) -> str:
    """`@casey` -> `<@U0CLIENT|casey>`, as Slack escapes mentions in commands and messages."""
    by_name = {u.name.lower(): u for u in world.users.values()}

    def mention(match: re.Match[str]) -> str:
        user = by_name.get(match.group(1).lower())
        return f"<@{user.id}|{user.name}>" if user else match.group(0)

    return re.sub(r"(?<![<\w])@([\w.-]+)", mention, text)


def _pairs(args: str) -> Iterable[tuple[str, str]]:
    for token in shlex.split(args):
        key, sep, value = token.partition("=")
        if sep:
            yield key.strip(), value


def _indent(title: str, body: str) -> str:
    return title + "\n" + "\n".join(f"  {line}" if line else "" for line in body.splitlines())


def run_script(console: Console, lines: Iterable[str], write: Callable[[str], None]) -> None:
    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        write(f"{console.prompt}{line}")
        for out in console.handle(line):
            write(out)
        write("")


def run_interactive(console: Console) -> None:
    print("Liaison local console: no Slack needed. Type :help for help, :quit to leave.")
    print(console._who()[0])
    while True:
        try:
            line = input(console.prompt)
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if line.strip() in (":quit", ":q", ":exit"):
            return
        for out in console.handle(line):
            print(out)


__all__ = ["Console", "run_script", "run_interactive", "Channel"]
