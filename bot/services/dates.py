"""Dates people type ("2026-12-15", "next friday", "in 3 days"), read in the project's timezone."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.errors import BadInput

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMERIC = re.compile(r"\d+(?:\s*[./-]\s*\d+)+")  # 01/12/2026, 1.12.2026, 12-1-2026, 2026/12/01, 12/2026
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MOST_YEARS = 5  # a due date further away than this is a typo, not a plan


def add_working_days(day: date, days: int) -> date:
    """`days` working days (Monday to Friday) after `day`: the `days`-th working day after it."""
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def subtract_working_days(day: date, days: int) -> date:
    """`days` working days before `day` (what undoes `add_working_days` from a working day)."""
    while days > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days (Monday to Friday) come after `start`, up to and including `end`."""
    if end <= start:
        return 0
    whole, rest = divmod((end - start).days, 7)
    count = whole * 5
    for offset in range(1, rest + 1):
        if (start + timedelta(days=whole * 7 + offset)).weekday() < 5:
            count += 1
    return count


def local_day(at: datetime, tz: str) -> date:
    """The calendar day it is (or was) at `at` in the timezone `tz`."""
    return at.astimezone(ZoneInfo(tz)).date()


def parse_day(text: str | None, tz: str, now: datetime, field: str = "due", allow_past: bool = False) -> date:
    text = (text or "").strip()
    if not text:
        raise BadInput("Give a date, e.g. `due=2026-12-15`, `due=\"next friday\"` or `due=\"in 3 days\"`.", field)
    today = local_day(now, tz)
    if _ISO.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise BadInput(f"`{_shown(text)}` is not a date on the calendar.", field) from None
    else:
        _refuse_numeric(text, field)
        parsed = _dateparser(text, tz, now, "future", field)
        if parsed is None:
            raise BadInput(
                f"I can't read `{_shown(text)}`: it is not a date in a form I know. "
                "Try `2026-12-15`, `next friday` or `in 3 days`.", field
            )
        day = parsed.date()
    if day < today and not allow_past:
        raise BadInput(f"{day:%a %d %b %Y} is in the past (today is {today:%a %d %b} in {tz}).", field)
    limit = _years_after(today, MOST_YEARS)
    if day > limit or day < _years_after(today, -MOST_YEARS):
        raise BadInput(f"{day:%a %d %b %Y} is more than {MOST_YEARS} years away; give a date up to "
                       f"{limit:%d %b %Y}.", field)
    return day


def parse_since(text: str | None, tz: str, now: datetime) -> datetime | None:
    """`since=` for lists: a date or words such as "3 days ago" / "monday"; the start of that day.

    A day so far back that nothing can be older (`0001-01-01`) means everything: None."""
    if not text:
        return None
    text = text.strip()
    if _ISO.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise BadInput(f"`{_shown(text)}` is not a date on the calendar.", "since") from None
    else:
        _refuse_numeric(text, "since")
        parsed = _dateparser(text, tz, now, "past", "since")
        if parsed is None:
            raise BadInput(f"I can't read `{_shown(text)}` as a date. "
                           "Try `since=2026-11-01` or `since=\"3 days ago\"`.", "since")
        day = parsed.date()
    if day.year < 1970:  # before any update; and the start of year 1 east of UTC is no UTC time at all
        return None
    return datetime.combine(day, datetime.min.time(), ZoneInfo(tz))


def _dateparser(text: str, tz: str, now: datetime, prefer: str, field: str) -> datetime | None:
    import dateparser  # slow to import; only people who type words for dates pay for it

    base = now.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    try:
        return dateparser.parse(text, languages=["en"],
                                settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": prefer, "DATE_ORDER": "DMY"})
    except Exception:  # noqa: BLE001 - odd input (huge numbers, odd digits) must be an answer, never a crash
        raise BadInput(f"I can't read `{_shown(text)}` as a date. Write it as `2026-12-01` or in words like "
                       "`1 Dec 2026` or `in 3 days`.", field) from None


def _refuse_numeric(text: str, field: str) -> None:
    """Numbers-only dates other than YYYY-MM-DD mean different days in different countries: refuse them."""
    numeric = [m.group(0) for m in _NUMERIC.finditer(text) if not _ISO.match(m.group(0))]
    if not numeric and not re.fullmatch(r"[\d\s]+", text):  # a bare number may be read as a timestamp
        return
    shown = numeric[0] if numeric else text
    readings = _readings(shown)
    example = readings[0] if readings else date(2026, 12, 1)
    could = f" could be {' or '.join(_words(r) for r in readings)}, so it" if len(readings) > 1 else ""
    raise BadInput(
        f"`{_shown(shown)}`{could} is ambiguous: I only read dates in numbers as year-month-day. Write it as "
        f"`{example.isoformat()}`, or in words like `{_words(example)}`.", field
    )


def _readings(text: str) -> list[date]:
    """The days a numeric date could mean, day-first and month-first, most likely first."""
    parts = [p for p in re.split(r"\D+", text) if p]
    if len(parts) != 3 or any(len(p) > 4 for p in parts):
        return []
    if len(parts[0]) == 4:
        year, first, second = (int(p) for p in parts)
    elif len(parts[2]) == 4:
        first, second, year = (int(p) for p in parts)
    else:
        return []
    found: list[date] = []
    # Year first is only ever written year-month-day; year last is day-month in most places, month-day in the US.
    orders = ((second, first),) if len(parts[0]) == 4 else ((first, second), (second, first))
    for day, month in orders:
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate not in found:
            found.append(candidate)
    return found


def _words(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _shown(text: str) -> str:
    """What they typed, as quoted back: short enough to read."""
    return text if len(text) <= 40 else text[:39] + "…"
