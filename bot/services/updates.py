"""Status updates: checked, stored once (whatever the number of deliveries), listed, edited and deleted."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.commands import yes_no
from bot.errors import BadInput, NotAllowed, NotFound
from bot.services import audit
from bot.services.places import Place
from storage import queries
from storage.models import HEALTHS, Update

TEXT_MAX = 3000
LIST_MOST = 20


@dataclass(frozen=True)
class UpdateDraft:
    text: str
    health: str | None
    progress: int | None
    share: bool


@dataclass(frozen=True)
class UpdateCard:
    id: int
    project_key: str
    project_name: str
    author_id: str
    logged_by: str
    text: str
    health: str | None
    progress: int | None
    visibility: str
    source: str
    permalink: str | None
    created_at: datetime
    edited: bool


def draft_update(text: str, *, status: str | None, progress: str | None, share: str | None) -> UpdateDraft:
    """Check what was typed before anything is stored."""
    text = (text or "").strip()
    if not text:
        raise BadInput("Say what happened: `/update status=green progress=60 Design signed off`.", "text")
    if len(text) > TEXT_MAX:
        raise BadInput(f"The update is {len(text):,} characters long; keep it to {TEXT_MAX:,}.", "text")
    health = None
    if status is not None:
        health = status.strip().lower()
        if health not in HEALTHS:
            raise BadInput(f"`status={status}` isn't a status. Use `green`, `amber` or `red`.", "status")
    value = None
    if progress is not None:
        raw = progress.strip().rstrip("%")
        if not raw.isdigit() or not 0 <= int(raw) <= 100:
            raise BadInput(f"`progress={progress}` must be a whole number from 0 to 100.", "progress")
        value = int(raw)
    return UpdateDraft(text, health, value, yes_no(share, "share"))


def log_update(
    session: Session,
    place: Place,
    draft: UpdateDraft,
    now: datetime,
    *,
    source: str,
    channel_id: str,
    author_id: str | None = None,
    source_key: str | None = None,
    permalink: str | None = None,
) -> UpdateCard | None:
    """Store the update; None when this message or event was stored before (a re-delivery)."""
    actor = place.actor
    if actor.is_client and (draft.health or draft.progress is not None):
        raise NotAllowed("Status and progress are set by the delivery team; your update was not saved with them. "
                         "Send it without `status=` and `progress=`.")
    if actor.is_client and not place.is_client_channel:
        raise NotAllowed("Clients can log updates only in their shared channel.")
    visibility = "client" if place.is_client_channel or draft.share else "internal"
    values = dict(
        project_id=place.project_id, author_id=author_id or actor.user_id, logged_by=actor.user_id, text=draft.text,
        health=draft.health, progress=draft.progress, visibility=visibility, source=source, source_key=source_key,
        channel_id=channel_id, permalink=permalink, created_at=now,
    )
    if source_key is None:
        row = Update(**values)
        session.add(row)
        session.flush()
    else:
        new_id = queries.insert_or_ignore(session, Update, values, returning=Update.id)
        if new_id is None:
            return None  # an earlier (or concurrent) delivery of this event or message stored it already
        row = session.get_one(Update, new_id)
    audit.record(session, actor, "update.log", f"update:{row.id}", now, place.project_id, source=source,
                 visibility=visibility, health=draft.health, progress=draft.progress)
    return _card(row, place)


def current_status(session: Session, project_ids: list[int], audience: str) -> dict[int, tuple[str | None, int | None]]:
    """Each project's health and progress as its latest updates that set them say: for a client audience, only
    client-visible ones. Derived, not stored, so an edited or deleted update can never leave a stale status."""
    found: dict[int, list[str | int | None]] = {pid: [None, None] for pid in project_ids}
    for slot, column in enumerate((Update.health, Update.progress)):
        for project_id, value in session.execute(latest_per_project(project_ids, audience, column)):
            found[project_id][slot] = value
    return {pid: (health, progress) for pid, (health, progress) in found.items()}  # type: ignore[misc]


def latest_per_project(project_ids: list[int], audience: str, column: Any) -> Select[Any]:
    conditions = [Update.project_id.in_(project_ids), Update.deleted_at.is_(None), column.is_not(None)]
    if audience == "client":
        conditions.append(Update.visibility == "client")
    ranked = (
        select(Update.project_id, column.label("value"), func.row_number().over(
            partition_by=Update.project_id, order_by=(Update.created_at.desc(), Update.id.desc())).label("rank"))
        .where(*conditions)
        .subquery()
    )
    return select(ranked.c.project_id, ranked.c.value).where(ranked.c.rank == 1)


def list_updates(session: Session, place: Place, since: datetime | None, most: int = LIST_MOST) -> list[UpdateCard]:
    query = select(Update).where(Update.project_id == place.project_id, Update.deleted_at.is_(None))
    if place.actor.is_client:
        query = query.where(Update.visibility == "client")
    if since is not None:
        query = query.where(Update.created_at >= since)
    rows = session.scalars(query.order_by(Update.created_at.desc(), Update.id.desc()).limit(most + 1))
    return [_card(r, place) for r in rows]


def edit_update(session: Session, place: Place, update_id: int, text: str, now: datetime) -> UpdateCard:
    row = _own(session, place, update_id, "edit")
    text = (text or "").strip()
    if not text:
        raise BadInput("Give the new text: `/update edit 12 Design signed off on Monday`.", "text")
    if len(text) > TEXT_MAX:
        raise BadInput(f"The update is {len(text):,} characters long; keep it to {TEXT_MAX:,}.", "text")
    audit.record(session, place.actor, "update.edit", f"update:{row.id}", now, place.project_id,
                 before=row.text, after=text)
    row.text, row.edited_at = text, now
    session.flush()
    return _card(row, place)


def delete_update(session: Session, place: Place, update_id: int, now: datetime) -> UpdateCard:
    row = _own(session, place, update_id, "delete")
    audit.record(session, place.actor, "update.delete", f"update:{row.id}", now, place.project_id, text=row.text)
    row.deleted_at = now
    session.flush()
    return _card(row, place)


def _own(session: Session, place: Place, update_id: int, doing: str) -> Update:
    row = session.scalar(select(Update).where(Update.id == update_id, Update.project_id == place.project_id,
                                              Update.deleted_at.is_(None)))
    if row is None or (place.actor.is_client and row.visibility != "client"):
        raise NotFound(f"There is no update #{update_id} in `{place.key}`. `/update list` shows them.")
    if place.actor.user_id not in (row.author_id, row.logged_by) and place.actor.role != "lead":
        raise NotAllowed(f"Only its author or the project lead can {doing} update #{update_id}.")
    return row


def _card(row: Update, place: Place) -> UpdateCard:
    return UpdateCard(
        id=row.id, project_key=place.key, project_name=place.name, author_id=row.author_id, logged_by=row.logged_by,
        text=row.text, health=row.health, progress=row.progress, visibility=row.visibility, source=row.source,
        permalink=row.permalink, created_at=row.created_at, edited=row.edited_at is not None,
    )


def parse_id(text: str, what: str = "update") -> tuple[int, str]:
    word, _, rest = (text or "").strip().partition(" ")
    word = word.lstrip("#")
    if not word.isdigit():
        raise BadInput(f"Which {what}? Give its number, e.g. `12` (`/{what} list` shows them).", "id")
    return int(word), rest.strip()
