"""How a project stands (pure): `/project status` under the project's facts, and `@Liaison status` in a thread."""
from __future__ import annotations

from datetime import date
from typing import Any

from bot.markup import to_mrkdwn
from bot.render.kit import Block, bulleted, context, message, section
from bot.render.milestones import milestone_line
from bot.render.updates import health_badge, update_line
from bot.services.overview import Overview


def overview_blocks(o: Overview, today: date) -> list[Block]:
    badge = health_badge(o.health, o.progress) or "_not reported yet_"
    return [
        section(f"*Health* {badge}"),
        section("*Next milestones*\n" + bulleted(o.next_milestones, lambda m: milestone_line(m, today, with_id=False),
                                                  most=len(o.next_milestones) or 1, empty="_none planned_")),
        section("*Latest updates*\n" + bulleted(o.latest_updates, lambda u: update_line(u, o.timezone, with_id=False),
                                                 most=len(o.latest_updates) or 1, empty="_no updates yet_")),
    ]


def status_in_thread(o: Overview, today: date) -> dict[str, Any]:
    """The answer to `@Liaison status`: everyone in the channel sees it, so it follows the channel's audience."""
    blocks = [section(f":bar_chart: *{to_mrkdwn(o.name)}*"), *overview_blocks(o, today)]
    if o.audience == "client":
        blocks.append(context("`@Liaison milestones` lists every milestone · `@Liaison update: …` tells the team"))
    return message(f"How {to_mrkdwn(o.name)} stands", blocks)


def milestones_in_thread(found: list[Any], project_name: str, today: date) -> dict[str, Any]:
    body = bulleted(found, lambda m: milestone_line(m, today, with_id=False), most=30, empty="_no milestones yet_")
    return message(f"Milestones of {to_mrkdwn(project_name)}",
                   [section(f":triangular_flag_on_post: *Milestones*\n{body}")])
