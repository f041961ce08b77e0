"""Who is asking: an Actor in `context` before any listener runs. Roles are read by the listener's own unit of work."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot import slack
from bot.actors import Actor
from bot.runtime import Runtime
from bot.services import people
from bot.services.places import Place, place_of

# Which organisation someone belongs to hardly ever changes; roles (which do) are not kept here.
PEOPLE_TTL = 300.0


class _People:
    """People seen recently by this process, so most requests need neither the database nor Slack to say who."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    def get(self, team_id: str, user_id: str) -> Actor | None:
        with self._lock:
            hit = self._seen.get((team_id, user_id))
        return hit[1] if hit and time.monotonic() - hit[0] < PEOPLE_TTL else None

    def put(self, actor: Actor) -> Actor:
        with self._lock:
            if len(self._seen) > 50_000:
                self._seen.clear()
            self._seen[(actor.team_id, actor.user_id)] = (time.monotonic(), actor)
        return actor


def workspace_of(context: BoltContext) -> str | None:
    # In a Slack Connect channel the payload's team can be the other org's; the installation's team is ours.
    result = context.authorize_result
    return (result.team_id if result else None) or context.team_id


def person(rt: Runtime, team_id: str, user_id: str, client: WebClient | None = None) -> Actor:
    """Someone as remembered, or else as Slack says (asked with `client`, the quick one by default, and then
    remembered); with no role. Raises NotFound or SlackTrouble when Slack can't say."""
    now = rt.clock.now()
    with rt.db.read() as session:
        actor = people.known(session, team_id, user_id, now)
    if actor is None:
        facts = slack.person_facts(client or rt.quick, user_id)
        with rt.db.transaction() as session:
            actor = people.remember(session, team_id, facts, now)
    return actor


def register(app: App, rt: Runtime) -> None:
    seen = _People()

    def identify_person(team_id: str, user_id: str) -> Actor:
        return seen.get(team_id, user_id) or seen.put(person(rt, team_id, user_id))

    @app.middleware
    def identify(context: BoltContext, next: Callable[[], Any]) -> Any:
        team_id, user_id = workspace_of(context), context.user_id
        if team_id and user_id:
            context["actor"] = identify_person(team_id, user_id)
        return next()


def actor_of(context: BoltContext) -> Actor:
    return context["actor"]


def place_for(rt: Runtime, actor: Actor, channel_id: str | None, key: str | None, asserted: bool = True) -> Place:
    """The rights check every command, mention, shortcut, form and job goes through: which project, what may be
    shown here, and whether this person may act on it at all (raises NotAllowed / NotFound with the reason)."""
    with rt.db.read() as session:
        return place_of(session, actor, channel_id, key, rt.members.includes, asserted)
