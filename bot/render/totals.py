"""How an assessed impact and a project's totals read, in every message that shows them (pure): change-request
cards and lists, the project card, digests and reminders say it the same way."""
from __future__ import annotations

from datetime import date

from bot.services import money
from bot.services.changes import Totals


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def impact(days: int | None, cost_cents: int | None, currency: str | None) -> str:
    """An assessment's impact: "+3 working days, +6,500 EUR"."""
    schedule = "schedule impact not given" if days is None else (
        "no schedule impact" if days == 0 else f"+{plural(days, 'working day')}")
    cost = "cost not given" if cost_cents is None else (
        "no extra cost" if cost_cents == 0 else f"+{money.shown(cost_cents, currency)}")
    return f"{schedule}, {cost}"


def _day(day: date) -> str:
    return day.strftime("%a %d %b %Y")


def due_text(t: Totals) -> str:
    """"Wed 31 Mar 2027 + 3 working days approved → Mon 05 Apr 2027": the baseline and what approvals add."""
    base = _day(t.due) if t.due else "_no date_"
    if not t.approved_days:
        return base
    added = f"{base} + {plural(t.approved_days, 'working day')} approved"
    return f"{added} → {_day(t.projected_due)}" if t.projected_due else added


def budget_text(t: Totals) -> str | None:
    """"48,000 EUR + 6,500 EUR approved (+13.5 %) = 54,500 EUR"; None with neither a budget nor an approved cost.
    Costs in another currency than the budget's are added beside it, never converted."""
    approved = [(code, cents) for code, cents in t.approved_cents if cents]
    if t.budget_cents is None or not t.budget_currency:
        if not approved:
            return None
        return "_no baseline_ + " + " + ".join(money.shown(c, code) for code, c in approved) + " approved"
    base, code = t.budget_cents, t.budget_currency
    if not approved:
        return money.shown(base, code)
    same = sum(c for other, c in approved if other == code)
    others = [(other, c) for other, c in approved if other != code]
    added = " + ".join(money.shown(c, other) for other, c in approved)
    share = f" ({same * 100 / base:+.1f} %{f' in {code}' if others else ''})" if same and base else ""
    total = " + ".join([money.shown(base + same, code), *(money.shown(c, other) for other, c in others)])
    return f"{money.shown(base, code)} + {added} approved{share} = {total}"


def totals_lines(t: Totals) -> list[str]:
    """"Budget …" and "Due …", once there is a budget or an approved change to speak of."""
    if t.budget_cents is None and not t.approved_count:
        return []
    budget = budget_text(t)
    return [*([f"Budget {budget}"] if budget else []), f"Due {due_text(t)}"]
