"""/milestone through signed requests: dates in words in the project's timezone, visibility, bad input."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from storage.models import AuditEntry, Milestone
from tests.helpers import count


def milestones(db) -> list[Milestone]:
    with db.read() as session:
        return list(session.scalars(select(Milestone).order_by(Milestone.id)))


@pytest.mark.parametrize("due, expected", [
    ("2026-12-15", date(2026, 12, 15)),
    ('"next friday"', date(2026, 11, 27)),  # the clock says Tuesday 24 November 2026
    ('"in 3 days"', date(2026, 11, 27)),
])
def test_add_reads_dates_in_words(project, db, due, expected):
    reply = project.command(f"add due={due} owner=<@U0TEAM|sam> Design sign-off", name="/milestone")
    assert reply.json["response_type"] == "ephemeral" and "Added" in reply.text and "card follows" in reply.text
    [card] = project.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "C0INTERNAL")
    assert "Design sign-off" in json.dumps(card.args["blocks"]) and "<@U0TEAM>" in json.dumps(card.args["blocks"])
    [m] = milestones(db)
    assert (m.due_date, m.owner_id, m.visibility) == (expected, "U0TEAM", "client")


def test_dates_are_read_in_the_projects_timezone(project, db, clock):
    from datetime import datetime, timezone
    clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc))  # already Wednesday in Tokyo
    project.command("create key=tokyo tz=Asia/Tokyo Tokyo", channel="C0GENERAL")
    project.jobs.drain()
    project.command("add due=tomorrow Kick-off", name="/milestone", channel="C0GENERAL")
    [m] = milestones(db)
    assert m.due_date == date(2026, 11, 26)


@pytest.mark.parametrize("text, says", [
    ("add Design", "When is it due"),
    ("add due=someday-ish Design", "can't read"),
    ("add due=2026-02-30 Design", "not a date on the calendar"),
    ("add due=2026-01-01 Design", "in the past"),
    ("add due=2026-12-15", "Name the milestone"),
    ("add due=2026-12-15 owner=sam Design", "should mention a person"),
    ("add due=2026-12-15 internal=perhaps Design", "`yes` or `no`"),
])
def test_bad_milestone_input_changes_nothing(project, db, text, says):
    reply = project.command(text, name="/milestone")
    assert reply.json["response_type"] == "ephemeral" and says in reply.text
    assert milestones(db) == []


def test_done_move_list_and_unknown(project, db):
    project.command("add due=2026-12-15 Design sign-off", name="/milestone")
    project.command("add due=2026-12-20 internal=yes Budget review", name="/milestone")
    moved = project.command('move due="2026-12-18" design sign-off', name="/milestone")
    assert "moved from Tue 15 Dec" in moved.text
    assert "No such" not in project.command("done Design sign-off", name="/milestone").text
    assert "has no milestone `Launch`" in project.command("done Launch", name="/milestone").text
    assert "has no milestone `99`" in project.command("move due=2026-12-30 99", name="/milestone").text
    internal = project.command("list", name="/milestone").text
    assert "Budget review" in internal and "done" in internal
    client = project.command("list", name="/milestone", user="U0CLIENT", channel="C0SHARED").text
    assert "Design sign-off" in client and "Budget review" not in client
    m = milestones(db)
    assert m[0].done_at is not None and m[0].due_date == date(2026, 12, 18)
    assert count(db, AuditEntry, AuditEntry.action.like("milestone.%")) == 4


def test_internal_milestone_added_in_client_channel_is_only_shown_to_its_author(project, db):
    reply = project.command("add due=2026-12-15 internal=yes Margin check", name="/milestone", channel="C0SHARED")
    assert reply.json["response_type"] == "ephemeral" and "Margin check" in reply.text
    assert "card follows" not in reply.text
    project.jobs.drain()
    assert project.fake.calls_to("chat.postMessage") == []


def test_clients_cannot_add_milestones(project, db):
    reply = project.command("add due=2026-12-15 Sneaky", name="/milestone", user="U0CLIENT", channel="C0SHARED")
    assert "Clients can't" in reply.text and milestones(db) == []


def test_bare_add_opens_a_form_with_a_date_picker_and_its_errors_land_on_the_field(project, db):
    reply = project.command("add", name="/milestone", answer=False)
    assert reply.status == 200 and reply.body == ""
    view = project.fake.wait_for("views.open")[0].args["view"]
    inputs = {b["block_id"]: b["element"]["type"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs == {"name": "plain_text_input", "due": "datepicker", "owner": "users_select",
                      "internal": "checkboxes"}

    past = project.submit(view, {"name": "Design sign-off", "due": "2026-01-05"})
    assert past.json["response_action"] == "errors" and "in the past" in past.json["errors"]["due"]
    assert milestones(db) == []

    good = project.submit(view, {"name": "Design sign-off", "due": "2026-12-15", "owner": "U0TEAM",
                                 "internal": "yes"})
    assert good.status == 200
    [m] = milestones(db)
    assert (m.name, m.due_date, m.owner_id, m.visibility) == ("Design sign-off", date(2026, 12, 15), "U0TEAM",
                                                              "internal")
    assert "Design sign-off" in str(project.fake.wait_for("chat.postMessage")[0].args)


def test_bare_add_in_an_unlinked_channel_says_so_before_any_form(project, db):
    reply = project.command("add", name="/milestone", channel="C0GENERAL")
    assert "isn't linked" in reply.text
    assert project.fake.calls_to("views.open") == []
