"""What people see of projects: cards, lists and confirmations. Client audiences get only client-safe parts."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.actors import CLIENT_ROLES, ROLE_NAMES
from bot.markup import to_mrkdwn
from bot.render.kit import bulleted, context, divider, ephemeral, fields, header, message, section
from bot.render.totals import budget_text, due_text
from bot.services.changes import Totals
from bot.services.projects import ProjectCard


def _facts(card: ProjectCard, totals: Totals | None = None) -> list[tuple[str, str]]:
    # The card's own baseline, with what approved change requests add when the caller read them.
    base = dict(budget_cents=card.budget_cents, budget_currency=card.budget_currency, due=card.due)
    t = replace(totals, **base) if totals else Totals(**base)
    facts = [
        ("Key", f"`{card.key}`"),
        ("Client", to_mrkdwn(card.client) if card.client else "_not set_"),
        ("Due", due_text(t)),
    ]
    budget = budget_text(t)  # contract data the client shares: shown to both audiences
    if budget is not None:
        facts.append(("Budget", budget))
    return [*facts, ("Timezone", card.timezone)]


def _people(card: ProjectCard, audience: str) -> str:
    members = card.members
    if audience == "client":
        members = tuple(m for m in members if m.role == "lead" or m.role in CLIENT_ROLES)
    return bulleted(members, lambda m: f"<@{m.user_id}> — {ROLE_NAMES[m.role]}", most=20)


def project_blocks(card: ProjectCard, audience: str, totals: Totals | None = None) -> list[dict[str, Any]]:
    """The project's facts (with approved change requests when `totals` has any), people and channels."""
    blocks = [header(card.name), fields(_facts(card, totals)), section(f"*People*\n{_people(card, audience)}")]
    if audience == "internal":
        def channel_line(c: Any) -> str:
            return f"<#{c.channel_id}> — {c.audience}" + (" _(archived)_" if c.is_archived else "")

        blocks.append(section(f"*Channels*\n{bulleted(card.channels, channel_line, most=20)}"))
    return blocks


def status_reply(card: ProjectCard, audience: str, standing: list[dict[str, Any]] | None = None,
                 totals: Totals | None = None) -> dict[str, Any]:
    blocks = project_blocks(card, audience, totals)
    return ephemeral(f"{to_mrkdwn(card.name)} ({card.key})", [*blocks[:2], *(standing or []), *blocks[2:]])


def created_post(card: ProjectCard, totals: Totals | None = None) -> dict[str, Any]:
    blocks = [
        section(f":sparkles: <@{card.created_by}> created the project *{to_mrkdwn(card.name)}* here."),
        *project_blocks(card, "internal", totals),
        context(
            f"Link the client's shared channel by running `/project link {card.key}` in it. "
            "`/project help` lists everything."
        ),
    ]
    return message(f"New project: {to_mrkdwn(card.name)} ({card.key})", blocks)


def created_reply(card: ProjectCard) -> dict[str, Any]:
    return ephemeral(
        f"Created {to_mrkdwn(card.name)} ({card.key}).",
        [section(f":white_check_mark: Created *{to_mrkdwn(card.name)}* (`{card.key}`) and bound this channel as internal.")],
    )


def linked_post(card: ProjectCard, audience: str) -> dict[str, Any]:
    if audience == "client":
        text = (
            f":handshake: This channel is now linked to *{to_mrkdwn(card.name)}*. "
            "Project updates for the client will be shared here."
        )
    else:
        text = f":link: This channel is now an internal channel of *{to_mrkdwn(card.name)}* (`{card.key}`)."
    return message(f"Linked to {to_mrkdwn(card.name)}", [section(text)])


def linked_reply(card: ProjectCard, audience: str) -> dict[str, Any]:
    return ephemeral(
        f"Linked as {audience} channel.",
        [section(f":white_check_mark: Linked this channel to `{card.key}` as "
                 f"{'an *internal*' if audience == 'internal' else 'the *client*'} channel.")],
    )


def role_reply(card: ProjectCard, user_id: str, role: str) -> dict[str, Any]:
    if role == "remove":
        text = f":white_check_mark: <@{user_id}> no longer has a role in `{card.key}`."
    else:
        text = f":white_check_mark: <@{user_id}> is now {ROLE_NAMES[role]} of `{card.key}`."
    return ephemeral(text, [section(text)])


def list_reply(cards: list[ProjectCard], audience: str) -> dict[str, Any]:
    if not cards:
        text = ("This channel isn't linked to a project yet." if audience == "client" else
                "You're not on the team of any project. Start one with `/project create <name>`, or ask a "
                "project's lead to invite you to its internal channel.")
        return ephemeral(text, [section(text)])

    def line(card: ProjectCard) -> str:
        client = f" for {to_mrkdwn(card.client)}" if card.client and audience == "internal" else ""
        due = f", due {card.due.isoformat()}" if card.due else ""
        return f"`{card.key}` *{to_mrkdwn(card.name)}*{client}{due}"

    blocks = [header("Projects"), section(bulleted(cards, line, most=40)), divider(),
              context("`/project status project=<key>` shows one.")]
    return ephemeral(f"{len(cards)} projects", blocks)


def notice(text: str) -> dict[str, Any]:
    return message(text, [section(text)])


def schedule_reply(key: str, described: str, upcoming: datetime | None, tz: str, changed: bool) -> dict[str, Any]:
    nxt = upcoming.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M") + f" ({tz})" if upcoming else "none: off"
    head = f":white_check_mark: Digests for `{key}`: *{described}*." if changed else \
        f"Digests for `{key}` go out *{described}*."
    return ephemeral(f"Digests for {key}: {described}",
                     [section(f"{head}\nNext: {nxt}"),
                      context("Change it with `/project schedule weekly mon 09:00`, `daily 17:30`, "
                              "`cron=\"0 9 * * 1-5\"` or `off`.")])


def digest_posted_reply(sent: int, failed: int, errors: dict[str, int], already: int = 0) -> dict[str, Any]:
    if not sent and not failed:
        if already:
            return ephemeral("A digest was posted to this project's channels within the last second, so I didn't "
                             "post it again. `/project digest preview` shows it.")
        return ephemeral("This project has no channel to post a digest to. Link one with `/project link <key>`.")
    text = f":white_check_mark: Digest posted to {sent} channel{'s' if sent != 1 else ''}."
    if failed:
        reasons = ", ".join(f"`{code}`" for code in errors)
        text += f" {failed} could not be posted ({reasons}); I'll try those again on the next run."
    return ephemeral(text, [section(text)])


FIELD_NAMES = {"name": "Name", "client": "Client", "due": "Due", "tz": "Timezone", "key": "Key", "budget": "Budget"}


def edited_reply(card: ProjectCard, changed: list[tuple[str, str, str]]) -> dict[str, Any]:
    lines = "\n".join(f"• {FIELD_NAMES[f]}: {to_mrkdwn(before)} → *{to_mrkdwn(after)}*" for f, before, after in changed)
    return ephemeral(f"Updated {card.key}.", [section(f":white_check_mark: Updated `{card.key}`:\n{lines}")])


def unlinked_post(project_name: str) -> dict[str, Any]:
    text = f":wave: This channel is no longer linked to *{to_mrkdwn(project_name)}*; I won't post about it here."
    return message(text, [section(text)])


def unlinked_reply(key: str, channel: Any) -> dict[str, Any]:
    text = f":white_check_mark: Unlinked <#{channel.channel_id}> ({channel.audience}) from `{key}`."
    return ephemeral(text, [section(text)])
