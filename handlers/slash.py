"""The one way a slash command is answered: parse with its spec, `help` from the spec, else its subcommand.

Every subcommand handler takes (runtime, parsed command, actor, request body) and returns the ack's body:
an answer, or `{}` when the answer follows through response_url.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot import slack
from bot.actors import Actor
from bot.commands import CommandSpec, Parsed, parse
from bot.errors import UserError
from bot.render.errors import answer_for
from bot.render.help import help_message, kept_as_text_message
from bot.render.kit import MAX_MESSAGE_BLOCKS, section
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
        if not parsed.kept_as_text:
            ack(**subcommands[parsed.sub](rt, parsed, actor_of(context), body))
            return
        try:
            answer = subcommands[parsed.sub](rt, parsed, actor_of(context), body)
        except UserError as e:  # the note may be why it went wrong (`move Design sign-off due=…`)
            answer = answer_for(e)[0]
        _answer_with_note(rt, ack, answer, parsed, body.get("response_url"))

    on_command.__name__ = f"on_{spec.name.lstrip('/')}_command"
    app.command(spec.name)(on_command)


def _answer_with_note(rt: Runtime, ack: Ack, answer: dict[str, Any], parsed: Parsed, response_url: str | None) -> None:
    """Say that words which read as options were kept as text: under an answer only the person sees, as the ack
    itself when the answer follows later, or else (an answer the channel sees) in a message only they see."""
    if not answer:
        ack(**kept_as_text_message(parsed))
        return
    if answer.get("response_type") != "in_channel":
        blocks = answer.get("blocks") or [section(answer.get("text", ""))]
        note = kept_as_text_message(parsed)["blocks"]
        ack(**{**answer, "blocks": [*blocks[: MAX_MESSAGE_BLOCKS - len(note)], *note]})
        return
    ack(**answer)
    rt.outbox.later(slack.respond, response_url, kept_as_text_message(parsed))
