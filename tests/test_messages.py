"""Messages that said the wrong thing (item 9 of the trust issue): each now says what happened and what to do."""
from __future__ import annotations


from bot import payloads
from storage.models import Update
from tests.conftest import TEAM
from tests.helpers import count


def test_a_second_digest_in_the_same_second_says_it_was_just_posted(project):
    assert "Digest posted to 2 channels" in project.command("digest").text
    again = project.command("digest").text
    assert "within the last second" in again and "no channel" not in again


def test_a_project_without_channels_to_post_to_says_how_to_link_one(project):
    project.command("unlink", channel="C0SHARED")
    # Archiving the last internal channel leaves nowhere to post; the sentence says how to fix it.
    project.send(payloads.event({"type": "channel_archive", "channel": "C0INTERNAL", "user": "U0LEAD"}, team_id=TEAM))
    reply = project.command("digest project=acme", channel="C0GENERAL")
    assert "no channel to post a digest to" in reply.text and "/project link" in reply.text


def test_a_missing_status_value_suggests_a_real_value_without_a_stray_bracket(project):
    reply = project.command("status= Done", name="/update")
    assert "`status=green`" in reply.text and "]`" not in reply.text


def test_linking_an_internal_channel_says_an_internal_channel(project):
    project.fake.world.add_channel(id="C0DESIGN", name="acme-design", members=["U0LEAD"])
    reply = project.command("link acme", channel="C0DESIGN")
    assert "as an *internal* channel" in reply.text and "a *internal*" not in reply.text


def test_a_client_setting_status_is_told_nothing_was_saved(project, db):
    project.command("role <@U0TEAM|sam> client")
    reply = project.command("status=red We are unhappy", name="/update", user="U0TEAM", channel="C0SHARED")
    assert "nothing was saved" in reply.text and "not saved with them" not in reply.text
    assert count(db, Update) == 0
