"""Milestones: added, done, moved and listed; client-visible unless marked internal."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.actors import INTERNAL_ROLES, require_role
from bot.commands import ID_MAX, has_visible, is_number, whole_number, yes_no
from bot.errors import BadInput, NotFound
from bot.markup import slack_length
from bot.services import audit
from bot.services.places import Place
from storage.models import Milestone, Project

NAME_MAX = 200


@dataclass(frozen=True)
class MilestoneCard:
    id: int
    name: str
    due: date
    owner_id: str | None
    visibility: str
    done_at: datetime | None
    after_project_due: date | None = None  # the project's due date, when `add` was given a later one


def check_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not has_visible(name):
        raise BadInput("Name the milestone: `/milestone add due=2026-12-15 Design sign-off`.", "name")
    if (length := max(slack_length(name), len(name))) > NAME_MAX:  # stored as typed in a column of NAME_MAX
        raise BadInput(f"The name is {length:,} characters long as Slack counts them (an ampersand counts as 5, "
                       f"an angle bracket as 4); keep it to {NAME_MAX}.", "name")
    return name


def add(session: Session, place: Place, name: str, due: date, owner_id: str | None, internal: str | None,
        now: datetime) -> MilestoneCard:
    require_role(place.actor, INTERNAL_ROLES, "add milestones")
    name = check_name(name)
    visibility = "internal" if yes_no(internal, "internal") else "client"
    if _find_open(session, place.project_id, name) is not None:
        raise BadInput(f"`{name}` is already an open milestone of `{place.key}`.", "name")
    row = Milestone(project_id=place.project_id, name=name, due_date=due, owner_id=owner_id, visibility=visibility,
                    created_by=place.actor.user_id, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, place.actor, "milestone.add", f"milestone:{row.id}", now, place.project_id,
                 name=name, due=due.isoformat(), owner=owner_id, visibility=visibility)
    project_due = session.scalar(select(Project.due_date).where(Project.id == place.project_id))
    if project_due is not None and due > project_due:  # allowed (plans slip), but said
        return replace(card(row), after_project_due=project_due)
    return card(row)


def done(session: Session, place: Place, ref: str, now: datetime) -> MilestoneCard:
    require_role(place.actor, INTERNAL_ROLES, "complete milestones")
    row = find(session, place, ref)
    if row.done_at is not None:
        raise BadInput(f"`{row.name}` was already done on {row.done_at.astimezone(ZoneInfo(place.timezone)):%d %b}.")
    row.done_at, row.done_by = now, place.actor.user_id
    session.flush()
    audit.record(session, place.actor, "milestone.done", f"milestone:{row.id}", now, place.project_id)
    return card(row)


def move(session: Session, place: Place, ref: str, due: date, now: datetime) -> tuple[MilestoneCard, date]:
    require_role(place.actor, INTERNAL_ROLES, "move milestones")
    row = find(session, place, ref)
    if row.done_at is not None:
        raise BadInput(f"`{row.name}` is already done; there is nothing to move.")
    before = row.due_date
    if before == due:
        raise BadInput(f"`{row.name}` is already due on {due:%a %d %b %Y}.", "due")
    row.due_date = due
    session.flush()
    audit.record(session, place.actor, "milestone.move", f"milestone:{row.id}", now, place.project_id,
                 before=before.isoformat(), after=due.isoformat())
    return card(row), before


def listing(session: Session, place: Place) -> list[MilestoneCard]:
    query = select(Milestone).where(Milestone.project_id == place.project_id)
    if place.actor.is_client or place.is_client_channel:
        query = query.where(Milestone.visibility == "client")
    rows = session.scalars(query.order_by(Milestone.done_at.is_not(None), Milestone.due_date, Milestone.id))
    return [card(r) for r in rows]


def find(session: Session, place: Place, ref: str) -> Milestone:
    ref = " ".join((ref or "").split()).strip("\"'")
    if not ref:
        raise BadInput("Which milestone? Give its name or number (`/milestone list` shows them).", "name")
    query = select(Milestone).where(Milestone.project_id == place.project_id)
    number = ref.lstrip("#")
    if is_number(number):  # a number no milestone can have (beyond 32 bits) is not looked up
        number_id = whole_number(number, 1, ID_MAX)
        row = None if number_id is None else session.scalar(query.where(Milestone.id == number_id))
    else:
        rows = list(session.scalars(query.where(func.lower(Milestone.name) == ref.lower())
                                    .order_by(Milestone.done_at.is_not(None), Milestone.id)))
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(f"`{place.key}` has no milestone `{ref}`. `/milestone list` shows them.")
    return row


def _find_open(session: Session, project_id: int, name: str) -> Milestone | None:
    return session.scalar(select(Milestone).where(
        Milestone.project_id == project_id, func.lower(Milestone.name) == name.lower(), Milestone.done_at.is_(None)))


def card(row: Milestone) -> MilestoneCard:
    return MilestoneCard(row.id, row.name, row.due_date, row.owner_id, row.visibility, row.done_at)
