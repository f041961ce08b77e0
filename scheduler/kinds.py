"""Every kind of scheduled message, in the order each tick plans them.

A later kind (such as the reminders of change requests awaiting a decision, or CSAT surveys) is a module of its own
with a planner and a composer, made into a `ScheduledKind` (scheduler/plan.py), and one line here; the tick and the
ledger don't change.
"""
from __future__ import annotations

from typing import Any

from scheduler.changes import CHANGE_REMINDERS
from scheduler.digests import DIGESTS
from scheduler.followups import FOLLOW_UP_REMINDERS
from scheduler.nudges import QUIET_NUDGES
from scheduler.plan import ScheduledKind
from scheduler.reminders import MILESTONE_REMINDERS
from scheduler.surveys import SURVEYS

KINDS: tuple[ScheduledKind[Any], ...] = (DIGESTS, QUIET_NUDGES, MILESTONE_REMINDERS, CHANGE_REMINDERS, SURVEYS,
                                       FOLLOW_UP_REMINDERS)
