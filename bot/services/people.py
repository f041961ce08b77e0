"""People as Slack describes them: remembered so that each request need not ask Slack again."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.actors import Actor
from storage import queries
from storage.models import Person, Workspace

REFRESH_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class PersonFacts:
    user_id: str
    home_team_id: str
    name: str = ""
    is_stranger: bool = False
    tz: str | None = None

    def is_external_to(self, team_id: str) -> bool:
        return self.is_stranger or self.home_team_id != team_id


def ensure_workspace(session: Session, team_id: str, now: datetime) -> None:
    queries.insert_or_ignore(session, Workspace, {"team_id": team_id, "name": "", "created_at": now})


def remember(session: Session, team_id: str, facts: PersonFacts, now: datetime) -> Actor:
    ensure_workspace(session, team_id, now)
    queries.upsert(
        session,
        Person,
        {
            "team_id": team_id,
            "user_id": facts.user_id,
            "home_team_id": facts.home_team_id,
            "is_external": facts.is_external_to(team_id),
            "name": facts.name[:200],
            "tz": facts.tz,
            "refreshed_at": now,
        },
        keys=["team_id", "user_id"],
    )
    return Actor(team_id, facts.user_id, facts.is_external_to(team_id), None, facts.name)


def known(session: Session, team_id: str, user_id: str, now: datetime) -> Actor | None:
    """The remembered person, or None when we never saw them or the memory is too old to trust."""
    row = queries.person(session, team_id, user_id)
    if row is None or now - row.refreshed_at > REFRESH_AFTER:
        return None
    return Actor(team_id, user_id, row.is_external, None, row.name)
