"""What Liaison says when asked for help by mention, or mentioned with something it doesn't understand."""
from __future__ import annotations

from typing import Any

from bot.render.kit import context, message, section

VERBS_HELP = (
    "• `@Liaison status`: how the project stands, what is due next, the latest updates\n"
    "• `@Liaison milestones`: every milestone and its date\n"
    "• `@Liaison update: …`: tell the team what happened; it goes into the project's updates and digests\n"
    "• `@Liaison change: …`: ask for a change; the team assesses its cost and time, then you approve or reject "
    "it on its card\n"
    "• `@Liaison changes`: every change request and where it stands\n"
    "• `@Liaison feedback: …`: tell the team how it is going; only the team reads it\n"
    "• `@Liaison help`: this list"
)


def mention_help(for_client: bool, puzzled: bool = False) -> dict[str, Any]:
    head = "Sorry, I didn't understand that. Here is what I can do:" if puzzled else "Here is what I can do:"
    blocks = [section(f"{head}\n{VERBS_HELP}")]
    if not for_client:
        blocks.append(context("Team members also have `/project`, `/update`, `/milestone`, `/change` and "
                              "`/feedback`; `/project help` lists everything."))
    return message("What Liaison can do: status, milestones, update:, change:, changes, feedback:, help", blocks)


def client_footer() -> str:
    """The line under a client digest: what the client can do next, without our slash commands."""
    return ("`@Liaison status` any time · `@Liaison update: …` to tell the team · `@Liaison change: …` to ask for a "
            "change · `@Liaison help`")
