"""The tables: workspaces, people, projects with their channels and members, and the append-only audit log."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

AUDIENCES = ("internal", "client")
HEALTHS = ("green", "amber", "red")
DEFAULT_SCHEDULE = "weekly mon 09:00"
ROLES = ("lead", "team", "client_approver", "client")
PRIORITIES = ("low", "normal", "high", "urgent")
CHANGE_STATES = ("submitted", "assessed", "approved", "rejected", "in_progress", "done", "withdrawn")
LEVELS = ("low", "medium", "high")  # a risk's likelihood and impact; its score is their product, 1-9
RESPONSES = ("avoid", "mitigate", "transfer", "accept")
SURVEY_SCHEDULES = ("off", "monthly", "after-milestone")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",  # all its columns: two starting alike cannot collide
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Workspace(Base):
    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Person(Base):
    """What Slack told us about a user, cached so that middleware does not call users.info every time."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id"))
    user_id: Mapped[str] = mapped_column(String(32))
    home_team_id: Mapped[str] = mapped_column(String(32))
    is_external: Mapped[bool]
    name: Mapped[str] = mapped_column(String(200), default="")
    tz: Mapped[str | None] = mapped_column(String(64))
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id"))
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    client_name: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date())
    timezone: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    digest_schedule: Mapped[str] = mapped_column(String(120), default=DEFAULT_SCHEDULE,
                                                 server_default=DEFAULT_SCHEDULE)
    schedule_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The agreed budget (the baseline approved change requests add to), in hundredths of its ISO 4217 currency.
    budget_cents: Mapped[int | None] = mapped_column(BigInteger())
    budget_currency: Mapped[str | None] = mapped_column(String(3))
    changes_filed: Mapped[int] = mapped_column(server_default="0")  # the last CR-<n> given
    risks_filed: Mapped[int] = mapped_column(server_default="0")  # the last R-<n> given
    survey_schedule: Mapped[str] = mapped_column(String(20), server_default="off")  # off|monthly|after-milestone

    channels: Mapped[list[ProjectChannel]] = relationship(
        back_populates="project", order_by="ProjectChannel.id", cascade="all, delete-orphan"
    )
    members: Mapped[list[Member]] = relationship(
        back_populates="project", order_by="Member.id", cascade="all, delete-orphan"
    )


class ProjectChannel(Base):
    """A channel bound to a project; its audience decides what may be posted there."""

    __tablename__ = "project_channels"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id"),
        CheckConstraint("audience IN ('internal', 'client')", name="audience"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[str] = mapped_column(String(16))
    is_archived: Mapped[bool] = mapped_column(default=False)
    bound_by: Mapped[str] = mapped_column(String(32))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime())

    project: Mapped[Project] = relationship(back_populates="channels")


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("project_id", "user_id"),
        CheckConstraint("role IN ('lead', 'team', 'client_approver', 'client')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(24))
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())

    project: Mapped[Project] = relationship(back_populates="members")


class AuditEntry(Base):
    """Append-only: who did what to which record, when. Rows are never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_project_at", "project_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(120))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Update(Base):
    """A status update: typed with /update, mentioned to the bot, or captured from a message by a shortcut."""

    __tablename__ = "updates"
    __table_args__ = (
        UniqueConstraint("project_id", "source_key"),  # one message or event is stored once, however delivered
        Index("ix_updates_project_id_created_at", "project_id", "created_at"),
        CheckConstraint("visibility IN ('internal', 'client')", name="visibility"),
        CheckConstraint("health IS NULL OR health IN ('green', 'amber', 'red')", name="health"),
        CheckConstraint("progress IS NULL OR (progress >= 0 AND progress <= 100)", name="progress"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(String(32))  # who wrote it (the message author for a capture)
    logged_by: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    health: Mapped[str | None] = mapped_column(String(8))
    progress: Mapped[int | None]
    visibility: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # command | mention | shortcut
    source_key: Mapped[str | None] = mapped_column(String(120))
    channel_id: Mapped[str] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A lead may hide someone else's update (never rewrite it): the words stay, and the audit log keeps them too.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by: Mapped[str | None] = mapped_column(String(32))
    hidden_reason: Mapped[str | None] = mapped_column(Text)


class Milestone(Base):
    __tablename__ = "milestones"
    __table_args__ = (
        Index("ix_milestones_project_id_due_date", "project_id", "due_date"),
        CheckConstraint("visibility IN ('internal', 'client')", name="visibility"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date())
    owner_id: Mapped[str | None] = mapped_column(String(32))
    visibility: Mapped[str] = mapped_column(String(16))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChangeRequest(Base):
    """A change request (CR-<number> in its project): filed, assessed by the team, decided by the client.

    Its state moves only by conditional updates (`WHERE state = <the state it was seen in>`), so of two people
    deciding at once exactly one wins; every move is in the audit log, which is its history.
    """

    __tablename__ = "change_requests"
    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        UniqueConstraint("project_id", "source_key"),  # one message or event is filed once, however delivered
        Index("ix_change_requests_project_id_state", "project_id", "state"),
        CheckConstraint("state IN ('submitted', 'assessed', 'approved', 'rejected', 'in_progress', 'done', "
                        "'withdrawn')", name="state"),
        CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')", name="priority"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # command | form | mention | shortcut
    source_key: Mapped[str | None] = mapped_column(String(120))
    permalink: Mapped[str | None] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())  # its last move: "awaiting decision since"
    # The assessment; `version` counts them, and an approval names the one it covers.
    version: Mapped[int] = mapped_column(default=0)
    days: Mapped[int | None]  # schedule impact, in working days
    cost_cents: Mapped[int | None] = mapped_column(BigInteger())
    currency: Mapped[str | None] = mapped_column(String(3))
    notes: Mapped[str | None] = mapped_column(Text)
    notes_internal: Mapped[bool] = mapped_column(default=False)
    milestone_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    assessed_by: Mapped[str | None] = mapped_column(String(32))
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The decision: by a client approver, or by the lead on the client's behalf (`override`, with a reason).
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)
    override: Mapped[bool] = mapped_column(default=False)
    approved_version: Mapped[int | None]
    # What the approval moved: [[milestone id, due before, due after], ...], so that voiding it moves them back.
    moved: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)


class Feedback(Base):
    """What a client said about the project: heard by the team elsewhere (`/feedback`), or written by the client
    (`@Liaison feedback: …`, stored once whatever Slack's retries). Never shown to clients."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("project_id", "source_key"),
        Index("ix_feedback_project_id_created_at", "project_id", "created_at"),
        CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    from_user: Mapped[str] = mapped_column(String(32))  # the client person it is attributed to
    score: Mapped[int | None]
    complaint: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # command | form | mention
    source_key: Mapped[str | None] = mapped_column(String(120))
    logged_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Survey(Base):
    """A CSAT survey posted in a client channel: one per project and occurrence ("monthly:2026-12",
    "milestone-day:2026-12-07", "now:<request>"), open for seven days."""

    __tablename__ = "surveys"
    __table_args__ = (UniqueConstraint("project_id", "occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    occurrence: Mapped[str] = mapped_column(String(80))
    channel_id: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # set once, when its card said so
    opened_by: Mapped[str | None] = mapped_column(String(32))  # the lead of `/project survey now`; None: scheduled


class SurveyAnswer(Base):
    """One answer per person per survey; pressing again changes it. Shown to nobody with the person's name."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        UniqueConstraint("survey_id", "user_id"),
        CheckConstraint("score >= 1 AND score <= 5", name="score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FollowUp(Base):
    """An alert on a low score or a complaint, and its follow-up: an owner (the lead unless reassigned) until
    someone resolves it with a note. One per answer or feedback that raised it."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        UniqueConstraint("source", "record_id"),
        Index("ix_follow_ups_project_id_resolved_at", "project_id", "resolved_at"),
        CheckConstraint("source IN ('survey', 'feedback')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))  # survey (a survey answer) | feedback
    record_id: Mapped[int]  # the survey answer's or the feedback's id
    owner_id: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolution: Mapped[str | None] = mapped_column(Text)


class Risk(Base):
    """A risk of the project's register (R-<number>): internal, never shown in a client channel."""

    __tablename__ = "risks"
    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        CheckConstraint("likelihood IN ('low', 'medium', 'high')", name="likelihood"),
        CheckConstraint("impact IN ('low', 'medium', 'high')", name="impact"),
        CheckConstraint("response IS NULL OR response IN ('avoid', 'mitigate', 'transfer', 'accept')",
                        name="response"),
        CheckConstraint("state IN ('open', 'closed')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int]
    description: Mapped[str] = mapped_column(Text)
    likelihood: Mapped[str] = mapped_column(String(8))
    impact: Mapped[str] = mapped_column(String(8))
    response: Mapped[str | None] = mapped_column(String(12))
    owner_id: Mapped[str | None] = mapped_column(String(32))
    review_date: Mapped[date | None] = mapped_column(Date())
    state: Mapped[str] = mapped_column(String(8))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(32))
    close_note: Mapped[str | None] = mapped_column(Text)
    change_request_id: Mapped[int | None] = mapped_column(ForeignKey("change_requests.id", ondelete="SET NULL"))


class Card(Base):
    """A message the bot posted for a record and may change later (chat.update) or remove (chat.delete)."""

    __tablename__ = "cards"
    __table_args__ = (
        UniqueConstraint("channel_id", "ts"),
        Index("ix_cards_record", "kind", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # what it shows: "update", ...
    record_id: Mapped[int]
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Delivery(Base):
    """The ledger that makes every digest and reminder go out once per (project, kind, occurrence, channel).

    A scheduler owns a delivery by inserting its row (the unique key decides between racing schedulers) or by
    taking over a failed one whose lease has ended; it posts, then records `sent`. Missed occurrences older than
    the grace period are recorded as `skipped`, so they are logged once and never sent late.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("project_id", "kind", "occurrence", "channel_id"),
        Index("ix_deliveries_due_at", "due_at"),  # the scheduler's look back over recent occurrences
        Index("ix_deliveries_last_sent", "project_id", "kind", "state", "due_at"),  # "since the last digest"
        Index("ix_deliveries_subject", "subject"),  # a kind counting its past deliveries about a record
        CheckConstraint("state IN ('sending', 'sent', 'failed', 'skipped')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    occurrence: Mapped[str] = mapped_column(String(80))
    channel_id: Mapped[str] = mapped_column(String(32))
    # What it is about beyond the project, as its kind names it ("milestone:12:2026-12-01"); None for a digest.
    subject: Mapped[str | None] = mapped_column(String(80))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Job(Base):
    """Work accepted in an ack and done right after it by a job runner (see bot/jobs.py).

    Kept in the database so that a restart loses nothing anyone typed, and so that runners in several
    processes can share the work: a runner claims a job by pushing `run_after` past a lease.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state_run_after", "state", "run_after"),
        CheckConstraint("state IN ('queued', 'done', 'failed')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    response_url: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(_mapper: Any, _connection: Any, entry: AuditEntry) -> None:
    raise PermissionError("audit entries are append-only")
