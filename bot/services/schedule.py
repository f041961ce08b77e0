"""Digest schedules: what people type (`weekly mon 09:00`, `daily 17:30`, `cron="0 9 * * 1-5"`, `off`), stored
as one normalised line and turned into APScheduler cron triggers in the project's timezone (DST-correct)."""
from __future__ import annotations

import re
from functools import lru_cache
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from itertools import islice
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.errors import BadInput

DEFAULT = "weekly mon 09:00"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # standard cron: 0 and 7 are Sunday
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_EXAMPLES = "`weekly mon 09:00`, `daily 17:30`, `cron=\"0 9 * * 1-5\"` or `off`"
MOST_LENGTH = 120  # the projects.digest_schedule column
CHECKED = 500  # upcoming occurrences `check` looks at: enough for any rule, bounded for `* * * * *`
HORIZON = timedelta(days=366)
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")


def parse(text: str, cron: str | None = None) -> str:
    """Check a typed schedule and return its normalised form; bad input raises BadInput and changes nothing."""
    if cron is not None:
        if text.strip():
            raise BadInput(f"Give either a cron expression or a schedule, not both: {_EXAMPLES}.", "schedule")
        expr = " ".join(cron.split())
        if len(expr) > MOST_LENGTH - len("cron "):
            raise BadInput(f"That cron expression is {len(expr):,} characters long and I can keep at most "
                           f"{MOST_LENGTH - len('cron ')}; shorten it, e.g. with ranges such as `1-5` or steps "
                           "such as `*/15`.", "cron")
        _cron_trigger(expr, "UTC")  # raises if it is not a valid five-field expression
        return f"cron {expr}"
    words = text.lower().split()
    if words == ["off"]:
        return "off"
    shown = text if len(text) <= 60 else text[:59] + "…"
    if len(words) == 3 and words[0] == "weekly":
        days = [d for d in words[1].split(",") if d]  # `mon,,tue`: an empty item names no day
        if not days or not all(d[:3] in DAYS for d in days) or not _TIME.match(words[2]):
            raise BadInput(f"`{shown}` is not a schedule I understand. Try {_EXAMPLES}.", "schedule")
        once = ",".join(dict.fromkeys(d[:3] for d in days))  # each day once, however often it is named
        return f"weekly {once} {_hhmm(words[2])}"  # at most seven days: it fits the column
    if len(words) == 2 and words[0] == "daily" and _TIME.match(words[1]):
        return f"daily {_hhmm(words[1])}"
    raise BadInput(f"`{shown}` is not a schedule I understand. Try {_EXAMPLES}.", "schedule")


def check(normalised: str, tz: str, now: datetime, min_minutes: int) -> None:
    """Refuse a schedule whose digests would come closer together than `min_minutes`, or that never fires in
    the next year. Looks at the first CHECKED upcoming occurrences only, so `* * * * *` is quick to refuse."""
    if trigger(normalised, tz) is None:
        return
    kind, _, rest = normalised.partition(" ")
    shown = f"`{rest}`" if kind == "cron" else f"`{normalised}`"
    field = "cron" if kind == "cron" else "schedule"
    fires = list(islice(occurrences(normalised, tz, now, now + HORIZON), CHECKED))
    if not fires:
        raise BadInput(f"{shown} never happens in the next year{_impossible(rest) if kind == 'cron' else ''}, "
                       "so no digest would ever go out.", field)
    # Apart by the clock on the wall or in real time, whichever is more: `daily 09:00` is a day apart even over
    # the 23-hour day when the clocks go forward; 01:00 BST and 01:00 GMT are an hour apart.
    gaps = [int(max(later.astimezone(timezone.utc) - earlier.astimezone(timezone.utc),
                    later.replace(tzinfo=None) - earlier.replace(tzinfo=None)).total_seconds()) // 60
            for earlier, later in zip(fires, fires[1:])]
    if gaps and min(gaps) < min_minutes:
        closest = min(gaps)
        how = (f"would post a digest every {_every(closest)}" if max(gaps) == closest
               else f"would post two digests only {_span(closest)} apart")
        most = {60: "hourly", 1440: "daily", 10080: "weekly"}.get(min_minutes)
        limit = f"digests can be at most {most}" if most else f"digests must be at least {_span(min_minutes)} apart"
        raise BadInput(f"{shown} {how}; {limit} (LIAISON_MIN_DIGEST_MINUTES={min_minutes}).", field)


def _impossible(expr: str) -> str:
    """` (31 February)` for a cron expression on a day its month never has."""
    fields = expr.split()
    if len(fields) == 5 and fields[2].isdigit() and fields[3].isdigit() and 1 <= int(fields[3]) <= 12 \
            and fields[4] == "*":
        return f" ({int(fields[2])} {_MONTH_NAMES[int(fields[3]) - 1]})"
    return ""


def _every(minutes: int) -> str:
    if minutes % 60 == 0:
        return "hour" if minutes == 60 else f"{minutes // 60} hours"
    return "minute" if minutes == 1 else f"{minutes} minutes"


def _span(minutes: int) -> str:
    return {1: "a minute", 60: "an hour"}.get(minutes) or _every(minutes)


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
    fire = trig.get_next_fire_time(None, _just_after(after))
    while fire is not None and fire <= until:
        yield fire
        fire = trig.get_next_fire_time(fire, _just_after(fire))


def next_occurrence(schedule: str, tz: str, after: datetime) -> datetime | None:
    trig = trigger(schedule, tz)
    return None if trig is None else trig.get_next_fire_time(None, _just_after(after))


def _just_after(at: datetime) -> datetime:
    """A microsecond later, counted in UTC. Counted in the project's zone, a fire time in the hour repeated when
    the clocks go back (01:30 GMT, fold=1) plus a microsecond is back in the first pass (01:30 BST): the same fire
    time would come again, for ever."""
    return at.astimezone(timezone.utc) + timedelta(microseconds=1)


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
