"""Every feature module, listed once: each registers its listeners and declares what the manifest needs."""
from __future__ import annotations

from types import ModuleType

from slack_bolt import App

from bot.jobs import JobFunction
from bot.runtime import Runtime
from handlers import changes, channels, context, errors, feedback, mentions, milestones, projects, risks, surveys, updates
from handlers.cards import CardKind, card_jobs
from handlers.interactive import register_actions, register_forms
from scheduler import service as scheduler

# Order matters: errors and identity first, so every feature sees an actor and a friendly error path.
FEATURES: list[ModuleType] = [errors, context, projects, updates, milestones, changes, feedback, surveys, risks,
                              channels, mentions]


def register_all(app: App, rt: Runtime) -> None:
    for feature in FEATURES:
        feature.register(app, rt)
        register_actions(app, rt, getattr(feature, "ACTIONS", ()))
        register_forms(app, rt, getattr(feature, "FORMS", ()))


def card_kinds() -> list[CardKind]:
    return [kind for feature in FEATURES for kind in getattr(feature, "CARDS", ())]


def job_kinds() -> dict[str, JobFunction]:
    """The work each feature (and the scheduler) leaves for after an ack, by kind: what a job runner is given."""
    kinds: dict[str, JobFunction] = card_jobs(card_kinds())
    for owner in [*FEATURES, scheduler]:
        kinds.update(getattr(owner, "JOBS", {}))
    return kinds
