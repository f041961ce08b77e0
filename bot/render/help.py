"""`/<command> help`, built from the same spec the parser reads."""
from __future__ import annotations

import re
from typing import Any

from bot.commands import GLOBAL_OPTIONS, CommandSpec, Parsed
from bot.render.kit import context, ephemeral, escape, header, section

_NAMED = re.compile(r"<([@#])[A-Z0-9]+\|([^<>|]*)>")  # `<@U123|sam>` as typed: `@sam`


def help_message(spec: CommandSpec) -> dict[str, Any]:
    blocks = [header(f"{spec.name} — {spec.summary}")]
    for sub in spec.subs:
        lines = [f"*`{spec.name} {sub.name}{(' ' + sub.usage) if sub.usage else ''}`*", escape(sub.summary)]
        for key, text in sub.options.items():
            lines.append(f"  `{key}=` {escape(text)}")
        if sub.example:
            lines.append(f"_e.g._ `{spec.name} {sub.example}`")
        blocks.append(section("\n".join(lines)))
    globals_ = ", ".join(f"`{k}=` {v}" for k, v in GLOBAL_OPTIONS.items())
    blocks.append(context(f"Options come first, right after the subcommand; the rest is kept as you typed it. "
                          f"Every subcommand also takes {globals_}. Quote values with spaces: `client=\"Acme Co\"`."))
    return ephemeral(f"{spec.name} help", blocks)


def kept_as_text_note(parsed: Parsed) -> str:
    """Told when words of the text read as options: they were kept as text, and how to set them instead."""
    words = [f"`{_typed(w)}`" for w in parsed.kept_as_text]
    listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
    it = "it" if len(words) == 1 else "them"
    return (f"I kept {listed} as part of the text. To set {it}, put {it} before the text: "
            f"`{_typed(parsed.retyped)}`")


def kept_as_text_message(parsed: Parsed) -> dict[str, Any]:
    note = kept_as_text_note(parsed)
    return ephemeral(note, [context(f":information_source: {note}")])


def _typed(text: str) -> str:
    return escape(_NAMED.sub(r"\1\2", text).replace("`", "'"))
