"""Cards: the messages the bot posted for a record (an update, later a change request), kept by channel and ts so
that a change to the record changes every one of them in place (chat.update), or removes them (chat.delete)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from storage import queries
from storage.models import Card, ProjectChannel


def remember(session: Session, kind: str, record_id: int, project_id: int, channel_id: str, ts: str,
             now: datetime) -> None:
    queries.insert_or_ignore(session, Card, dict(kind=kind, record_id=record_id, project_id=project_id,
                                                 channel_id=channel_id, ts=ts, posted_at=now))


def posted(session: Session, kind: str, record_id: int) -> list[tuple[str, str]]:
    """(channel, ts) of each card shown for the record, oldest first."""
    rows = session.execute(select(Card.channel_id, Card.ts).where(Card.kind == kind, Card.record_id == record_id)
                           .order_by(Card.id))
    return [(channel_id, ts) for channel_id, ts in rows]


def forget_at(session: Session, channel_id: str, ts: str) -> None:
    """A card deleted (its record gone, or no longer shown in that channel)."""
    session.execute(delete(Card).where(Card.channel_id == channel_id, Card.ts == ts))


def shown_in(session: Session, kind: str, record_id: int) -> list[tuple[str, str, str]]:
    """(channel, ts, audience) of each card of the record, oldest first: a card outside the project's channels
    (a direct message) shows what the team sees."""
    rows = session.execute(
        select(Card.channel_id, Card.ts, ProjectChannel.audience)
        .outerjoin(ProjectChannel, and_(ProjectChannel.project_id == Card.project_id,
                                        ProjectChannel.channel_id == Card.channel_id))
        .where(Card.kind == kind, Card.record_id == record_id).order_by(Card.id))
    return [(channel_id, ts, audience or "internal") for channel_id, ts, audience in rows]


def forget_in(session: Session, project_id: int, channel_id: str) -> None:
    """A channel unlinked from the project: its cards there are left as they are, no longer kept up to date."""
    session.execute(delete(Card).where(Card.project_id == project_id, Card.channel_id == channel_id))
