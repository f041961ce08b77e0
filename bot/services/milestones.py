"""Milestones: added, done, moved and listed; client-visible unless marked internal."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.actors import INTERNAL_ROLES, require_role
from bot.commands import ID_MAX, has_visible, is_number, whole_number, yes_no
from bot.errors import BadInput, NotFound
from bot.markup import slack_length
from bot.services import audit
from bot.services.places import Place
from storage import queries
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
    done_by: str | None = None


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
    # Only one of two people pressing at once marks it: the other is told who did, as if they had come later.
    marked = session.execute(update(Milestone).where(Milestone.id == row.id, Milestone.done_at.is_(None))
                             .values(done_at=now, done_by=place.actor.user_id))
    session.refresh(row)
    if not marked.rowcount:
        assert row.done_at is not None
        by = f" by <@{row.done_by}>" if row.done_by else ""
        raise BadInput(f"`{row.name}` was already done{by} on "
                       f"{row.done_at.astimezone(ZoneInfo(place.timezone)):%d %b}.")
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
    return MilestoneCard(row.id, row.name, row.due_date, row.owner_id, row.visibility, row.done_at,
                         done_by=row.done_by)


def target(session: Session, value: str, team_id: str) -> tuple[str, int]:
    """The milestone a button names, and its project's key, if it is one of this workspace's; else NotFound."""
    number = whole_number(value, 1, ID_MAX)
    key = queries.project_key_of(session, Milestone, number, team_id)
    if key is None or number is None:
        raise NotFound("That button names a milestone I can't find, so nothing was changed.")
    return key, number


def shown(session: Session, milestone_id: int) -> tuple[MilestoneCard, int, str, str] | None:
    """A milestone as its cards show it now, with its project's id, name and timezone; None when it is gone."""
    found = session.execute(select(Milestone, Project.name, Project.timezone)
                            .join(Project, Project.id == Milestone.project_id)
                            .where(Milestone.id == milestone_id)).first()
    if found is None:
        return None
    row, name, tz = found
    return card(row), row.project_id, name, tz
