"""Who is asking and from which project's channel: put into `context` before any listener runs."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext

from bot import slack
from bot.actors import Actor
from bot.runtime import Runtime
from bot.services import people, projects
from storage import queries


def workspace_of(context: BoltContext) -> str | None:
    # In a Slack Connect channel the payload's team can be the other org's; the installation's team is ours.
    result = context.authorize_result
    return (result.team_id if result else None) or context.team_id


def register(app: App, rt: Runtime) -> None:
    @app.middleware
    def identify(context: BoltContext, next: Callable[[], Any]) -> Any:
        team_id, user_id, channel_id = workspace_of(context), context.user_id, context.channel_id
        if team_id and user_id:
            now = rt.clock.now()
            with rt.db.read() as session:
                actor = people.known(session, team_id, user_id, now)
                binding = projects.binding_of(session, team_id, channel_id) if channel_id else None
                role = queries.role_of(session, binding.project_id, user_id) if binding else None
            if actor is None:
                facts = slack.person_facts(rt.quick, user_id)
                with rt.db.transaction() as session:
                    actor = people.remember(session, team_id, facts, now)
            context["actor"] = actor.with_role(role)
            context["binding"] = binding
        return next()


def actor_of(context: BoltContext) -> Actor:
    return context["actor"]
