"""Where a request happens: which project, which audience the channel has, and the actor's role there."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actors import Actor
from bot.errors import NotFound
from bot.services.projects import resolve
from storage import queries
from storage.models import Project


@dataclass(frozen=True)
class Place:
    project_id: int
    key: str
    name: str
    timezone: str
    audience: str  # of the channel the request came from: "client" for a shared channel, else "internal"
    actor: Actor  # with their role in this project

    @property
    def is_client_channel(self) -> bool:
        return self.audience == "client"


def place_of(session: Session, actor: Actor, channel_id: str | None, key: str | None) -> Place:
    project_id = resolve(session, actor, channel_id, key)
    binding = queries.binding_for_channel(session, actor.team_id, channel_id) if channel_id else None
    if binding is not None and binding.project_id == project_id and binding.is_archived:
        raise NotFound("This channel's link to its project is paused because the channel is archived.")
    in_own_channel = binding is not None and binding.project_id == project_id
    audience = binding.audience if in_own_channel else ("client" if actor.is_external else "internal")
    project = session.scalar(select(Project).where(Project.id == project_id))
    if project is None:
        raise NotFound("That project no longer exists.")
    role = queries.role_of(session, project_id, actor.user_id)
    return Place(project_id, project.key, project.name, project.timezone, audience, actor.with_role(role))
