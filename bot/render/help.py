"""`/<command> help`, built from the same spec the parser reads."""
from __future__ import annotations

from typing import Any

from bot.commands import GLOBAL_OPTIONS, CommandSpec
from bot.render.kit import context, ephemeral, escape, header, section


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
    blocks.append(context(f"Every subcommand also takes {globals_}. Quote values with spaces: `client=\"Acme Co\"`."))
    return ephemeral(f"{spec.name} help", blocks)
