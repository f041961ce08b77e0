"""Digest schedules: what people type (`weekly mon 09:00`, `daily 17:30`, `cron="0 9 * * 1-5"`, `off`), stored
as one normalised line and turned into APScheduler cron triggers in the project's timezone (DST-correct)."""
from __future__ import annotations

import re
from functools import lru_cache
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.errors import BadInput

DEFAULT = "weekly mon 09:00"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # standard cron: 0 and 7 are Sunday
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_EXAMPLES = "`weekly mon 09:00`, `daily 17:30`, `cron=\"0 9 * * 1-5\"` or `off`"


def parse(text: str, cron: str | None = None) -> str:
    """Check a typed schedule and return its normalised form; bad input raises BadInput and changes nothing."""
    if cron is not None:
        if text.strip():
            raise BadInput(f"Give either a cron expression or a schedule, not both: {_EXAMPLES}.", "schedule")
        expr = " ".join(cron.split())
        _cron_trigger(expr, "UTC")  # raises if it is not a valid five-field expression
        return f"cron {expr}"
    words = text.lower().split()
    if words == ["off"]:
        return "off"
    if len(words) == 3 and words[0] == "weekly":
        days = words[1].split(",")
        if not all(d[:3] in DAYS for d in days) or not _TIME.match(words[2]):
            raise BadInput(f"`{text}` is not a schedule I understand. Try {_EXAMPLES}.", "schedule")
        return f"weekly {','.join(d[:3] for d in days)} {_hhmm(words[2])}"
    if len(words) == 2 and words[0] == "daily" and _TIME.match(words[1]):
        return f"daily {_hhmm(words[1])}"
    raise BadInput(f"`{text}` is not a schedule I understand. Try {_EXAMPLES}.", "schedule")


def _hhmm(value: str) -> str:
    hour, minute = value.split(":")
    return f"{int(hour):02d}:{minute}"


@lru_cache(maxsize=4096)
def trigger(schedule: str, tz: str) -> CronTrigger | None:
    """The cron trigger of a normalised schedule, or None when digests are off (kept: every tick asks again)."""
    kind, _, rest = schedule.partition(" ")
    if kind == "off":
        return None
    if kind == "cron":
        return _cron_trigger(rest, tz)
    if kind == "daily":
        hour, minute = rest.split(":")
        return CronTrigger(hour=int(hour), minute=int(minute), timezone=ZoneInfo(tz))
    days, _, at = rest.partition(" ")
    hour, minute = at.split(":")
    return CronTrigger(day_of_week=days, hour=int(hour), minute=int(minute), timezone=ZoneInfo(tz))


def _cron_trigger(expr: str, tz: str) -> CronTrigger:
    fields = expr.split()
    if len(fields) != 5:
        raise BadInput(f"`{expr}` is not a cron expression: it needs five fields, e.g. `0 9 * * 1-5`.", "cron")
    minute, hour, day, month, dow = fields
    try:
        # APScheduler counts weekdays from Monday = 0; crontab from Sunday = 0. Names mean the same to both.
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_named_days(dow),
                           timezone=ZoneInfo(tz))
    except ValueError as e:
        raise BadInput(f"`{expr}` is not a cron expression I can use: {e}.", "cron") from None


def _named_days(field: str) -> str:
    def name(match: re.Match[str]) -> str:
        number = int(match.group(0))
        if number > 7:
            raise ValueError(f"day of week {number} is out of range 0-7")
        return _CRON_DAYS[number]

    named = re.sub(r"(?<![/\d])\d+", name, field)
    # Names run Monday to Sunday, so a crontab range starting or ending on Sunday (`0-5`, `5-7`) is split.
    named = re.sub(r"\bsun-([a-z]{3})\b", lambda m: "sun" if m.group(1) == "sun" else f"mon-{m.group(1)},sun", named)
    return re.sub(r"\b([a-z]{3})-sun\b", lambda m: ",".join(DAYS[DAYS.index(m.group(1)):]), named)


def occurrences(schedule: str, tz: str, after: datetime, until: datetime) -> Iterator[datetime]:
    """Fire times in (after, until], as aware datetimes."""
    trig = trigger(schedule, tz)
    if trig is None:
        return
    fire = trig.get_next_fire_time(None, after + timedelta(microseconds=1))
    while fire is not None and fire <= until:
        yield fire
        fire = trig.get_next_fire_time(fire, fire + timedelta(microseconds=1))


def next_occurrence(schedule: str, tz: str, after: datetime) -> datetime | None:
    trig = trigger(schedule, tz)
    return None if trig is None else trig.get_next_fire_time(None, after + timedelta(microseconds=1))


def describe(schedule: str) -> str:
    kind, _, rest = schedule.partition(" ")
    if kind == "off":
        return "off"
    if kind == "cron":
        return f"cron `{rest}`"
    if kind == "daily":
        return f"daily at {rest}"
    days, _, at = rest.partition(" ")
    names = ", ".join(d.capitalize() for d in days.split(","))
    return f"weekly on {names} at {at}"
