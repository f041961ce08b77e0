"""Keeping bindings true when Slack changes a channel: new ID, shared, unshared, archived, renamed, deleted."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.actors import Actor
from bot.services import audit
from storage import queries
from storage.models import ProjectChannel

SLACK = "slack"  # the actor in the audit log for changes Slack itself made


@dataclass(frozen=True)
class Notice:
    channel_id: str  # a channel, or a user ID for a direct message
    text: str


def _actor(team_id: str) -> Actor:
    return Actor(team_id, SLACK)


def _tell_team(binding: ProjectChannel, text: str) -> list[Notice]:
    """Tell the project's other internal channels; with none left, tell its leads directly."""
    others = [c.channel_id for c in binding.project.channels
              if c.audience == "internal" and not c.is_archived and c.id != binding.id]
    if others:
        return [Notice(c, text) for c in others]
    return [Notice(m.user_id, text) for m in binding.project.members if m.role == "lead"]


def id_changed(session: Session, team_id: str, old_id: str, new_id: str, now: datetime) -> None:
    binding = queries.binding_for_channel(session, team_id, old_id)
    if binding is None or queries.binding_for_channel(session, team_id, new_id):
        return
    binding.channel_id = new_id
    audit.record(session, _actor(team_id), "channel.id_changed", f"channel:{new_id}", now, binding.project_id, old=old_id)


def shared(session: Session, team_id: str, channel_id: str, now: datetime) -> list[Notice]:
    binding = queries.binding_for_channel(session, team_id, channel_id)
    if binding is None or binding.audience == "client":
        return []
    # Once people from another organisation can read it, internal material must stop going there.
    binding.audience = "client"
    key = binding.project.key
    audit.record(session, _actor(team_id), "channel.shared", f"channel:{channel_id}", now, binding.project_id)
    return [
        Notice(channel_id, f"This channel is now shared with another organisation, so from now on I only post "
                           f"client-safe information about `{key}` here."),
        *_tell_team(binding, f"<#{channel_id}> is now shared outside the company, so it became a *client* "
                             f"channel of `{key}`; internal digests no longer go there."),
    ]


def unshared(session: Session, team_id: str, channel_id: str, still_shared: bool, now: datetime) -> list[Notice]:
    binding = queries.binding_for_channel(session, team_id, channel_id)
    if binding is None or binding.audience != "client" or still_shared:
        return []
    notices = _tell_team(binding, f"<#{channel_id}> is no longer shared with the client, so it is no longer a "
                                  f"client channel of `{binding.project.key}`. Link the new one with "
                                  f"`/project link {binding.project.key}`.")
    audit.record(session, _actor(team_id), "channel.unshared", f"channel:{channel_id}", now, binding.project_id)
    session.delete(binding)
    return notices


def archived(session: Session, team_id: str, channel_id: str, now: datetime) -> list[Notice]:
    binding = queries.binding_for_channel(session, team_id, channel_id)
    if binding is None or binding.is_archived:
        return []
    binding.is_archived = True
    audit.record(session, _actor(team_id), "channel.archived", f"channel:{channel_id}", now, binding.project_id)
    return _tell_team(binding, f"<#{channel_id}> ({binding.audience} channel of `{binding.project.key}`) was "
                               "archived, so I stopped posting there. Unarchive it or link another channel.")


def unarchived(session: Session, team_id: str, channel_id: str, now: datetime) -> None:
    binding = queries.binding_for_channel(session, team_id, channel_id)
    if binding is not None and binding.is_archived:
        binding.is_archived = False
        audit.record(session, _actor(team_id), "channel.unarchived", f"channel:{channel_id}", now, binding.project_id)


def deleted(session: Session, team_id: str, channel_id: str, now: datetime) -> list[Notice]:
    binding = queries.binding_for_channel(session, team_id, channel_id)
    if binding is None:
        return []
    notices = _tell_team(binding, f"A {binding.audience} channel of `{binding.project.key}` (#{binding.name}) was "
                                  "deleted, so I unlinked it.")
    audit.record(session, _actor(team_id), "channel.deleted", f"channel:{channel_id}", now, binding.project_id)
    session.delete(binding)
    return notices


def renamed(session: Session, team_id: str, channel_id: str, name: str) -> None:
    binding = queries.binding_for_channel(session, team_id, channel_id)
    if binding is not None:
        binding.name = name[:200]
