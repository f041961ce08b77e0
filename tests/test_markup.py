"""What people typed shows in Slack as they meant it: mentions stay mentions, broadcasts never ping, and nothing
is cut in the middle of an `&amp;` or a mention. Pure tests of bot.markup, then through the real app."""
from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot import payloads
from bot.markup import slack_length, to_mrkdwn
from bot.render.as_text import mrkdwn as as_text
from bot.render.milestones import list_reply as milestone_list
from bot.services.milestones import MilestoneCard
from storage.models import Milestone, Update
from tests.conftest import SECRET, TEAM

BROKEN_ENTITY = re.compile(r"&(?!(?:amp|lt|gt);)")  # an `&` that doesn't start a whole entity
SAFE_TOKEN = re.compile(r"<(?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|(?:https?://|mailto:)[^<>|\s]+(?:\|[^<>]*)?)>")


def unsafe(mrkdwn: str) -> list[str]:
    """What in this mrkdwn could be misread by Slack: broken entities, and `<...>` that isn't a mention or link."""
    rest = SAFE_TOKEN.sub("", mrkdwn)
    return BROKEN_ENTITY.findall(mrkdwn) + re.findall(r"[<>]", rest)


# --- bot.markup, pure ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, shown", [
    ("ask <@U0TEAM|sam>", "ask <@U0TEAM>"),
    ("ask <@U0TEAM>", "ask <@U0TEAM>"),
    ("in <#C0SHARED|acme-shared>", "in <#C0SHARED>"),
    ("see <https://example.com/a?b=1&amp;c=2|the doc>", "see <https://example.com/a?b=1&amp;c=2|the doc>"),
    ("see <https://example.com>", "see <https://example.com>"),
    ("mail <mailto:sam@example.com|Sam>", "mail <mailto:sam@example.com|Sam>"),
    ("<!channel> <!here> <!here|here> <!everyone>", "@channel @here @here @everyone"),
    ("cc <!subteam^S1|@devs> and <!subteam^S2>", "cc @devs and @group"),
    ("due <!date^1764000000^{date_short}|24 Nov 2025>", "due 24 Nov 2025"),
    ("R&amp;D &lt;b&gt;bold&lt;/b&gt;", "R&amp;D &lt;b&gt;bold&lt;/b&gt;"),  # escaped by Slack: kept, not doubled
    ("R&D <b>x</b> 1 < 2 > 0", "R&amp;D &lt;b&gt;x&lt;/b&gt; 1 &lt; 2 &gt; 0"),  # typed into a form: escaped once
    ("<javascript:alert(1)|click> <!foo>", "&lt;javascript:alert(1)|click&gt; &lt;!foo&gt;"),
    ("&amp;amp; &nbsp;", "&amp;amp; &amp;nbsp;"),
])
def test_slack_text_becomes_safe_mrkdwn(typed, shown):
    assert to_mrkdwn(typed) == shown
    assert "<!" not in to_mrkdwn(typed) and not unsafe(to_mrkdwn(typed))


def test_nothing_said_is_nothing_shown():
    assert to_mrkdwn(None) == to_mrkdwn("") == "" and slack_length(None) == 0


def test_slack_length_counts_what_slack_counts():
    assert slack_length("&amp;" * 600) == 3000  # 600 `&` typed
    assert slack_length("a & b") == len("a &amp; b")
    assert slack_length("<@U0TEAM|sam>") == len("<@U0TEAM>")
    assert slack_length("<!channel>") == len("@channel")


def test_shortening_counts_what_people_see_and_never_cuts_an_entity_or_a_mention():
    assert to_mrkdwn("&amp;" * 10, 5) == "&amp;" * 4 + "…"
    assert to_mrkdwn("&amp;" * 10, 10) == "&amp;" * 10  # ten characters to see: it fits
    assert to_mrkdwn("see <@U0TEAM|sam> now", 6) == "see…"
    assert to_mrkdwn("see <@U0TEAM|sam> now", 9) == "see <@U0TEAM>…"
    assert to_mrkdwn("ping <!channel> please", 8) == "ping…"
    assert to_mrkdwn("read <https://x.io|the long document> now", 20) == "read…"
    assert to_mrkdwn("hello world, how are you", 12) == "hello world…"
    text = "Tom &amp; Jerry &lt;3 <@U0TEAM|sam> <#C0SHARED|acme> <https://x.io|doc> a&b<c>d " * 5
    for most in range(1, 140):
        short = to_mrkdwn(text, most)
        assert not unsafe(short), (most, short)
        assert len(as_text(short, {"U0TEAM": "sam", "C0SHARED": "acme"})) <= most, (most, short)
        assert short.endswith("…")


def test_a_long_list_of_milestones_is_never_clipped_in_the_middle_of_a_name_or_a_mention():
    today = date(2026, 11, 24)
    for name in ("&amp;" * entities + "x" * letters for entities in range(1, 13) for letters in range(4)):
        many = [MilestoneCard(i, name, date(2026, 12, 1), "U0TEAM", "client", None) for i in range(30)]
        for key in ("k" * length for length in range(1, 25)):  # keys of every length
            reply = milestone_list(many, key, today)
            for text in mrkdwn_texts(reply):
                assert len(text) <= 3000 and not unsafe(text), (name, key, text[-40:])


# --- through the real app -----------------------------------------------------------------------------------------

def stored(db) -> list[Update]:
    with db.read() as session:
        return list(session.scalars(select(Update).order_by(Update.id)))


def mrkdwn_texts(payload: Any) -> list[str]:
    """Every `text` in a message payload: the fallback (which Slack also reads as mrkdwn) and every block's."""
    found: list[str] = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "text" and isinstance(value, str) and payload.get("type") != "plain_text":
                found.append(value)
            else:
                found += mrkdwn_texts(value)
    elif isinstance(payload, list):
        for item in payload:
            found += mrkdwn_texts(item)
    return found


def sections(*payloads: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for p in payloads for b in p.get("blocks", [])
            if b.get("type") == "section" and "text" in b]


def shown(app, *replies) -> list[dict[str, Any]]:
    """Everything people saw: these answers, and every message posted once the work after the acks is done."""
    app.jobs.drain()
    calls = [c for c in app.fake.calls if c.method in ("chat.postMessage", "chat.postEphemeral", "chat.update")]
    return [r.json for r in replies] + [c.args for c in calls]


def mention(app, text: str, *, user: str = "U0CLIENT", channel: str = "C0SHARED", event_id: str = "Ev0MARKUP1"):
    event = {"type": "app_mention", "user": user, "text": f"<@U0LIAISON> {text}", "channel": channel,
             "ts": "1764000000.000300"}
    body, ctype = payloads.event(event, team_id=TEAM, event_id=event_id)
    return app.post(body, {"content-type": ctype, **payloads.sign(SECRET, body)})


def test_a_mention_in_an_update_stays_a_mention(project, db):
    reply = project.command("Handed the copy to <@U0TEAM|sam> in <#C0SHARED|acme-shared>", name="/update")
    card = shown(project, reply)
    assert "Handed the copy to <@U0TEAM> in <#C0SHARED>" in sections(*card)
    assert "&lt;@U0TEAM" not in json.dumps(card)
    listing = project.command("list", name="/update")
    assert "Handed the copy to <@U0TEAM> in <#C0SHARED>" in "".join(sections(listing.json))


def test_broadcasts_in_what_people_type_never_ping(project, db):
    loud = "Launch day <!channel> <!here> <!everyone> cc <!subteam^S1|@devs>"
    replies = [
        project.command(f"status=green {loud}", name="/update"),
        project.command(f"share=yes {loud}", name="/update"),
        project.command("add due=2026-12-15 Go live <!here>", name="/milestone"),
    ]
    assert mention(project, f"update: {loud}").status == 200
    project.jobs.drain()
    replies += [project.command("list", name="/update"), project.command("digest preview"),
                project.command("digest preview", user="U0CLIENT", channel="C0SHARED"),
                project.command("list", name="/milestone")]
    project.command("digest")
    project.jobs.drain()
    everything = shown(project, *replies)
    assert len(project.fake.calls_to("chat.postMessage")) >= 3  # the client's update card and the two digests
    for payload in everything:
        for text in mrkdwn_texts(payload):
            assert "<!" not in text and not BROKEN_ENTITY.search(text), text
    said = [s for s in sections(*everything) if "Launch day" in s or "Go live" in s]
    assert "Launch day @channel @here @everyone cc @devs" in said and not any(map(unsafe, said))
    assert sum("Launch day @channel @here @everyone cc @devs" in s for s in said) >= 5  # cards, lists, digests


def test_an_update_too_long_as_slack_counts_it_is_refused_and_not_stored(project, db):
    reply = project.command("&amp;" * 2000, name="/update")  # 2,000 `&` typed: Slack sends 10,000 characters
    assert reply.json["response_type"] == "ephemeral"
    assert "10,000 characters long as Slack counts them" in reply.text and "3,000" in reply.text
    assert stored(db) == []
    project.command("Short and sweet", name="/update")
    [u] = stored(db)
    longer = ("x &lt; y " * 400).strip()
    edit = project.command(f"edit {u.id} {longer}", name="/update")
    assert f"{slack_length(longer):,} characters long as Slack counts them" in edit.text
    assert [s.text for s in stored(db)] == ["Short and sweet"]


def test_an_update_heavy_in_entities_shows_whole_in_its_card_and_whole_entities_in_lists(project, db):
    text = "&amp;" * 590  # 590 `&` typed: 2,950 characters as Slack counts them, which fits
    card = shown(project, project.command(text, name="/update"))
    assert text in sections(*card)  # whole, in a section of its own
    [u] = stored(db)
    assert u.text == text
    listing = project.command("list", name="/update")
    digest = project.command("digest preview")
    for payload in [*card, listing.json, digest.json]:
        assert "&amp;amp;" not in json.dumps(payload)
        for said in mrkdwn_texts(payload):
            assert not BROKEN_ENTITY.search(said) and len(said) <= 3000, said
    [line] = [s for s in sections(listing.json) if "&amp;" in s]
    assert "&amp;" * 299 + "…" in line and "&amp;" * 300 not in line
    [line] = [s for s in sections(digest.json) if "&amp;" in s]
    assert "&amp;" * 279 + "…" in line and "&amp;" * 280 not in line


def test_a_milestone_name_too_long_as_slack_counts_it_is_refused_on_the_form(project, db):
    project.command("add", name="/milestone", answer=False)
    view = project.fake.wait_for("views.open")[0].args["view"]
    # Typed into a form, text arrives unescaped: 45 `&` become 225 characters in Slack.
    refused = project.submit(view, {"name": "&" * 45 + " review", "due": "2026-12-15"})
    assert refused.json["response_action"] == "errors"
    assert "232 characters long as Slack counts them" in refused.json["errors"]["name"]
    with db.read() as session:
        assert session.scalars(select(Milestone)).all() == []
    good = project.submit(view, {"name": "R&D <b>review</b>", "due": "2026-12-15"})
    assert good.status == 200
    post = json.dumps(project.fake.wait_for("chat.postMessage")[0].args)
    assert "R&amp;D &lt;b&gt;review&lt;/b&gt;" in post
