"""Block Kit builders: Slack's limits, escaping, and what each audience gets."""
from __future__ import annotations

from datetime import date

from bot.render import kit
from bot.render.as_text import message_text
from bot.render.help import help_message
from bot.render.projects import created_post, list_reply, project_blocks, status_reply
from bot.services.projects import ChannelCard, MemberCard, ProjectCard
from handlers.projects import PROJECT

CARD = ProjectCard(
    key="acme-web", name="Acme <!here> & co", client="Acme <b>", due=date(2026, 12, 15), timezone="Europe/Paris",
    created_by="U0LEAD",
    channels=(ChannelCard("C1", "acme-internal", "internal", False), ChannelCard("C2", "acme-shared", "client", False)),
    members=(MemberCard("U0LEAD", "lead"), MemberCard("U0TEAM", "team"), MemberCard("U0CLIENT", "client_approver")),
)


def test_escape_neutralises_mentions_and_markup():
    assert kit.escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_user_text_is_escaped_in_cards_but_readable_as_text():
    blocks = project_blocks(CARD, "internal")
    # mrkdwn is where Slack turns <!here> into a ping; plain_text (the header) shows it literally.
    mrkdwn = [t["text"] for b in blocks for t in [b.get("text", {}), *b.get("fields", [])] if t.get("type") == "mrkdwn"]
    assert not any("<!here>" in t or "<b>" in t for t in mrkdwn)
    assert "<!here>" not in created_post(CARD)["text"]
    text = message_text({"blocks": blocks}, {})
    assert "Acme <!here> & co" in text  # shown literally to the reader, never as a ping


def test_client_audience_sees_no_internal_channels_or_team_members():
    client = str(project_blocks(CARD, "client"))
    assert "C1" not in client and "U0TEAM" not in client and "Channels" not in client
    assert "U0LEAD" in client and "U0CLIENT" in client
    internal = str(project_blocks(CARD, "internal"))
    assert "C1" in internal and "U0TEAM" in internal


def test_limits_hold_for_huge_text_and_long_lists():
    assert len(kit.section("x" * 10_000)["text"]["text"]) == kit.MAX_SECTION_TEXT
    assert len(kit.header("y" * 500)["text"]["text"]) == kit.MAX_HEADER
    many = [f"item {i} " + "z" * 100 for i in range(500)]
    listed = kit.bulleted(many, str, most=40)
    assert len(listed) <= kit.MAX_SECTION_TEXT and listed.endswith("more_")
    assert "…and 475 more" in kit.bulleted(many[:500], lambda s: s[:6], most=25)
    assert len(kit.message("t", [kit.divider()] * 80)["blocks"]) == kit.MAX_MESSAGE_BLOCKS


def test_list_of_many_projects_ends_with_and_n_more():
    cards = [CARD] * 120
    reply = list_reply(cards, "internal")
    text = message_text(reply, {})
    shown = text.count("• ")
    assert 0 < shown <= 40 and f"…and {120 - shown} more" in text
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in reply["blocks"])


def test_status_reply_is_ephemeral():
    assert status_reply(CARD, "internal")["response_type"] == "ephemeral"


def test_help_lists_each_subcommand_with_an_example():
    text = message_text(help_message(PROJECT), {})
    for sub in PROJECT.subs:
        assert f"/project {sub.name}" in text
    assert text.count("e.g.") == len(PROJECT.subs)
