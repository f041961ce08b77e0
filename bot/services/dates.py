"""Dates people type ("2026-12-15", "next friday", "in 3 days"), read in the project's timezone."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.errors import BadInput

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
            raise BadInput(f"`{text}` is not a date on the calendar.", field) from None
    else:
        import dateparser  # slow to import; only people who type words for dates pay for it

        base = now.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        parsed = dateparser.parse(
            text, languages=["en"],
            settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future", "DATE_ORDER": "DMY"},
        )
        if parsed is None:
            raise BadInput(
                f"I can't read `{text}` as a date. Try `2026-12-15`, `next friday` or `in 3 days`.", field
            )
        day = parsed.date()
    if day < today and not allow_past:
        raise BadInput(f"{day:%a %d %b %Y} is in the past (today is {today:%a %d %b} in {tz}).", field)
    return day


def parse_since(text: str | None, tz: str, now: datetime) -> datetime | None:
    """`since=` for lists: a date or words such as "3 days ago" / "monday"; the start of that day."""
    if not text:
        return None
    import dateparser

    base = now.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    parsed = dateparser.parse(text, languages=["en"],
                              settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "DATE_ORDER": "DMY"})
    if parsed is None:
        raise BadInput(f"I can't read `{text}` as a date. Try `since=2026-11-01` or `since=\"3 days ago\"`.", "since")
    return datetime.combine(parsed.date(), datetime.min.time(), ZoneInfo(tz))
