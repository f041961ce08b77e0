"""Generated command lines and mentions thrown at every command through the real app, on both databases.

Whatever is typed, the person gets an answer of their own making: never "Something went wrong on our side" (in
the ack, a response_url post, an ephemeral message or a channel post), never a failed job or a logged error,
always HTTP 200; and a refusal (an answer starting with ⚠️) leaves every table as it was.

Hypothesis runs many examples per test function while function-scoped fixtures are set up once, so each
example starts from the same state: the tables are put back to what they held after the setup, the fake
workspace is fresh and nothing is recorded. Runs are derandomized, so CI sees the same inputs every time.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select

from bot import payloads, slack
from bot.commands import GLOBAL_OPTIONS, CommandSpec
from bot.fake_slack import World
from bot.services import people
from handlers.milestones import MILESTONE
from handlers.projects import PROJECT
from handlers.updates import UPDATE
from storage.models import Base, Job
from tests.conftest import TEAM
from tests.helpers import acme

CRASH = "Something went wrong on our side"
WARNING = "⚠️"
MENTION_TS = "1764000000.000300"

# CI runs the same 50 inputs per test every time; LIAISON_FUZZ_EXAMPLES=2000 searches further, with new inputs
# each run (a failure prints the input; add it as an example-based test).
_MORE = int(os.environ.get("LIAISON_FUZZ_EXAMPLES") or 0)
FUZZ = settings(max_examples=_MORE or 50, deadline=None, derandomize=not _MORE, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

# -- what gets typed -----------------------------------------------------------------------------------------

MARKUP = ["<@U0TEAM|sam>", "<@U0CLIENT|casey>", "<@U0LEAD>", "<@U0NOBODY|ghost>", "<@W0ENTERPRISE>",
          "<#C0SHARED|x>", "<#C0INTERNAL>", "<!channel>", "<!here>", "<!subteam^S1|@devs>", "<https://x|y>",
          "<mailto:a@b.c|a>", "<@U" + "A" * 40 + "|sam>", "<>", "<", ">", "<@>", "<#>", "&lt;b&gt; &amp;",
          "<!everyone>", "<!date^1764000000^{date_short}|Nov 24>", "<!date^999999999999^{date}>",
          "<https://x>", "<tel:123|call>", "<@U0TEAM|<b>>", "<<@U0TEAM>>"]
QUOTES = ['"', "'", "\u201c", "\u201d", "\u2018", "\u2019", '""', "''", '"Acme Co"', "\u201cAcme Co\u201d",
          "\u2018it\u2019s\u2019", '"unbalanced', "\u201cunbalanced", "unbalanced\u201d", "it's", 'say "hi']
CONTROL = ["\x00", "\x01", "\x08", "\x1b[31m", "\x7f", "\x85", "\x9f", "\t", "\n", "\r", "\r\n", "\x0b",
           "\x0c", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u202a", "\u202e",
           "\u2066", "\u2028", "\u2029", "\u00a0", "\u3000", "\u00ad", "\u034f"]
HUGE = ["9" * 5000, "1" * 5000, "0" * 5000, "-" + "9" * 5000, "#" + "9" * 5000, "9" * 5000 + "-01-01",
        "x" * 10_000, "\u00e9" * 10_000, "\u2460" * 5000]
NUMBERS = ["\u2460", "\u2461\u2462", "\u00b2", "\u00b9\u00b2", "\u0663", "\u0663\u0664", "\U0001d7d9",
           "\u216b", "\u00bd", "0", "00", "-1", "1", "2", "3", "#1", "#0", "100", "101", "-0", "+5", "1.5",
           "1e9", "2147483647", "2147483648", "9223372036854775808", "\uff11\uff12"]
WORDS = ["preview", "now", "lead", "team", "client", "client_approver", "remove", "LEAD", "daily", "weekly",
         "monthly", "mon", "fri", "sunday", "17:00", "09:00", "25:99", "9:5", "off", "every", "2027-01-08",
         "2026-02-30", "2026-12-15", "0000-00-00", "next friday", "in 3 days", "yesterday", "tomorrow", "ago",
         "acme", "ACME", "nope", "yes", "no", "true", "maybe", "Europe/London", "Mars/Base", "UTC", "../etc",
         "Design sign-off", "Vendor audit", "* * * * *", "0 9 * * 1-5", "61 25 32 13 8", "#", "=", "==", "a=",
         "=b", "help", "status:", "update:", "@Liaison"]
MADE_UP_KEYS = ["foo", "Share", "STATUS", "x_y", "_", "project", "Project", "cron", "due", "owner", "name",
                "since", "tz", "key", "client", "internal", "progress", "status", "share", "\u00e9t\u00e9",
                "k" * 300]

SEPARATORS = st.sampled_from([" ", " ", " ", " ", "  ", "\n", "\t", "", "\u00a0", "\u3000"])

# Values a key is meant to take, so that inputs get past the first checks often enough to reach deeper ones.
MEANT = {
    "due": ["2027-01-08", "2026-12-15", "next friday", "in 3 days", "in 9999999 days", "yesterday",
            "2026-02-30", "31/12/2026", "9" * 5000],
    "since": ["3 days ago", "last monday", "2026-11-01", "in 2 years", "10000 years ago", "0"],
    "status": ["green", "amber", "red", "GREEN", "Red "],
    "progress": ["0", "40", "100", "101", "40%", "\u0664\u0660"],
    "share": ["yes", "no", "true", "TRUE"], "internal": ["yes", "no", "false"],
    "owner": ["<@U0TEAM|sam>", "<@U0CLIENT>", "<@U0NOBODY|ghost>", "@sam", "<!channel>"],
    "tz": ["Europe/London", "UTC", "America/New_York", "Pacific/Kiritimati", "Etc/GMT+12",
           "Australia/Lord_Howe", "Factory", "localtime", "posixrules", "Mars/Base", "../../etc/passwd",
           "Europe/", "Europe", "zone.tab", "__init__.py", "EST5EDT"],
    "cron": ["0 9 * * 1-5", "* * * * *", "0 0 31 2 *", "61 25 32 13 8", "@daily", "0 9 * * 1-5 extra",
             "*/0 * * * *"],
    "key": ["acme", "ACME", "beta", "a", "-", "x" * 80, "\u00e9t\u00e9", "acme website"],
    "project": ["acme", "ACME", "nope", "<#C0SHARED|x>", " acme"],
    "name": ["Acme Website", "x" * 300, "\u200b"], "client": ["Acme Co", "x" * 300, "&amp;"],
}
VISIBLE = st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"])  # all but control characters


def values(key: str) -> st.SearchStrategy[str]:
    plain = st.one_of(st.sampled_from(WORDS + NUMBERS + MARKUP + HUGE[:3] + CONTROL[:6]),
                      st.text(VISIBLE, max_size=20), st.just(""))
    if key in MEANT:
        plain = st.one_of(st.sampled_from(MEANT[key]), st.sampled_from(MEANT[key]), plain)
    return st.one_of(plain, plain, plain.map(lambda v: f'"{v}"'), plain.map(lambda v: f"\u201c{v}\u201d"),
                     plain.map(lambda v: f"'{v}"), st.sampled_from(QUOTES))


def meant(key: str) -> st.SearchStrategy[str]:
    """`key=value` as someone who knows the option would type it (quoted when it has spaces)."""
    value = st.sampled_from(MEANT.get(key) or WORDS)
    return value.map(lambda v: f'{key}="{v}"' if " " in v or not v else f"{key}={v}")


def options(keys: list[str]) -> st.SearchStrategy[str]:
    key = st.one_of(st.sampled_from(keys), st.sampled_from(keys), st.sampled_from(MADE_UP_KEYS))
    return key.flatmap(lambda k: values(k.lower()).map(lambda v: f"{k}={v}"))


def tokens(keys: list[str]) -> st.SearchStrategy[str]:
    plausible = [options(keys), options(keys), options(keys), st.sampled_from(WORDS), st.sampled_from(WORDS),
                 st.sampled_from(NUMBERS), st.sampled_from(MARKUP),
                 st.text(VISIBLE, min_size=1, max_size=12)]
    hostile = [st.sampled_from(QUOTES), st.sampled_from(CONTROL), st.sampled_from(HUGE),
               st.text(max_size=30)]  # anything at all, control characters too
    return st.one_of(*plausible, *hostile)


@st.composite
def joined(draw: st.DrawFn, start: list[str], keys: list[str], most: int = 6) -> str:
    words = [*start, *draw(st.lists(tokens(keys), max_size=most))]
    line = ""
    for word in words:
        line += (draw(SEPARATORS) if line else "") + word
    return line


# What usually follows a subcommand: the records the project has, the words it takes.
USUAL = {
    "link": ["acme", "ACME", "nope"], "digest": ["preview", "now"],
    "role": ["<@U0TEAM|sam> team", "<@U0CLIENT|casey> client", "<@U0CLIENT|casey> client_approver",
             "<@U0LEAD> remove", "<@U0TEAM|sam> lead", "<@U0NOBODY|ghost> team", "<@U0TEAM|sam>"],
    "schedule": ["daily 17:00", "weekly mon,fri 09:00", "weekly sun 23:59", "off", "daily 0:00", "weekly"],
    "edit": ["1 New words", "2 New words", "#1"],  # /update edit; /project edit takes options only
    "delete": ["1", "2", "#1"], "hide": ["1 Wrong project", "2 Wrong project", "#2"],
    "done": ["Design sign-off", "Vendor audit", "Kickoff", "1", "#2", "3"],
    "move": ["Design sign-off", "Vendor audit", "Kickoff", "1", "#2", "3"],
    "log": ["Shipped it", "Homepage is live"], "add": ["Launch", "Design sign-off"],
}


@st.composite
def command_lines(draw: st.DrawFn, spec: CommandSpec) -> tuple[str, str]:
    """(command, text): a subcommand (as typed, in any case, or left out, or not one at all) and mixed words;
    half the time in the usual shape (options of its own, then what usually follows, then anything)."""
    sub = draw(st.sampled_from(spec.subs))
    keys = sorted({*sub.options, *GLOBAL_OPTIONS, *(k for s in spec.subs for k in s.options)})
    if draw(st.booleans()):
        own = sorted({*sub.options, *GLOBAL_OPTIONS})
        chosen = draw(st.lists(st.sampled_from(own), max_size=3, unique=True))
        start = [sub.name, *(draw(meant(k)) for k in chosen)]
        if USUAL.get(sub.name) and not (spec is PROJECT and sub.name == "edit"):
            start.append(draw(st.sampled_from(USUAL[sub.name])))
        return spec.name, draw(joined(start, keys, most=3))
    first = draw(st.one_of(
        *[st.just(sub.name)] * 6, st.just(sub.name.upper()), st.just(""),
        st.sampled_from(WORDS + NUMBERS + MARKUP + QUOTES + CONTROL), st.text(max_size=10),
    ))
    lead_in = draw(st.sampled_from(["", "", "", "", "", "", " ", "\n", "\u200b"]))
    return spec.name, lead_in + draw(joined([first] if first else [], keys))


# Who types it where: mostly the lead in the internal channel; also the client, someone on no team, a DM.
PEOPLE = st.sampled_from([("U0LEAD", "C0INTERNAL")] * 4 + [
    ("U0LEAD", "C0SHARED"), ("U0CLIENT", "C0SHARED"), ("U0TEAM", "C0GENERAL"), ("U0TEAM", "C0INTERNAL"),
    ("U0OTHER", "C0GENERAL"), ("U0CLIENT", "C0GENERAL"), ("U0LEAD", "C0GENERAL"), ("U0LEAD", "D0DIRECT"),
])

VERBS = ["status", "milestones", "help", "STATUS", "Milestones", " help ", "status:", "<@U0TEAM|sam> status"]
UPDATE_VERBS = ["update:", "Update :", "update :", "UPDATE:", "update:\n", "<@U0LIAISON> update:", "update"]


@st.composite
def mention_texts(draw: st.DrawFn) -> str:
    """Mostly `update: …` (the one that stores something), some bare verbs, some anything."""
    kind = draw(st.sampled_from(["update", "update", "update", "verb", "verb", "any"]))
    if kind == "verb":
        after = st.sampled_from(["", "", " ", "\n", "\u200b", " now", "?"])
        return draw(st.sampled_from(VERBS)) + draw(after)
    start = [draw(st.sampled_from(UPDATE_VERBS))] if kind == "update" else []
    return draw(joined(start, sorted(UPDATE.sub("log").options), most=5))


# -- one example, from the same start each time --------------------------------------------------------------

class Fuzz:
    """A project set up once; each example puts every table back as it was, acts and checks the outcome."""

    def __init__(self, app: Any, db: Any):
        self.app, self.db = app, db
        acme(app)
        # Something to list, edit, delete, hide, complete and move: updates #1 (internal) and #2 (the
        # client's), milestones "Vendor audit" (internal), "Design sign-off" and "Kickoff" (done).
        app.command("status=amber progress=40 Margin is thin", name="/update")
        app.command("Homepage is on staging", name="/update", channel="C0SHARED")
        for line in ("add internal=yes due=2027-01-08 Vendor audit", "add due=2026-12-15 Design sign-off",
                     "add due=2026-11-20 Kickoff", "done Kickoff"):
            app.command(line, name="/milestone")
        app.jobs.drain()
        # Everyone is remembered, so that an example remembering who asked (the app does, whatever it then
        # answers) is not mistaken for something stored: the app's own memory of people outlives a test.
        with db.transaction() as session:
            for user in app.fake.world.users:
                people.remember(session, TEAM, slack.person_facts(app.rt.quick, user), app.rt.clock.now())
        with db.read() as session:
            self.rows = {t.name: [dict(r) for r in session.execute(select(t)).mappings()]
                         for t in Base.metadata.sorted_tables}

    def reset(self) -> None:
        with self.db.transaction() as session:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(delete(table))
            for table in Base.metadata.sorted_tables:
                if self.rows[table.name]:
                    session.execute(insert(table), self.rows[table.name])
        self.app.fake.world = World.demo()
        self.app.rt.members.forget()
        self.app.fake.clear()

    def counts(self) -> dict[str, int]:
        with self.db.read() as session:
            return {t.name: session.scalar(select(func.count()).select_from(t))
                    for t in Base.metadata.sorted_tables}

    def settle(self) -> None:
        self.app.rt.outbox.drain()
        self.app.jobs.drain()
        self.app.rt.outbox.drain()

    def failed_jobs(self) -> list[str]:
        with self.db.read() as session:
            return [f"{kind}: {error}" for kind, error in session.execute(
                select(Job.kind, Job.error).where(Job.state != "done"))]

    def check_common(self, reply: Any, caplog: pytest.LogCaptureFixture, what: str) -> None:
        assert reply.status == 200, (what, reply.status, reply.body[:500])
        seen = [reply.body] + [json.dumps(c.args, ensure_ascii=False) for c in self.app.fake.calls]
        crashed = [s[:500] for s in seen if CRASH in s]
        assert not crashed, (what, crashed)
        assert not self.failed_jobs(), (what, self.failed_jobs())
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, (what, errors)

    def command(self, name: str, text: str, user: str, channel: str,
                caplog: pytest.LogCaptureFixture) -> None:
        self.reset()
        caplog.clear()
        before = self.counts()
        reply = self.app.command(text, name=name, user=user, channel=channel, answer=False)
        self.settle()
        what = f"{name} {text!r} by {user} in {channel}"
        self.check_common(reply, caplog, what)
        answer, later = _answer(reply, self.app.fake)
        if answer is not None and answer.get("text", "").startswith(WARNING):
            after = self.counts()
            if later:  # refused by a job: the job's own row is the queue's, not what was typed
                before.pop(Job.__tablename__), after.pop(Job.__tablename__)
            assert after == before, (what, answer.get("text"), _changed(before, after))

    def mention(self, text: str, user: str, channel: str, caplog: pytest.LogCaptureFixture) -> None:
        self.reset()
        caplog.clear()
        before = self.counts()
        event = {"type": "app_mention", "user": user, "text": f"<@U0LIAISON> {text}", "channel": channel,
                 "ts": MENTION_TS}
        reply = self.app.send(payloads.event(event, team_id=TEAM))
        self.settle()
        what = f"mention {text!r} by {user} in {channel}"
        self.check_common(reply, caplog, what)
        refusals = [c.args.get("text", "") for c in self.app.fake.calls_to("chat.postEphemeral")
                    if c.args.get("text", "").startswith(WARNING)]
        if refusals:
            after = self.counts()
            assert after == before, (what, refusals, _changed(before, after))


def _answer(reply: Any, fake: Any) -> tuple[dict[str, Any] | None, bool]:
    """The person's answer, and whether it came later (through response_url) rather than in the ack. A note
    that words were kept as text is not the answer."""
    if reply.body and not reply.json.get("text", "").startswith("I kept"):
        return reply.json, False
    later = [c.args for c in fake.calls_to("response_url") if not c.args.get("text", "").startswith("I kept")]
    return (later[0] if later else None), True


def _changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {k: (before[k], after[k]) for k in before if before[k] != after[k]}


@pytest.fixture
def fuzz(app, db) -> Fuzz:
    return Fuzz(app, db)


# -- the properties ------------------------------------------------------------------------------------------

@FUZZ
@given(line=command_lines(PROJECT), who=PEOPLE)
def test_any_project_command_is_answered_and_a_refusal_stores_nothing(fuzz, caplog, line, who):
    fuzz.command(*line, *who, caplog)


@FUZZ
@given(line=command_lines(UPDATE), who=PEOPLE)
def test_any_update_command_is_answered_and_a_refusal_stores_nothing(fuzz, caplog, line, who):
    fuzz.command(*line, *who, caplog)


@FUZZ
@given(line=command_lines(MILESTONE), who=PEOPLE)
def test_any_milestone_command_is_answered_and_a_refusal_stores_nothing(fuzz, caplog, line, who):
    fuzz.command(*line, *who, caplog)


@FUZZ
@given(text=mention_texts(), who=st.sampled_from([("U0CLIENT", "C0SHARED"), ("U0LEAD", "C0INTERNAL")]))
def test_any_mention_is_answered_and_a_refusal_stores_nothing(fuzz, caplog, text, who):
    fuzz.mention(text, *who, caplog)
