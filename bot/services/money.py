"""Amounts of money as people type them (`48000 EUR`, `48,000.50 eur`, `cost=3000 currency=EUR`) and as
Liaison shows them ("48,000 EUR"). Stored as whole hundredths (cents), so sums are exact; currencies are ISO 4217
codes only."""
from __future__ import annotations

import re

import pycountry

from bot.errors import BadInput

UNITS_MOST = 1_000_000_000  # a budget or a cost above this is a typo, not a plan
_AMOUNT = re.compile(r"^(?P<whole>\d{1,3}(?:[,_ ]\d{3})+|\d+)(?:\.(?P<part>\d{1,2}))?$")


def currency(code: str | None, field: str = "currency") -> str:
    """An ISO 4217 code (EUR, USD, GBP), in any case; anything else is refused."""
    word = (code or "").strip().upper()
    if not word:
        raise BadInput("Name the currency by its ISO 4217 code, e.g. `EUR`, `USD` or `GBP`.", field)
    if not re.fullmatch(r"[A-Z]{3}", word) or pycountry.currencies.get(alpha_3=word) is None:
        shown = code if len(code or "") <= 12 else (code or "")[:11] + "…"
        raise BadInput(f"`{shown}` is not an ISO 4217 currency code. Use one such as `EUR`, `USD` or `GBP`.", field)
    return word


def amount(text: str | None, field: str = "cost") -> int:
    """A non-negative amount, in cents: `3000`, `3,000`, `3000.50`. At most UNITS_MOST."""
    word = (text or "").strip()
    match = _AMOUNT.match(word)
    if match is None:
        shown = word if len(word) <= 20 else word[:19] + "…"
        if word.startswith("-"):
            raise BadInput(f"`{field}={shown}` is negative; amounts here are 0 or more.", field)
        raise BadInput(f"`{field}={shown}` is not an amount. Write it like `3000`, `3,000` or `3000.50`.", field)
    whole = re.sub(r"[,_ ]", "", match["whole"]).lstrip("0") or "0"
    if len(whole) > len(str(UNITS_MOST)) or int(whole) > UNITS_MOST:
        raise BadInput(f"`{field}=` is more than {UNITS_MOST:,}; that can't be right.", field)
    return int(whole) * 100 + int((match["part"] or "0").ljust(2, "0"))


def money(text: str | None, field: str = "budget") -> tuple[int, str]:
    """`48000 EUR` (or `EUR 48000`): (cents, currency)."""
    words = (text or "").split()
    if len(words) != 2:
        raise BadInput(f"Give the amount and its currency, e.g. `{field}=\"48000 EUR\"`.", field)
    first, second = words
    if re.fullmatch(r"[A-Za-z]{3}", first) and not re.fullmatch(r"[A-Za-z]{3}", second):
        first, second = second, first
    return amount(first, field), currency(second, field)


def shown(cents: int, code: str | None) -> str:
    """48,000 EUR; 48,000.50 EUR (hundredths only when there are some)."""
    units, part = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    text = f"{sign}{units:,}" + (f".{part:02d}" if part else "")
    return f"{text} {code}" if code else text
