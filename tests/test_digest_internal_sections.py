"""The internal digest's satisfaction, follow-up and risk sections; canaries prove the client digest carries no
score, comment, feedback, follow-up or risk."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import insert, select

from scheduler import service
from storage.models import Feedback, FollowUp, Project, Risk, Survey, SurveyAnswer
from tests.helpers import acme, posts

CANARIES = ("CANARY-COMMENT", "CANARY-FEEDBACK", "CANARY-RISK", "satisfaction", "follow-up", "risk", "R-1", "F-")


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def digests(fake, channel: str) -> str:
    return "\n".join(json.dumps(json.loads(p), ensure_ascii=False) for p in posts(fake, channel)
                     if "Digest" in p or "Project update" in p)


def seed(db) -> None:
    """Around the digest of Mon 30 Nov 09:00 (the one before: Wed 25 Nov 09:00, by `/project digest`)."""
    with db.transaction() as session:
        pid = session.scalar(select(Project.id).where(Project.key == "acme"))
        old = session.execute(insert(Survey).returning(Survey.id), dict(
            project_id=pid, occurrence="now:old", channel_id="C0SHARED", opened_at=at(11, 20),
            closes_at=at(11, 27))).scalar_one()
        new = session.execute(insert(Survey).returning(Survey.id), dict(
            project_id=pid, occurrence="now:new", channel_id="C0SHARED", opened_at=at(11, 26),
            closes_at=at(12, 3))).scalar_one()
        session.execute(insert(SurveyAnswer), [
            dict(survey_id=old, user_id="U0CLIENT", score=5, answered_at=at(11, 21)),  # the period before
            dict(survey_id=new, user_id="U0CLIENT", score=2, comment="CANARY-COMMENT too slow", answered_at=at(11, 26)),
            dict(survey_id=new, user_id="U0CLIENTB", score=4, answered_at=at(11, 27)),
        ])
        fid = session.execute(insert(Feedback).returning(Feedback.id), dict(
            project_id=pid, from_user="U0CLIENT", score=None, complaint=True, text="CANARY-FEEDBACK the demo failed",
            source="command", logged_by="U0LEAD", created_at=at(11, 27))).scalar_one()
        session.execute(insert(FollowUp), [
            dict(project_id=pid, source="feedback", record_id=fid, owner_id="U0TEAM", opened_at=at(11, 27)),
            dict(project_id=pid, source="survey", record_id=999, owner_id="U0LEAD", opened_at=at(11, 26),
                 resolved_at=at(11, 27), resolved_by="U0LEAD", resolution="called them"),
        ])
        session.execute(insert(Risk), [
            dict(project_id=pid, number=1, description="CANARY-RISK vendor may slip", likelihood="high",
                 impact="medium", state="open", created_by="U0LEAD", created_at=at(11, 10), changed_at=at(11, 10),
                 review_date=date(2026, 11, 27)),
            dict(project_id=pid, number=2, description="Designer on leave", likelihood="low", impact="low",
                 state="open", created_by="U0LEAD", created_at=at(11, 26), changed_at=at(11, 26)),
            dict(project_id=pid, number=3, description="Hosting quota", likelihood="high", impact="high",
                 state="closed", created_by="U0LEAD", created_at=at(11, 1), changed_at=at(11, 27),
                 closed_at=at(11, 27), closed_by="U0LEAD", close_note="raised"),
        ])


def test_the_internal_digest_acts_on_satisfaction_and_risks_and_the_client_digest_shows_none_of_it(app, db, clock):
    acme(app)
    clock.set(at(11, 25, 9))
    assert "Digest posted" in app.command("digest").text
    app.jobs.drain()
    seed(db)
    app.fake.clear()
    clock.set(datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC))
    service.tick(app.rt)
    internal, client = digests(app.fake, "C0INTERNAL"), digests(app.fake, "C0SHARED")
    assert internal and client
    # CSAT of the period: (2 + 4) / 2 from 2 answers, against 5.0 the period before; the latest comments.
    assert "Client satisfaction* — 3.0/5 from 2 answers (-2.0 on the period before, 5.0/5)" in internal
    assert "CANARY-COMMENT too slow" in internal and "CANARY-FEEDBACK the demo failed" in internal
    # Open follow-ups only (the resolved one is gone), with their owner.
    assert "Open follow-ups* (1)" in internal and "<@U0TEAM>" in internal
    # Open risks by score (6 before 1), the one past its review flagged; what changed since the last digest.
    assert internal.index("*R-1* (6/9)") < internal.index("*R-2* (1/9)")
    assert "review was due Fri 27 Nov" in internal
    assert "*R-2* added" in internal and "*R-3* closed" in internal and "*R-1* changed" not in internal
    for canary in CANARIES:
        assert canary not in client, canary


def test_a_project_without_any_shows_none_of_these_sections(project, db, clock):
    reply = project.command("digest preview")
    for title in ("Client satisfaction", "Open follow-ups", "Open risks"):
        assert title not in reply.text
