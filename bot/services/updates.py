"""Status updates: checked, stored once (whatever the number of deliveries), listed, edited by their author,
deleted, or hidden by the lead."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select
from sqlalchemy.orm import Session

from bot.commands import ID_MAX, has_visible, is_number, whole_number, yes_no
from bot.actors import require_role
from bot.errors import BadInput, NotAllowed, NotFound
from bot.markup import slack_length
from bot.services import audit
from bot.services.places import Place
from storage import queries
from storage.models import HEALTHS, Project, Update

REASON_MAX = 300
# Deleted and hidden updates count nowhere: not in lists, digests, health or progress.
LIVE = (Update.deleted_at.is_(None), Update.hidden_at.is_(None))
TEXT_MAX = 3000
LIST_MOST = 20


@dataclass(frozen=True)
class UpdateDraft:
    text: str
    health: str | None
    progress: int | None
    share: bool | None  # None: not said (then the channel decides)


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
    hidden_by: str | None = None  # the lead who hid it
    hidden_reason: str | None = None
    deleted: bool = False

    @property
    def hidden(self) -> bool:
        return self.hidden_by is not None


_INSERT = insert(Update.__table__).returning(Update.__table__.c.id)  # built once, Core: the hot path of every /update


def draft_update(text: str, *, status: str | None, progress: str | None, share: str | None) -> UpdateDraft:
    """Check what was typed before anything is stored."""
    text = (text or "").strip()
    if not has_visible(text):
        raise BadInput("Say what happened: `/update status=green progress=60 Design signed off`.", "text")
    if (length := slack_length(text)) > TEXT_MAX:
        raise BadInput(f"The update is {length:,} characters long as Slack counts them "
                       f"(&amp; &lt; &gt; count as 4-5 each); keep it to {TEXT_MAX:,}.", "text")
    health = None
    if status is not None:
        health = status.strip().lower()
        if health not in HEALTHS:
            raise BadInput(f"`status={status}` isn't a status. Use `green`, `amber` or `red`.", "status")
    value = None
    if progress is not None:
        raw = progress.strip().rstrip("%")
        value = whole_number(raw, 0, 100)
        if value is None:
            shown = progress if len(progress) <= 20 else progress[:19] + "…"
            raise BadInput(f"`progress={shown}` must be a whole number from 0 to 100.", "progress")
    return UpdateDraft(text, health, value, None if share is None else yes_no(share, "share"))


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
        raise NotAllowed("Status and progress are set by the delivery team, so nothing was saved. "
                         "Send your update again without `status=` and `progress=`.")
    if place.is_client_channel and draft.share is False:
        raise BadInput(f"Everything logged in this channel is seen by the client, so `share=no` can't hold here "
                       f"and nothing was saved. Log internal updates in the project's internal channel, or from "
                       f"anywhere with `/update project={place.key} share=no …`.", "share")
    if actor.is_client and not place.is_client_channel:
        raise NotAllowed("Clients can log updates only in their shared channel.")
    visibility = "client" if place.is_client_channel or draft.share else "internal"
    values = dict(
        project_id=place.project_id, author_id=author_id or actor.user_id, logged_by=actor.user_id, text=draft.text,
        health=draft.health, progress=draft.progress, visibility=visibility, source=source, source_key=source_key,
        channel_id=channel_id, permalink=permalink, created_at=now,
    )
    if source_key is None:
        new_id = session.scalar(_INSERT, values)
    else:
        new_id = queries.insert_or_ignore(session, Update, values, returning=Update.id)
        if new_id is None:
            return None  # an earlier (or concurrent) delivery of this event or message stored it already
    row = Update(id=new_id, **values)  # as stored: the card is made from it, not read back
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
    conditions = [Update.project_id.in_(project_ids), *LIVE, column.is_not(None)]
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
    query = select(Update).where(Update.project_id == place.project_id, *LIVE)
    if place.shows == "client":
        query = query.where(Update.visibility == "client")
    if since is not None:
        query = query.where(Update.created_at >= since)
    rows = session.scalars(query.order_by(Update.created_at.desc(), Update.id.desc()).limit(most + 1))
    return [_card(r, place) for r in rows]


def edit_update(session: Session, place: Place, update_id: int, text: str, now: datetime) -> UpdateCard:
    """Only the author changes their words (a client's words are never rewritten by anyone else); the edited
    update says so wherever it is shown, and the audit log keeps what it said before."""
    row = _find(session, place, update_id)
    if place.actor.user_id != row.author_id:
        hint = " As the project lead you can hide it instead: `/update hide` with its number and why." \
            if place.actor.role == "lead" else ""
        raise NotAllowed(f"Only <@{row.author_id}>, who wrote update #{update_id}, can change its words.{hint}")
    text = (text or "").strip()
    if not has_visible(text):
        raise BadInput("Give the new text: `/update edit 12 Design signed off on Monday`.", "text")
    if (length := slack_length(text)) > TEXT_MAX:
        raise BadInput(f"The update is {length:,} characters long as Slack counts them "
                       f"(&amp; &lt; &gt; count as 4-5 each); keep it to {TEXT_MAX:,}.", "text")
    audit.record(session, place.actor, "update.edit", f"update:{row.id}", now, place.project_id,
                 before=row.text, after=text)
    row.text, row.edited_at = text, now
    session.flush()
    return _card(row, place)


def delete_update(session: Session, place: Place, update_id: int, now: datetime) -> UpdateCard:
    """Its author, or whoever logged it (a message captured by mistake), may delete it; the audit log keeps it."""
    row = _find(session, place, update_id)
    if place.actor.user_id not in (row.author_id, row.logged_by):
        hint = " As the project lead you can hide it instead: `/update hide` with its number and why." \
            if place.actor.role == "lead" else ""
        raise NotAllowed(f"Only <@{row.author_id}>, who wrote update #{update_id}, can delete it.{hint}")
    audit.record(session, place.actor, "update.delete", f"update:{row.id}", now, place.project_id, text=row.text)
    row.deleted_at = now
    session.flush()
    return _card(row, place)


def hide_update(session: Session, place: Place, update_id: int, reason: str, now: datetime) -> UpdateCard:
    """The lead takes someone's update out of lists, digests and status, with a reason; the words are kept (and
    in the audit log), and its cards say it was hidden and by whom."""
    require_role(place.actor, ("lead",), "hide updates")
    row = _find(session, place, update_id)
    reason = " ".join((reason or "").split())
    if not has_visible(reason):
        raise BadInput(f"Say why, so the team and the author know: `/update hide {update_id} Posted in the wrong "
                       "project`.", "reason")
    if len(reason) > REASON_MAX:
        raise BadInput(f"The reason is {len(reason):,} characters long; keep it to {REASON_MAX}.", "reason")
    audit.record(session, place.actor, "update.hide", f"update:{row.id}", now, place.project_id, text=row.text,
                 author=row.author_id, reason=reason)
    row.hidden_at, row.hidden_by, row.hidden_reason = now, place.actor.user_id, reason
    session.flush()
    return _card(row, place)


def _find(session: Session, place: Place, update_id: int) -> Update:
    """A live update this person may see: a client only client-visible ones."""
    row = session.scalar(select(Update).where(Update.id == update_id, Update.project_id == place.project_id, *LIVE))
    if row is None or (place.shows == "client" and row.visibility != "client"):
        raise NotFound(f"There is no update #{update_id} in `{place.key}`. `/update list` shows them.")
    return row


# Every card shown reads this (posted, refreshed, checked again), so it is built once: one query, not two.
_WITH_PROJECT = select(Update, Project).join(Project, Project.id == Update.project_id) \
    .where(Update.id == bindparam("update_id"))


def card_of(session: Session, update_id: int) -> tuple[UpdateCard, int, str] | None:
    """The update as its cards should show it now (hidden or deleted included), with its project's id and
    timezone; None when it is gone."""
    found = session.execute(_WITH_PROJECT, {"update_id": update_id}).first()
    if found is None:
        return None
    row, project = found
    return _card(row, project), project.id, project.timezone


def _card(row: Update, project: Place | Project) -> UpdateCard:
    return UpdateCard(
        id=row.id, project_key=project.key, project_name=project.name, author_id=row.author_id,
        logged_by=row.logged_by, text=row.text, health=row.health, progress=row.progress, visibility=row.visibility,
        source=row.source, permalink=row.permalink, created_at=row.created_at, edited=row.edited_at is not None,
        hidden_by=row.hidden_by, hidden_reason=row.hidden_reason, deleted=row.deleted_at is not None,
    )


def parse_id(text: str, what: str = "update") -> tuple[int, str]:
    word, rest = [*(text or "").split(None, 1), "", ""][:2]  # the number, then the rest as typed
    word = word.lstrip("#")
    if not is_number(word):
        raise BadInput(f"Which {what}? Give its number, e.g. `12` (`/{what} list` shows them).", "id")
    number = whole_number(word, 1, ID_MAX)
    if number is None:  # no record has it; int() can't even read thousands of digits
        shown = word if len(word) <= 20 else word[:19] + "…"
        raise NotFound(f"There is no {what} #{shown}. `/{what} list` shows them.")
    return number, rest.strip()
