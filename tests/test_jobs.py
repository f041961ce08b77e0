"""Work accepted in an ack survives restarts and is done once, however many runners share the database."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.jobs import MAX_ATTEMPTS, JobRunner
from handlers import job_kinds
from storage.models import AuditEntry, Job, Project


def jobs(db) -> list[Job]:
    with db.read() as session:
        return list(session.scalars(select(Job).order_by(Job.id)))


def texts(fake) -> list[str]:
    return [c.args.get("text") for c in fake.calls_to("chat.postMessage") if not c.failed]


def test_a_command_acked_while_no_runner_is_up_is_done_when_one_starts(app, db):
    app.jobs.stop()
    try:
        reply = app.command("create Acme Website", answer=False)
        assert reply.status == 200 and reply.body == ""  # acked: Slack is satisfied, the work is stored
        with db.read() as session:
            assert session.scalar(select(Project.id)) is None
        assert [j.state for j in jobs(db)] == ["queued"]
    finally:
        app.jobs = JobRunner(app.rt, job_kinds()).start()  # "the restart"
    answer = app.fake.wait_for("response_url")[0]
    assert "Created" in json.dumps(answer.args)
    app.jobs.drain()
    assert [j.state for j in jobs(db)] == ["done"]


def test_runners_sharing_the_database_do_each_job_once(app, db):
    app.jobs.stop()
    try:
        for i in range(40):
            app.rt.jobs.enqueue("slack.post", {"channel_id": "C0INTERNAL", "payload": {"text": f"post {i}"}})
        runners = [JobRunner(app.rt, job_kinds()) for _ in range(4)]
        threads = [threading.Thread(target=r.run_pending) for r in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        app.jobs = JobRunner(app.rt, job_kinds()).start()
    assert sorted(texts(app.fake)) == sorted(f"post {i}" for i in range(40))
    assert {(j.state, j.attempts) for j in jobs(db)} == {("done", 1)}


def test_running_runners_working_through_a_queue_do_each_job_once(app, db):
    """Running runners take each next job as they finish the one before: still each job once, none left."""
    app.jobs.stop()
    runners: list[JobRunner] = []
    try:
        for i in range(30):
            app.rt.jobs.enqueue("slack.post", {"channel_id": "C0INTERNAL", "payload": {"text": f"post {i}"}})
        runners = [JobRunner(app.rt, job_kinds()).start() for _ in range(3)]
        app.fake.wait_for("chat.postMessage", count=30, timeout=10)
        for runner in runners:
            runner.drain()
    finally:
        for runner in runners:
            runner.stop()
        app.jobs = JobRunner(app.rt, job_kinds()).start()
    assert sorted(texts(app.fake)) == sorted(f"post {i}" for i in range(30))
    assert {(j.state, j.attempts) for j in jobs(db)} == {("done", 1)}


def test_on_sqlite_a_runner_with_nothing_to_do_leaves_the_write_lock_to_the_acks(app, db):
    """SQLite lets one transaction write at a time: a runner looking for work must not queue for that lock (nor
    take it) when there is nothing to do, or every ack that writes would wait behind its polls."""
    if db.backend != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock")
    app.jobs.stop()
    looked: list[bool] = []
    done = threading.Event()
    try:
        with db.transaction() as session:
            session.execute(select(1))  # an ack's write under way: it holds the write lock until it commits
            runner = JobRunner(app.rt, job_kinds())
            threading.Thread(target=lambda: (looked.append(runner.run_one()), done.set())).start()
            assert done.wait(5), "the idle runner waited for the write lock"
    finally:
        done.wait(40)
        app.jobs = JobRunner(app.rt, job_kinds()).start()
    assert looked == [False]


def test_a_job_whose_runner_died_is_done_by_another_once_its_lease_ends(app, db):
    app.jobs.stop()
    try:
        app.rt.jobs.enqueue("slack.post", {"channel_id": "C0INTERNAL", "payload": {"text": "survivor"}})
        assert JobRunner(app.rt, job_kinds(), lease=timedelta(0))._claim() is not None  # claimed, then its process died
        assert JobRunner(app.rt, job_kinds()).run_pending() == 1
    finally:
        app.jobs = JobRunner(app.rt, job_kinds()).start()
    assert texts(app.fake) == ["survivor"]
    assert [(j.state, j.attempts) for j in jobs(db)] == [("done", 2)]


def test_a_job_that_keeps_killing_its_runner_is_given_up_and_the_person_told(app, db):
    app.jobs.stop()
    url = app.fake.response_url("C0INTERNAL", "U0LEAD")
    try:
        app.rt.jobs.enqueue("slack.post", {"channel_id": "C0INTERNAL", "payload": {"text": "poison"}}, url)
        for _ in range(MAX_ATTEMPTS):
            assert JobRunner(app.rt, job_kinds(), lease=timedelta(0))._claim() is not None
        JobRunner(app.rt, job_kinds()).run_pending()
    finally:
        app.jobs = JobRunner(app.rt, job_kinds()).start()
    assert texts(app.fake) == []
    told = app.fake.wait_for("response_url", where=lambda c: url.endswith(c.url))[0]
    assert "went wrong" in json.dumps(told.args)
    [job] = jobs(db)
    assert job.state == "failed" and "gave up" in job.error


def test_a_job_that_fails_tells_the_person_with_an_error_id_and_is_kept(app, db):
    url = app.fake.response_url("C0INTERNAL", "U0LEAD")
    app.rt.jobs.enqueue("slack.post", {"payload": {"text": "no channel"}}, url)  # a bug: a missing argument
    told = app.fake.wait_for("response_url", where=lambda c: url.endswith(c.url))[0]
    app.jobs.drain()
    [job] = jobs(db)
    assert job.state == "failed" and "KeyError" in job.error
    error_id = job.error.split(":")[0]
    assert error_id in json.dumps(told.args)


def test_finished_jobs_are_forgotten_after_a_week_queued_ones_never(app, db):
    from datetime import datetime, timezone

    from sqlalchemy import update

    from bot.jobs import prune

    app.jobs.stop()
    try:
        for text in ("old", "recent", "waiting"):
            app.rt.jobs.enqueue("slack.post", {"channel_id": "C0INTERNAL", "payload": {"text": text}})
        JobRunner(app.rt, job_kinds()).run_one()
        JobRunner(app.rt, job_kinds()).run_one()
        with db.transaction() as session:
            session.execute(update(Job).where(Job.id == jobs(db)[0].id)
                            .values(finished_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
        assert prune(db) == 1
        assert [j.args["payload"]["text"] for j in jobs(db)] == ["recent", "waiting"]
    finally:
        app.jobs = JobRunner(app.rt, job_kinds()).start()


def test_a_create_job_run_again_after_its_lease_ended_answers_as_the_first_time(app, db):
    """Its runner may have died after the project was stored; the job then runs again and must not answer
    "already exists" for what it did itself."""
    assert "Created" in app.command("create Acme Website").text
    app.jobs.drain()
    [first] = [j for j in jobs(db) if j.kind == "project.create"]
    url = app.fake.response_url("C0INTERNAL", "U0LEAD")
    app.rt.jobs.enqueue("project.create", first.args, url)  # the same job, as a runner taking it over would run it
    answer = app.fake.wait_for("response_url", where=lambda c: url.endswith(c.url))[0]
    assert "Created" in json.dumps(answer.args) and "already" not in json.dumps(answer.args)
    with db.read() as session:
        assert len(list(session.scalars(select(Project)))) == 1


@pytest.mark.parametrize("command, channel, kind", [
    ("link acme", "C0SHARED", "project.link"),
    ("role <@U0TEAM|sam> team", "C0INTERNAL", "project.role"),
    ("role <@U0TEAM|sam> remove", "C0INTERNAL", "project.role"),
])
def test_link_and_role_jobs_run_again_answer_as_the_first_time(app, db, command, channel, kind):
    assert "Created" in app.command('create key=acme client="Acme Co" Acme Website').text
    if command.endswith("remove"):
        app.command("role <@U0TEAM|sam> team")
    first = app.command(command, channel=channel).text
    app.jobs.drain()
    [job] = [j for j in jobs(db) if j.kind == kind][-1:]
    url = app.fake.response_url(channel, "U0LEAD")
    app.rt.jobs.enqueue(kind, job.args, url)  # the same job, as a runner taking it over would run it
    again = json.dumps(app.fake.wait_for("response_url", where=lambda c: url.endswith(c.url))[0].args)
    assert "already" not in again and "no role" not in again and "⚠️" not in again, again
    assert "⚠️" not in first
    with db.read() as session:
        assert len(list(session.scalars(select(AuditEntry).where(AuditEntry.action.in_(
            ("channel.link", "member.role")))))) == (2 if command.endswith("remove") else 1)


def test_on_postgresql_a_job_queued_by_another_process_starts_at_once_not_at_the_next_poll(app, db):
    """A web worker queues the job; the scheduler process's runner (another wake-up, a minute between polls)
    is woken by PostgreSQL's NOTIFY at the commit."""
    if db.backend != "postgresql":
        pytest.skip("SQLite has no way to tell another process; its runners poll")
    from dataclasses import replace

    from bot.jobs import JobQueue

    app.jobs.stop()
    elsewhere = replace(app.rt, jobs=JobQueue(db))  # what the other process has: its own queue and wake-up
    runner = JobRunner(elsewhere, job_kinds(), poll=60.0).start()
    try:
        with db.transaction() as session:
            app.rt.jobs.enqueue("slack.post", {"channel_id": "C0INTERNAL", "payload": {"text": "at once"}},
                                session=session)
        app.fake.wait_for("chat.postMessage", timeout=5)
        assert texts(app.fake) == ["at once"]
    finally:
        runner.stop()
        app.jobs = JobRunner(app.rt, job_kinds()).start()
