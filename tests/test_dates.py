"""Dates people type, through signed requests: ambiguous numbers, far futures, odd input, timezones, since=."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from storage.models import AuditEntry, Milestone, Project, ProjectChannel, Update
from tests.helpers import count


def milestones(db) -> list[Milestone]:
    with db.read() as session:
        return list(session.scalars(select(Milestone).order_by(Milestone.id)))


def no_milestone_stored(db) -> bool:
    return milestones(db) == [] and count(db, AuditEntry, AuditEntry.action.like("milestone.%")) == 0


def no_project_stored(db) -> bool:
    return count(db, Project) == 0 and count(db, ProjectChannel) == 0 and count(db, AuditEntry) == 0


def refused(reply, *says: str) -> None:
    assert reply.json["response_type"] == "ephemeral", reply.text
    assert "Something went wrong" not in reply.text
    for words in says:
        assert words in reply.json["text"], reply.json["text"]


def test_a_day_month_date_in_a_new_york_project_is_refused_as_ambiguous(project, db):
    project.command("create key=nyc tz=America/New_York Big Apple", channel="C0GENERAL")
    project.jobs.drain()
    reply = project.command("add due=01/12/2026 Design sign-off", name="/milestone", channel="C0GENERAL")
    refused(reply, "`01/12/2026` could be 1 Dec 2026 or 12 Jan 2026", "ambiguous", "`2026-12-01`", "`1 Dec 2026`")
    assert no_milestone_stored(db)


@pytest.mark.parametrize("typed, example", [
    ("1.12.2026", "`2026-12-01`"),
    ("12-1-2026", "`2026-01-12`"),
    ("2026/12/01", "`2026-12-01`"),
    ("31/12/2026", "`2026-12-31`"),
    ('"1 12 2026"', "`2026-12-01`"),
])
def test_numeric_dates_other_than_iso_are_refused_with_how_to_write_them(project, db, typed, example):
    reply = project.command(f"add due={typed} Design sign-off", name="/milestone")
    refused(reply, "ambiguous", example, "in words like")
    assert no_milestone_stored(db)


@pytest.mark.parametrize("typed", ['"in 300 years"', "2032-01-01", '"in 6 years"'])
def test_a_milestone_more_than_five_years_away_is_refused(project, db, typed):
    reply = project.command(f"add due={typed} Design sign-off", name="/milestone")
    refused(reply, "more than 5 years away", "24 Nov 2031")
    assert no_milestone_stored(db)


def test_a_project_due_more_than_five_years_away_is_refused(app, db):
    reply = app.command('create key=far due="in 300 years" Far Out')
    refused(reply, "more than 5 years away")
    assert no_project_stored(db)


def test_dateparser_blowing_up_is_an_answer_not_a_crash(project, db, monkeypatch):
    import dateparser

    def overflow(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(dateparser, "parse", overflow)
    reply = project.command('add due="in 123456789 hours" Design sign-off', name="/milestone")
    refused(reply, "I can't read `in 123456789 hours` as a date", "`2026-12-01`")
    assert no_milestone_stored(db)
    reply = project.command('list since="3 weeks ago"', name="/update")
    refused(reply, "I can't read `3 weeks ago` as a date")


def test_a_bare_number_is_not_read_as_a_timestamp(project, db):
    reply = project.command("add due=2147483648 Design sign-off", name="/milestone")  # dateparser: 19 Jan 2038
    refused(reply, "ambiguous")
    assert no_milestone_stored(db)


def test_create_takes_dates_in_words_like_milestones_do(app, db):
    reply = app.command('create key=launch due="next friday" Launch')  # the clock says Tuesday 24 November
    assert "Created" in reply.text
    with db.read() as session:
        assert session.scalar(select(Project.due_date)) == date(2026, 11, 27)


def test_create_reads_words_in_the_projects_timezone(app, db, clock):
    clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc))  # already Wednesday in Tokyo
    reply = app.command("create key=tokyo tz=Asia/Tokyo due=tomorrow Tokyo")
    assert "Created" in reply.text
    with db.read() as session:
        assert session.scalar(select(Project.due_date)) == date(2026, 11, 26)


def test_create_refuses_an_ambiguous_due_date(app, db):
    reply = app.command("create key=launch tz=America/New_York due=01/12/2026 Launch")
    refused(reply, "ambiguous", "`2026-12-01`")
    assert no_project_stored(db)


@pytest.mark.parametrize("tz, says", [
    ("Europe/" + "x" * 300, "307 characters long"),
    ("Europe", "not a timezone I know"),  # a directory of zones, not a zone
])
def test_an_over_long_or_odd_timezone_is_refused_cleanly(app, db, tz, says):
    reply = app.command(f"create key=launch tz={tz} Launch")
    refused(reply, says)
    assert no_project_stored(db)


def test_a_milestone_after_the_projects_due_date_is_added_with_a_warning(project, db):
    reply = project.command("add due=2027-04-15 Launch party", name="/milestone")
    assert reply.json["response_type"] == "ephemeral"
    assert "Launch party" in reply.text
    assert ":warning: That is after the project's due date, Wed 31 Mar 2027." in reply.text
    [m] = milestones(db)
    assert m.due_date == date(2027, 4, 15)
    before = project.command("add due=2027-03-31 Handover", name="/milestone")
    assert "after the project's due date" not in before.text


def test_the_form_warns_too_when_a_milestone_is_after_the_projects_due_date(project, db):
    project.command("add", name="/milestone", answer=False)
    view = project.fake.wait_for("views.open")[0].args["view"]
    good = project.submit(view, {"name": "Launch party", "due": "2027-04-15"})
    assert good.status == 200
    assert "Launch party" in str(project.fake.wait_for("chat.postMessage")[0].args)
    told = project.fake.wait_for("chat.postEphemeral")[0].args
    assert told["user"] == "U0LEAD" and "That is after the project's due date, Wed 31 Mar 2027." in str(told)
    [m] = milestones(db)
    assert m.due_date == date(2027, 4, 15)


def test_since_the_year_one_east_of_utc_lists_everything(app, db, clock):
    app.command("create key=tokyo tz=Asia/Tokyo Tokyo", channel="C0GENERAL")
    app.jobs.drain()
    app.command("Kick-off done", name="/update", channel="C0GENERAL")
    reply = app.command("list since=0001-01-01", name="/update", channel="C0GENERAL")
    assert reply.json["response_type"] == "ephemeral"
    assert "Something went wrong" not in reply.text and "Kick-off done" in reply.text
    assert count(db, Update) == 1


def test_since_takes_no_ambiguous_numbers_either(project, db):
    reply = project.command("list since=01/11/2026", name="/update")
    refused(reply, "`01/11/2026` could be 1 Nov 2026 or 11 Jan 2026", "`2026-11-01`")
