"""The one way a slash command is answered: parse with its spec, `help` from the spec, else its subcommand.

Every subcommand handler takes (runtime, parsed command, actor, request body) and returns the ack's body:
an answer, or `{}` when the answer follows through response_url.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.actors import Actor
from bot.commands import CommandSpec, Parsed, parse
from bot.render.help import help_message
from bot.runtime import Runtime
from handlers.context import actor_of

Subcommand = Callable[[Runtime, Parsed, Actor, dict[str, Any]], dict[str, Any]]


def register_command(app: App, rt: Runtime, spec: CommandSpec, subcommands: dict[str, Subcommand]) -> None:
    missing = {s.name for s in spec.subs} - set(subcommands) - {"help"}
    assert not missing, f"{spec.name}: no handler for {missing}"

    def on_command(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        parsed = parse(spec, body.get("text", ""))
        if parsed.sub == "help":
            ack(**help_message(spec))
            return
        ack(**subcommands[parsed.sub](rt, parsed, actor_of(context), body))

    on_command.__name__ = f"on_{spec.name.lstrip('/')}_command"
    app.command(spec.name)(on_command)
