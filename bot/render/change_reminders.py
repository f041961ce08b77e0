"""The reminder that a change request awaits the client's decision (pure): posted in the client's channel, so it is
built from client-safe facts only (its number, title and assessed impact; never the team's notes)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.markup import to_mrkdwn
from bot.render.kit import context, message, section
from bot.render.totals import impact, plural

NAME_APPROVER = "/project role @person client_approver"


def change_reminder(project_name: str, number: int, title: str, waited: int, days: int | None,
                    cost_cents: int | None, currency: str | None, approvers: Sequence[str]) -> dict[str, Any]:
    """CR-n has awaited a decision for `waited` working days; its approvers are asked to approve or reject it."""
    ref = f"CR-{number}"
    what = f"*{ref} {to_mrkdwn(title, 200)}* on *{to_mrkdwn(project_name)}*"
    head = (f":hourglass_flowing_sand: {what} has been awaiting a decision for {plural(waited, 'working day')}.\n"
            f"Assessed impact: {impact(days, cost_cents, currency)}.")
    named = f"{ref} {to_mrkdwn(title, 100)}"
    if approvers:
        who = " or ".join(f"<@{u}>" for u in approvers)
        ask = f"{who} can approve or reject it on the request's card."
        fallback = f"{named} awaits a decision from {who} ({plural(waited, 'working day')})"
    else:
        ask = ("No one is named to decide it yet: the project lead must name an approver with "
               f"`{NAME_APPROVER}`; then they can approve or reject it on the request's card.")
        fallback = f"{named} awaits a decision ({plural(waited, 'working day')}); no approver is named yet"
    return message(fallback, [section(f"{head}\n{ask}"), context("A reminder from Liaison, each working day "
                                                                   "until the request is decided.")])
