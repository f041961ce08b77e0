"""Rules for digest schedules and overdue reminders, through signed requests and the scheduler's tick."""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from itertools import islice

import pytest
from sqlalchemy import select

from bot.config import ConfigError, load_settings
from bot.services import schedule
from scheduler import service
from storage.models import AuditEntry, Project
from tests.helpers import count, posts

UTC = timezone.utc


def stored_schedule(db) -> str:
    with db.read() as session:
        return session.scalar(select(Project.digest_schedule).where(Project.key == "acme"))


def schedule_changes(db) -> int:
    return count(db, AuditEntry, AuditEntry.action == "project.schedule")


def refused(reply, says: str) -> None:
    assert reply.json["response_type"] == "ephemeral", reply.text
    assert says in reply.json["text"], reply.json["text"]


def test_a_digest_every_minute_is_refused(project, db):
    reply = project.command('schedule cron="* * * * *"')
    refused(reply, "`* * * * *` would post a digest every minute; digests can be at most hourly "
                   "(LIAISON_MIN_DIGEST_MINUTES=60).")
    assert stored_schedule(db) == "weekly mon 09:00" and schedule_changes(db) == 0


def test_a_schedule_that_never_fires_is_refused(project, db):
    reply = project.command('schedule cron="0 0 31 2 *"')
    refused(reply, "`0 0 31 2 *` never happens in the next year (31 February), so no digest would ever go out.")
    assert stored_schedule(db) == "weekly mon 09:00" and schedule_changes(db) == 0


def test_hourly_is_the_most_often_by_default(project, db):
    refused(project.command('schedule cron="0,30 9 * * 1-5"'), "would post two digests only 30 minutes apart")
    refused(project.command('schedule cron="*/15 * * * *"'), "would post a digest every 15 minutes")
    assert stored_schedule(db) == "weekly mon 09:00" and schedule_changes(db) == 0
    assert "Digests for `acme`" in project.command('schedule cron="0 * * * *"').text
    assert stored_schedule(db) == "cron 0 * * * *"


def test_the_least_gap_between_digests_is_a_setting(project, db):
    rt = project.rt
    before = rt.settings
    rt.settings = dataclasses.replace(before, min_digest_minutes=1440)
    try:
        reply = project.command('schedule cron="0 9,17 * * *"')
        refused(reply, "`0 9,17 * * *` would post two digests only 8 hours apart; digests can be at most daily "
                       "(LIAISON_MIN_DIGEST_MINUTES=1440).")
        assert stored_schedule(db) == "weekly mon 09:00"
        assert "daily at 17:30" in project.command("schedule daily 17:30").text
    finally:
        rt.settings = before
    assert stored_schedule(db) == "daily 17:30"


def test_the_setting_defaults_to_60_and_a_bad_value_is_named():
    assert load_settings({}).min_digest_minutes == 60
    assert load_settings({"LIAISON_MIN_DIGEST_MINUTES": "1440"}).min_digest_minutes == 1440
    for bad in ("0", "-5", "1.5", "hourly", "9" * 5000):
        with pytest.raises(ConfigError) as error:
            load_settings({"LIAISON_MIN_DIGEST_MINUTES": bad})
        assert error.value.name == "LIAISON_MIN_DIGEST_MINUTES"


def test_a_day_named_a_thousand_times_is_stored_once(project, db):
    reply = project.command("schedule weekly " + ",".join(["mon"] * 1000) + " 09:30")
    assert "weekly on Mon at 09:30" in reply.text
    assert stored_schedule(db) == "weekly mon 09:30"


def test_an_empty_day_item_is_no_day(project, db):
    reply = project.command("schedule weekly mon,,tue, 09:00")
    assert "weekly on Mon, Tue at 09:00" in reply.text
    assert stored_schedule(db) == "weekly mon,tue 09:00"


def test_a_cron_expression_too_long_to_keep_is_refused(project, db):
    hours, days = ",".join(str(h) for h in range(24)), ",".join(str(d) for d in range(1, 32))
    reply = project.command(f'schedule cron="0 {hours} {days} * *"')
    refused(reply, "That cron expression is 151 characters long and I can keep at most 115")
    assert stored_schedule(db) == "weekly mon 09:00" and schedule_changes(db) == 0


def overdue(fake, channel: str) -> list[str]:
    texts = [json.loads(p)["text"] for p in posts(fake, channel)]
    return [t for t in texts if "Design sign-off" in t and "overdue" in t]


def test_overdue_reminders_go_out_at_most_five_times_ever(project, db, clock):
    assert "internal" in project.command("link acme", channel="C0GENERAL").text  # a second internal channel
    project.command("schedule off")
    project.command("add due=2026-11-25 Design sign-off", name="/milestone")  # a Wednesday
    project.jobs.drain()
    project.fake.clear()
    sent_on = []
    day = datetime(2026, 11, 26, 9, 5, tzinfo=UTC)
    while day < datetime(2026, 12, 24, tzinfo=UTC):  # four weeks, the look-back twice over
        clock.set(day)
        before = len(overdue(project.fake, "C0INTERNAL"))
        service.tick(project.rt)
        service.tick(project.rt)
        if len(overdue(project.fake, "C0INTERNAL")) > before:
            sent_on.append(day.date().isoformat())
        day += timedelta(days=1)
    assert len(overdue(project.fake, "C0INTERNAL")) == 5
    assert len(overdue(project.fake, "C0GENERAL")) == 5
    assert sent_on == ["2026-11-26", "2026-11-27", "2026-11-30", "2026-12-01", "2026-12-02"]
    assert overdue(project.fake, "C0SHARED") == []


def test_the_night_the_clocks_go_back_ends(project, db):
    """A fire time in the repeated hour (01:30 GMT after 01:30 BST) used to come back for ever, so a tick whose
    look-back held that night never finished."""
    fires = list(islice(schedule.occurrences("daily 01:30", "Europe/London", datetime(2026, 10, 24, 12, tzinfo=UTC),
                                             datetime(2026, 10, 27, tzinfo=UTC)), 10))
    assert [f.astimezone(UTC).strftime("%d %H:%M") for f in fires] == ["25 00:30", "25 01:30", "26 01:30"]
    assert "daily at 01:30" in project.command("schedule daily 01:30").text  # an hour apart once: allowed
