"""What Liaison says when mentioned with nothing it understands."""
from __future__ import annotations

from typing import Any

from bot.render.kit import ephemeral, section


def mention_help() -> dict[str, Any]:
    text = (
        "Hi! I keep this project's updates, milestones and approvals in one place.\n"
        "• Team members: `/project help` lists what you can do.\n"
        "• Everyone in this channel, including the client, can press my buttons when I ask for an approval."
    )
    return ephemeral("How to use Liaison", [section(text)])
