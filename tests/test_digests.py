"""Schedules (parsing, DST), /project schedule and /project digest, and digest messages within Block Kit limits."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.errors import BadInput
from bot.render.digests import digest_message
from bot.services import schedule
from bot.services.digests import Digest, DigestUpdate, DueSoon, Overdue, Updates
from bot.services.milestones import MilestoneCard
from storage.models import Project
from tests.helpers import acme, posts

UTC = timezone.utc


@pytest.mark.parametrize("typed, cron, normal", [
    ("weekly mon 09:00", None, "weekly mon 09:00"),
    ("Weekly Monday 9:00", None, "weekly mon 09:00"),
    ("weekly mon,thu 16:30", None, "weekly mon,thu 16:30"),
    ("daily 17:30", None, "daily 17:30"),
    ("", "0 9 * * 1-5", "cron 0 9 * * 1-5"),
    ("off", None, "off"),
])
def test_schedules_people_type(typed, cron, normal):
    assert schedule.parse(typed, cron) == normal


@pytest.mark.parametrize("typed, cron", [
    ("weekly funday 09:00", None), ("daily 25:00", None), ("hourly", None), ("monthly 1 09:00", None),
    ("", "0 9 * *"), ("", "0 9 * * 8"), ("", "99 9 * * 1"), ("daily 09:00", "0 9 * * 1"),
])
def test_bad_schedules_are_refused(typed, cron):
    with pytest.raises(BadInput):
        schedule.parse(typed, cron)


def test_weekly_digest_keeps_local_time_across_the_dst_change():
    fires = list(schedule.occurrences("weekly mon 09:00", "Europe/London",
                                      datetime(2026, 10, 12, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)))
    assert [f.astimezone(UTC).strftime("%d %H:%M") for f in fires] == ["12 08:00", "19 08:00", "26 09:00", "02 09:00"]
    spring = list(schedule.occurrences("daily 09:00", "America/New_York",
                                       datetime(2027, 3, 13, tzinfo=UTC), datetime(2027, 3, 16, tzinfo=UTC)))
    assert [f.astimezone(UTC).hour for f in spring] == [14, 13, 13]


def test_cron_weekdays_mean_what_crontab_means():
    fires = list(schedule.occurrences("cron 0 9 * * 1-5", "UTC", datetime(2026, 11, 20, tzinfo=UTC),
                                      datetime(2026, 11, 25, tzinfo=UTC)))
    assert [f.strftime("%a") for f in fires] == ["Fri", "Mon", "Tue"]
    sundays = list(schedule.occurrences("cron 0 9 * * 0", "UTC", datetime(2026, 11, 20, tzinfo=UTC),
                                        datetime(2026, 11, 30, tzinfo=UTC)))
    assert [f.strftime("%a %d") for f in sundays] == ["Sun 22", "Sun 29"]


def test_project_schedule_command_sets_and_shows_the_next_digest(app, db):
    acme(app)
    reply = app.command("schedule weekly fri 16:00")
    assert reply.json["response_type"] == "ephemeral" and "weekly on Fri at 16:00" in reply.text
    assert "Fri 27 Nov 2026 16:00 (Europe/London)" in reply.text
    assert "is not a schedule" in app.command("schedule fortnightly").text
    assert "Clients can't" in app.command("schedule off", user="U0CLIENT", channel="C0SHARED").text
    with db.read() as session:
        assert session.scalar(select(Project.digest_schedule)) == "weekly fri 16:00"


def test_digest_preview_is_ephemeral_and_client_safe_in_the_client_channel(app, db):
    acme(app)
    app.command("Internal budget worry", name="/update")
    app.command("Shared news", name="/update", channel="C0SHARED")
    app.jobs.drain()
    app.fake.clear()  # the updates' own cards
    internal = app.command("digest preview")
    assert internal.json["response_type"] == "ephemeral" and "Internal budget worry" in internal.text
    client = app.command("digest preview", channel="C0SHARED", user="U0CLIENT")
    assert "Shared news" in client.text and "Internal budget worry" not in client.text
    assert app.fake.calls_to("chat.postMessage") == []


def test_digest_now_posts_to_every_channel_and_says_so(app, db):
    acme(app)
    app.command("Shared news", name="/update", channel="C0SHARED")
    app.jobs.drain()
    app.fake.clear()  # the update's own card
    reply = app.command("digest")
    assert "Digest posted to 2 channels" in reply.text
    assert len(posts(app.fake, "C0INTERNAL")) == 1 and len(posts(app.fake, "C0SHARED")) == 1
    assert "Shared news" in posts(app.fake, "C0SHARED")[0]


def test_a_long_digest_fits_block_kit_and_says_how_many_more():
    at = datetime(2026, 11, 30, 9, tzinfo=UTC)
    updates = [DigestUpdate(i, "U1", "x" * 2900 + " <!here>", "green", 50, "client", at) for i in range(10)]
    milestones = [MilestoneCard(i, f"M{i} <!channel>", at.date(), "U2", "client", None) for i in range(80)]
    digest = Digest(1, "acme", "Acme", None, "UTC", "client", "green", 50, at, at, sections=(
        Updates(tuple(updates), 57), Overdue(tuple(milestones[40:])), DueSoon(tuple(milestones[:40]))))
    message = digest_message(digest)
    assert len(message["blocks"]) <= 50
    texts = [b["text"]["text"] for b in message["blocks"] if b.get("type") == "section" and "text" in b]
    assert all(len(t) <= 3000 for t in texts)
    assert any("more_" in t for t in texts)
    assert "<!here>" not in str(message) and "<!channel>" not in str(message)
