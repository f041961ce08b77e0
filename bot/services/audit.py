"""The audit trail every feature writes to: one row per change, never edited."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.actors import Actor
from storage.models import AuditEntry


_INSERT = insert(AuditEntry.__table__)  # built once, Core (no ORM bulk machinery): every change writes one


def record(
    session: Session,
    actor: Actor,
    action: str,
    target: str,
    now: datetime,
    project_id: int | None = None,
    **detail: Any,
) -> None:
    # A plain insert, written at once: the audit row goes out with the change it records, in its transaction.
    session.execute(_INSERT, dict(
        team_id=actor.team_id, project_id=project_id, actor_id=actor.user_id, action=action, target=target[:120],
        detail=detail, at=now,
    ))
