"""Digests and reminders through the scheduler's tick, the real app, the Slack stub and a settable clock."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from scheduler import service
from storage.models import Delivery, ProjectChannel
from tests.helpers import acme, posts, ticks_at_once

UTC = timezone.utc
MONDAY_9 = datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC)  # London is on UTC in winter


@pytest.fixture
def project(app):
    acme(app)
    app.command("status=amber progress=40 Budget is tight <!channel>", name="/update")
    app.command("Homepage on staging", name="/update", channel="C0SHARED")
    app.command("add due=2026-12-02 owner=<@U0TEAM|sam> Design sign-off", name="/milestone")
    app.command("add due=2026-12-04 internal=yes Margin review", name="/milestone")
    app.jobs.drain()
    app.fake.clear()
    return app


def deliveries(db) -> list[Delivery]:
    with db.read() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def digest_posts(fake, channel):
    return [p for p in posts(fake, channel) if "Digest" in p or "Project update" in p]


def test_each_digest_goes_once_to_each_channel_and_the_client_one_is_client_safe(project, db, clock):
    clock.set(MONDAY_9)
    report = service.tick(project.rt)
    assert (report.sent, report.failed) == (2, 0)
    [internal] = digest_posts(project.fake, "C0INTERNAL")
    [client] = digest_posts(project.fake, "C0SHARED")
    assert "Budget is tight" in internal and "Margin review" in internal and "Homepage on staging" in internal
    assert "Budget is tight @channel" in internal and "<!channel>" not in internal
    assert "Homepage on staging" in client and "Design sign-off" in client
    for secret in ("Budget is tight", "Margin review", "amber", "40%"):
        assert secret not in client
    assert service.tick(project.rt).sent == 0  # the same occurrence: already delivered
    clock.advance(minutes=5)
    assert service.tick(project.rt).sent == 0
    assert {d.state for d in deliveries(db)} == {"sent"}


def test_a_project_gets_the_digests_of_its_schedule_only_from_its_creation_on(project, db, clock):
    """Two projects on the same schedule in the same zone: one created just after this Monday's 09:00 gets none for
    it; the other gets its own. The next Monday both do."""
    project.fake.world.add_channel(id="C0BETA", name="beta-internal", members=["U0LEAD", "U0TEAM"])
    clock.set(MONDAY_9 + timedelta(seconds=40))  # 09:01:10, after the 09:00 occurrence
    assert "Created" in project.command("create key=beta Beta Site", channel="C0BETA").text
    project.jobs.drain()
    project.fake.clear()
    service.tick(project.rt)
    assert digest_posts(project.fake, "C0INTERNAL") and not digest_posts(project.fake, "C0BETA")
    clock.set(MONDAY_9 + timedelta(days=7))
    project.fake.clear()
    service.tick(project.rt)
    assert digest_posts(project.fake, "C0INTERNAL") and digest_posts(project.fake, "C0BETA")


def test_next_digest_shows_only_what_happened_since_and_a_quiet_week_says_so(project, db, clock):
    clock.set(MONDAY_9)
    service.tick(project.rt)
    clock.set(datetime(2026, 12, 7, 9, 1, tzinfo=UTC))
    project.fake.clear()
    service.tick(project.rt)
    [internal] = digest_posts(project.fake, "C0INTERNAL")
    assert "quiet period" in internal and "Budget is tight" not in internal
    assert "Overdue" in internal and "Design sign-off" in internal


def test_a_restart_catches_up_a_missed_digest_once_within_the_grace_period(project, db, clock):
    clock.set(datetime(2026, 11, 30, 14, 0, tzinfo=UTC))  # down since before 09:00; 5 h late, grace is 6 h
    assert service.tick(project.rt).sent == 2
    assert service.tick(project.rt).sent == 0
    assert len(digest_posts(project.fake, "C0INTERNAL")) == 1


def test_a_missed_digest_older_than_the_grace_period_is_skipped_and_logged_never_sent(project, db, clock, caplog):
    clock.set(datetime(2026, 11, 30, 15, 30, tzinfo=UTC))
    report = service.tick(project.rt)
    assert report.sent == 0 and report.skipped == 2
    assert digest_posts(project.fake, "C0INTERNAL") == []
    assert {d.state for d in deliveries(db)} == {"skipped"}
    assert "older than the grace period" in caplog.text
    assert service.tick(project.rt).skipped == 0  # logged once


def test_two_schedulers_on_one_database_post_each_occurrence_once(project, db, clock):
    clock.set(MONDAY_9)
    reports = ticks_at_once(project, db, clock)
    assert sum(r.sent for r in reports) == 2
    assert len(digest_posts(project.fake, "C0INTERNAL")) == 1 and len(digest_posts(project.fake, "C0SHARED")) == 1


def test_a_429_storm_is_waited_out_and_everything_arrives_once(project, db, clock):
    clock.set(MONDAY_9)
    project.fake.fail_next("chat.postMessage", status=429, retry_after=0, times=3)
    report = service.tick(project.rt)
    assert (report.sent, report.failed) == (2, 0)
    assert len(digest_posts(project.fake, "C0INTERNAL")) == 1 and len(digest_posts(project.fake, "C0SHARED")) == 1


def test_a_delivery_that_still_fails_is_retried_by_the_next_run(project, db, clock):
    clock.set(MONDAY_9)
    project.fake.fail_next("chat.postMessage", status=503, times=6)  # more than the client's own retries
    first = service.tick(project.rt)
    assert first.failed >= 1
    clock.advance(minutes=1)
    second = service.tick(project.rt)
    assert first.sent + second.sent == 2
    assert len(digest_posts(project.fake, "C0INTERNAL")) == 1 and len(digest_posts(project.fake, "C0SHARED")) == 1
    assert {d.state for d in deliveries(db)} == {"sent"}


def test_an_archived_channel_is_unbound_and_the_team_told(project, db, clock):
    project.fake.world.channels["C0SHARED"].is_archived = True
    clock.set(MONDAY_9)
    report = service.tick(project.rt)
    assert report.sent == 1 and report.errors == {"is_archived": 1}
    with db.read() as session:
        assert session.scalar(select(ProjectChannel.is_archived).where(ProjectChannel.channel_id == "C0SHARED"))
    project.jobs.drain()
    assert any("archived" in p for p in posts(project.fake, "C0INTERNAL"))
    clock.advance(minutes=1)
    assert service.tick(project.rt).sent == 0  # not retried into the archived channel


def test_not_in_a_private_channel_tells_the_lead_once(project, db, clock):
    channel = project.fake.world.channels["C0SHARED"]
    channel.is_private, channel.bot_is_member = True, False
    clock.set(MONDAY_9)
    assert service.tick(project.rt).errors == {"not_in_channel": 1}
    clock.advance(minutes=1)
    service.tick(project.rt)
    project.jobs.drain()
    told = [p for p in posts(project.fake, "U0LEAD") if "Invite me" in p]
    assert len(told) == 1


def reminders(fake, channel):
    return [json.loads(p)["text"] for p in posts(fake, channel) if "due" in json.loads(p)["text"]]


def test_milestone_reminders_on_the_right_days(project, db, clock):
    project.command('move "Design sign-off" due=2026-12-04', name="/milestone")  # a Friday
    project.command("schedule off")
    project.jobs.drain()
    project.fake.clear()
    seen = {}
    for day in range(1, 16):
        clock.set(datetime(2026, 12, day, 9, 5, tzinfo=UTC))
        before = len(project.fake.calls_to("chat.postMessage"))
        service.tick(project.rt)
        service.tick(project.rt)  # twice a day: still once
        new = project.fake.calls_to("chat.postMessage")[before:]
        seen[day] = sorted((c.args["channel"], c.args["text"].split(" (")[0]) for c in new
                           if "Design sign-off" in c.args["text"])
    assert seen[1] == [("C0INTERNAL", "Design sign-off is due in 3 days"),
                       ("C0SHARED", "Design sign-off is due in 3 days")]
    assert seen[2] == []
    assert seen[3] == [("C0INTERNAL", "Design sign-off is due tomorrow")]
    assert seen[4] == [("C0INTERNAL", "Design sign-off is due today")]
    assert seen[5] == seen[6] == []  # the weekend
    overdue_days = [d for d in range(7, 16) if seen[d]]
    assert overdue_days == [7, 8, 9, 10, 11]  # each working day, at most five times
    assert all("overdue" in text for d in overdue_days for _, text in seen[d])
    owner = [c for c in project.fake.calls_to("chat.postMessage") if "<@U0TEAM>" in str(c.args.get("blocks"))]
    assert owner and all(c.args["channel"] == "C0INTERNAL" for c in owner)


def test_a_project_without_updates_for_a_week_nudges_its_lead(project, db, clock):
    project.command("schedule off")
    clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))  # the last update was on 24 November, 10:00
    service.tick(project.rt)
    nudges = [p for p in posts(project.fake, "U0LEAD") if "no update for 7 days" in p]
    assert len(nudges) == 1
    service.tick(project.rt)
    assert len([p for p in posts(project.fake, "U0LEAD") if "no update for" in p]) == 1


def test_a_rate_limited_channel_never_holds_up_the_others_even_with_one_worker(app):
    from scheduler.deliver import Outgoing, post_all

    for channel in ("C0A", "C0B", "C0C", "C0D"):
        app.fake.world.add_channel(id=channel, name=channel.lower())
    app.fake.per_channel_interval = 1.0  # Slack's pace: a second post to one channel at once gets a 429
    try:
        items = [Outgoing(i, channel, {"text": f"{channel} {i}"}, "test")
                 for i, channel in enumerate(["C0A", "C0A", "C0B", "C0C", "C0D"])]
        outcomes = post_all(app.rt.bulk, items, concurrency=1, on_done=lambda o: None)
    finally:
        app.fake.per_channel_interval = 0.0
    assert all(o.error is None for o in outcomes)
    posted = [c.args["text"] for c in app.fake.calls_to("chat.postMessage") if not c.failed]
    assert posted == ["C0A 0", "C0B 2", "C0C 3", "C0D 4", "C0A 1"]  # the others went while C0A waited
    assert [c.failed for c in app.fake.calls_to("chat.postMessage")].count("429") == 1


def test_two_scheduler_processes_on_one_database_post_each_occurrence_once(project, db, clock):
    """Real processes (`liaison scheduler --once`, started together), the real clock, one shared database."""
    import os
    import subprocess
    import sys

    import time

    now = datetime.now(UTC)
    if now.minute == 59 and now.second > 45:  # both processes must see the same latest occurrence
        time.sleep(61 - now.second)
    clock.set(now - timedelta(hours=2))
    project.command("schedule cron=\"0 * * * *\"")  # hourly: this hour's occurrence is due for both
    project.jobs.drain()
    project.fake.clear()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LIAISON_", "DATABASE_URL"))}
    env.update(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=project.fake.base_url, DATABASE_URL=db.url,
               LIAISON_ENV_FILE="/nonexistent/.env")
    processes = [subprocess.Popen([sys.executable, "-m", "bot.cli", "scheduler", "--once"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=60) for p in processes]
    assert all(p.returncode == 0 for p in processes), results
    assert sorted(out.split(",")[0] for out, _ in results) in (["sent 0", "sent 2"], ["sent 1", "sent 1"])
    assert len(digest_posts(project.fake, "C0INTERNAL")) == 1 and len(digest_posts(project.fake, "C0SHARED")) == 1
