"""Where a request happens and whether the person may act there: the one rights check of every entry point.

A person acts on a project as its lead or team (a role given with `/project role`, or being in one of its
internal channels, which Slack tells), or as its client in its client channel, where only client-visible data
is shown. Everyone else is refused with a sentence that names the project's leads and shows nothing of it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.actors import INTERNAL_ROLES, Actor
from bot.errors import NotAllowed, NotFound
from bot.services.projects import ProjectCard, not_linked, resolve, shown, shown_here

# Asks Slack whether a person is in any of these channels: (channel ids, user id) -> bool.
InChannels = Callable[[Sequence[str], str], bool]


@dataclass(frozen=True)
class Place:
    project_id: int
    key: str
    name: str
    timezone: str
    audience: str  # of the channel the request came from: "client" for the client's channel, else "internal"
    actor: Actor  # with their role in this project; "team" for someone in one of its internal channels
    card: ProjectCard  # the project as read for this check: its facts, channels and people

    @property
    def is_client_channel(self) -> bool:
        return self.audience == "client"

    @property
    def shows(self) -> str:
        """What a reply here may show: client-safe data to a client or in the client's channel."""
        return "client" if self.actor.is_client or self.is_client_channel else "internal"


def place_of(session: Session, actor: Actor, channel_id: str | None, key: str | None, in_channels: InChannels,
             asserted: bool = True) -> Place:
    """`asserted`: Slack itself says the request comes from `channel_id` (a command, a mention, a button in a
    message there); a form's channel is only what was put in it, so its submitter's membership is checked."""
    if key or not channel_id:
        project = shown(session, resolve(session, actor, channel_id, key))
    else:
        project = shown_here(session, actor.team_id, channel_id)
        if project is None:
            raise not_linked(actor)
    if project is None:
        raise NotFound("That project no longer exists.")
    binding = next((c for c in project.channels if channel_id and c.channel_id == channel_id), None)
    if binding is not None and binding.is_archived:
        raise NotFound(f"This channel is archived, so its link to `{project.key}` is paused. Unarchive it to use "
                       "it again, or use the project's other channels.")
    role = next((m.role for m in project.members if m.user_id == actor.user_id), None)
    who = actor.with_role(role)
    if who.is_client:
        if binding is None or binding.audience != "client":
            raise NotAllowed("People on the client's side can use Liaison only in the channel they share with the "
                             "team. Ask there, or ask the project lead.")
    elif role not in INTERNAL_ROLES:
        internal = [c.channel_id for c in project.channels if c.audience == "internal" and not c.is_archived]
        # A command typed in an internal channel comes from someone in it: Slack says so by sending it.
        here = asserted and binding is not None and binding.audience == "internal"
        if not (here or in_channels(internal, actor.user_id)):
            leads = [m.user_id for m in project.members if m.role == "lead"]
            raise NotAllowed(refusal(project.key, leads or [project.created_by]))
        who = actor.with_role("team")
    audience = binding.audience if binding is not None else ("client" if who.is_client else "internal")
    return Place(project.id, project.key, project.name, project.timezone, audience, who, project)


def refusal(key: str, leads: Sequence[str]) -> str:
    names = " or ".join(f"<@{u}>" for u in leads)
    return (f"You're not on the team of `{key}`, so I can't show or change anything there for you. Ask {names} "
            "to invite you to its internal channel or give you a role with `/project role`.")
