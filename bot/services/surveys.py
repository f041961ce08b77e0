"""CSAT surveys: a question in the client's channel, answered 1-5 by the client's side, open for seven days.

A survey is a row per project and occurrence ("monthly:2026-12", "milestone-day:2026-12-07", "now:<request>"),
created once however many schedulers compose it (insert-or-ignore on the unique key). An answer is a row per survey and
person: pressing another number changes it (an upsert: insert-or-ignore, else a conditional UPDATE), so the
count of answers is the count of people. A score at or below `followups.LOW_SCORE` opens the answer's follow-up
(once per answer, so a changed answer never raises a second alert).

Only the client's side counts (`check_answerer`): the place check (`place_of`) has already refused everyone not
on the project; of those on it, a team member (lead or team, or anyone the place reads as the team) is refused,
and so is a person of another organisation than the client's. The client's organisation is that of the people
the lead named with a client role; until anyone is named, anyone from another organisation in the client channel
is taken to be the client (the channel is shared with the client, and the place check already reads them so).

Nothing here ever names who gave which score, and nothing shows an average: the card shows how many answered.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.actors import CLIENT_ROLES, INTERNAL_ROLES, require_role
from bot.commands import ID_MAX, whole_number
from bot.errors import BadInput, NotAllowed, NotFound
from bot.markup import slack_length
from bot.services import audit, followups
from bot.services.places import Place
from storage import queries
from storage.models import (
    SURVEY_SCHEDULES,
    AuditEntry,
    FollowUp,
    Milestone,
    Person,
    Project,
    Survey,
    SurveyAnswer,
)

OPEN_FOR = timedelta(days=7)
SEND_AT = time(10, 0)  # in the project's timezone
COMMENT_MAX = 3000  # as Slack counts it (bot.markup.slack_length)
SCORES = range(1, 6)
SCHEDULE_ACTION = "project.survey_schedule"  # the audit entry of `/project survey <schedule>`
_ALIASES = {"after_milestone": "after-milestone", "aftermilestone": "after-milestone", "milestone": "after-milestone",
            "month": "monthly", "none": "off", "never": "off"}


# -- the schedule ----------------------------------------------------------------------------------------------------
def parse_schedule(text: str) -> str:
    word = " ".join((text or "").split()).lower()
    word = _ALIASES.get(word, word)
    if word not in SURVEY_SCHEDULES:
        shown = text if len(text) <= 30 else text[:29] + "…"
        raise BadInput(f"`/project survey {shown}`: say `monthly`, `after-milestone` or `off` (or `now` to send one "
                       "at once).", "schedule")
    return word


def schedule_of(session: Session, project_id: int) -> str:
    return session.scalar(select(Project.survey_schedule).where(Project.id == project_id)) or "off"


def set_schedule(session: Session, place: Place, schedule: str, now: datetime) -> bool:
    """The lead sets when surveys go out (audited); False when it already was that."""
    require_role(place.actor, ("lead",), "change when surveys go out")
    before = schedule_of(session, place.project_id)
    if before == schedule:
        return False
    session.execute(update(Project).where(Project.id == place.project_id).values(survey_schedule=schedule))
    audit.record(session, place.actor, SCHEDULE_ACTION, f"project:{place.key}", now, place.project_id,
                 before=before, after=schedule)
    return True


def schedule_set_at(session: Session, project_ids: list[int]) -> dict[int, datetime]:
    """When each project's survey schedule was last set (its audit entry): an occurrence before it is not sent, so
    turning surveys on never sends one that was due before."""
    if not project_ids:
        return {}
    return dict(session.execute(
        select(AuditEntry.project_id, func.max(AuditEntry.at))
        .where(AuditEntry.project_id.in_(project_ids), AuditEntry.action == SCHEDULE_ACTION)
        .group_by(AuditEntry.project_id)).all())


def first_working_day(year: int, month: int) -> date:
    day = date(year, month, 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def next_working_day(day: date) -> date:
    """The working day (Monday to Friday) after `day`."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def monthly_at(now: datetime, tz: str, months_ahead: int = 0) -> datetime:
    """The monthly survey of the month it is at `now` in `tz` (or one `months_ahead`): its first working day,
    10:00 there."""
    local = now.astimezone(ZoneInfo(tz))
    index = local.year * 12 + local.month - 1 + months_ahead
    return datetime.combine(first_working_day(index // 12, index % 12 + 1), SEND_AT, ZoneInfo(tz))


def monthly_occurrence(at: datetime, tz: str) -> str:
    return f"monthly:{at.astimezone(ZoneInfo(tz)):%Y-%m}"


def after_milestone_at(done_at: datetime, tz: str) -> datetime:
    """The working day after a milestone was done (its local day), 10:00 there."""
    done_day = done_at.astimezone(ZoneInfo(tz)).date()
    return datetime.combine(next_working_day(done_day), SEND_AT, ZoneInfo(tz))


@dataclass(frozen=True)
class ScheduleView:
    schedule: str
    timezone: str
    next_at: datetime | None  # monthly: the next one
    next_milestone: tuple[str, date] | None  # after-milestone: the next open client-visible milestone
    open_surveys: tuple[SurveyView, ...]


def schedule_view(session: Session, place: Place, now: datetime) -> ScheduleView:
    require_role(place.actor, INTERNAL_ROLES, "see when surveys go out")
    schedule = schedule_of(session, place.project_id)
    next_at = None
    if schedule == "monthly":
        at = monthly_at(now, place.timezone)
        set_at = schedule_set_at(session, [place.project_id]).get(place.project_id)
        if at < now or (set_at is not None and at < set_at):
            at = monthly_at(now, place.timezone, 1)
        next_at = at
    milestone = None
    if schedule == "after-milestone":
        row = session.execute(select(Milestone.name, Milestone.due_date).where(
            Milestone.project_id == place.project_id, Milestone.visibility == "client", Milestone.done_at.is_(None))
            .order_by(Milestone.due_date, Milestone.id).limit(1)).first()
        milestone = (row.name, row.due_date) if row else None
    open_ids = list(session.scalars(select(Survey.id).where(
        Survey.project_id == place.project_id, Survey.closed_at.is_(None), Survey.closes_at > now)
        .order_by(Survey.id)))
    found = views(session, open_ids)
    return ScheduleView(schedule, place.timezone, next_at, milestone, tuple(found[i] for i in open_ids))


# -- surveys ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SurveyView:
    """A survey as its card shows it: never who answered, nor any score."""

    id: int
    project_id: int
    project_key: str
    project_name: str
    timezone: str
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    answers: int

    def is_closed(self, now: datetime) -> bool:
        return self.closed_at is not None or self.closes_at <= now

    @property
    def closed_on(self) -> date:
        """The day it stopped taking answers (its seven days were over), whenever a tick then marked it closed."""
        return self.closes_at.astimezone(ZoneInfo(self.timezone)).date()


def open_survey(session: Session, project_id: int, occurrence: str, channel_id: str, now: datetime,
                opened_by: str | None = None) -> int:
    """The survey of this project and occurrence, made now if it isn't yet (whoever composes it first)."""
    created = queries.insert_or_ignore(session, Survey, dict(
        project_id=project_id, occurrence=occurrence, channel_id=channel_id, opened_at=now, closes_at=now + OPEN_FOR,
        opened_by=opened_by), returning=Survey.id)
    if created is not None:
        return created
    return session.scalar(select(Survey.id).where(Survey.project_id == project_id, Survey.occurrence == occurrence))


def start_now(session: Session, place: Place, now: datetime) -> tuple[int, tuple[str, ...]]:
    """`/project survey now`: the lead sends one at once, outside the schedule; its id and the client channels
    its card goes to."""
    require_role(place.actor, ("lead",), "send a survey")
    channels = tuple(c.channel_id for c in place.card.channels_for("client"))
    if not channels:
        raise BadInput(f"`{place.key}` has no client channel to ask in. Link the channel you share with the client "
                       f"first: `/project link {place.key}` there.")
    occurrence = f"now:{uuid.uuid4().hex}"
    survey_id = open_survey(session, place.project_id, occurrence, channels[0], now, place.actor.user_id)
    audit.record(session, place.actor, "survey.now", f"survey:{survey_id}", now, place.project_id,
                 channels=list(channels))
    return survey_id, channels


def views(session: Session, survey_ids: list[int]) -> dict[int, SurveyView]:
    """Surveys as their cards show them: two queries whatever their number."""
    if not survey_ids:
        return {}
    counts = dict(session.execute(select(SurveyAnswer.survey_id, func.count()).where(
        SurveyAnswer.survey_id.in_(survey_ids)).group_by(SurveyAnswer.survey_id)).all())
    rows = session.execute(select(Survey.id, Survey.project_id, Project.key, Project.name, Project.timezone,
                                  Survey.opened_at, Survey.closes_at, Survey.closed_at)
                           .join(Project, Project.id == Survey.project_id).where(Survey.id.in_(survey_ids)))
    return {r.id: SurveyView(r.id, r.project_id, r.key, r.name, r.timezone, r.opened_at, r.closes_at, r.closed_at,
                             counts.get(r.id, 0)) for r in rows}


def shown(session: Session, survey_id: int) -> SurveyView | None:
    return views(session, [survey_id]).get(survey_id)


def close_due(session: Session, now: datetime) -> list[int]:
    """Close the surveys whose seven days are over: one conditional UPDATE, so of several schedulers running it at
    once exactly one closes each (and queues its card's change)."""
    return list(session.scalars(update(Survey).where(Survey.closed_at.is_(None), Survey.closes_at <= now)
                                .values(closed_at=now).returning(Survey.id)))


# -- answers ---------------------------------------------------------------------------------------------------------
def target(session: Session, value: str, team_id: str) -> tuple[str, int, int]:
    """The survey a button names (`<survey id>:<score>`), its project's key and the score, if it is one of this
    workspace's surveys and the score is 1-5; else NotFound (a forged value changes nothing)."""
    head, sep, tail = (value or "").partition(":")
    survey_id = whole_number(head, 1, ID_MAX)
    score = whole_number(tail, SCORES.start, SCORES.stop - 1) if sep else None
    if survey_id is None or score is None:
        raise NotFound("That button names no survey and score I know, so nothing was stored.")
    key = queries.project_key_of(session, Survey, survey_id, team_id)
    if key is None:
        raise NotFound("That button names a survey I can't find, so nothing was stored.")
    return key, survey_id, score


def _survey_of(session: Session, place: Place, survey_id: object, now: datetime) -> SurveyView:
    """The survey, if it is of the place's project and still open."""
    view = shown(session, survey_id) if isinstance(survey_id, int) and 0 < survey_id <= ID_MAX else None
    if view is None or view.project_id != place.project_id:
        raise NotFound("That survey isn't one of this project's, so nothing was stored.")
    if view.is_closed(now):
        raise BadInput(f"This survey closed on {view.closed_on:%a %d %b %Y}, so answers are no longer taken. "
                       "Thank you all the same.", "comment")
    return view


def check_answerer(session: Session, place: Place) -> None:
    """Only the client's side answers (see the module's docstring); raises NotAllowed for anyone else."""
    actor = place.actor
    if not actor.is_client:
        raise NotAllowed("This survey asks the client how the project is going, so the team's answers don't count "
                         "and nothing was stored. The digest shows the team how the client answered.")
    if actor.role in CLIENT_ROLES:
        return  # named by the lead: counts, whatever their organisation (a guest of ours from the client's)
    named = [m.user_id for m in place.card.members if m.role in CLIENT_ROLES]
    if not named:
        return  # nobody named yet: the channel is shared with the client, so its other organisation is the client
    homes = _homes(session, actor.team_id, [*named, actor.user_id])
    clients = {homes[u] for u in named if u in homes}
    if homes.get(actor.user_id) not in clients:
        leads = " or ".join(f"<@{m.user_id}>" for m in place.card.members if m.role == "lead") or "the project lead"
        raise NotAllowed("This survey is for the client's organisation, and yours isn't it, so nothing was stored. "
                         f"If you answer for the client, ask {leads} to name you with `/project role`.")


def _homes(session: Session, team_id: str, user_ids: list[str]) -> dict[str, str]:
    return dict(session.execute(select(Person.user_id, Person.home_team_id).where(
        Person.team_id == team_id, Person.user_id.in_(user_ids))).all())


@dataclass(frozen=True)
class Answered:
    survey: SurveyView  # as it is after this answer
    answer_id: int
    score: int
    before: int | None  # the score given earlier, None for a first answer
    comment: str | None
    followup_id: int | None  # the follow-up this answer opened (a low score, the first time)
    alerted_id: int | None = None  # the follow-up this answer had already opened, whose card shows its score

    @property
    def is_new(self) -> bool:
        return self.before is None


def answer(session: Session, place: Place, survey_id: int, score: int, now: datetime) -> Answered:
    """A press of a score: stored at once (or changed: one answer per person), and a low score opens the answer's
    follow-up, once."""
    if score not in SCORES:
        raise NotFound("That button names no score from 1 to 5, so nothing was stored.")
    _survey_of(session, place, survey_id, now)
    check_answerer(session, place)
    user_id = place.actor.user_id
    answer_id = queries.insert_or_ignore(session, SurveyAnswer, dict(
        survey_id=survey_id, user_id=user_id, score=score, answered_at=now), returning=SurveyAnswer.id)
    before = None
    if answer_id is None:  # answered before: this press changes it
        row = session.execute(select(SurveyAnswer.id, SurveyAnswer.score).where(
            SurveyAnswer.survey_id == survey_id, SurveyAnswer.user_id == user_id).with_for_update()).one()
        answer_id, before = row.id, row.score
        if before != score:
            session.execute(update(SurveyAnswer).where(SurveyAnswer.id == answer_id)
                            .values(score=score, changed_at=now))
    followup_id = None
    if score <= followups.LOW_SCORE:
        followup_id = followups.open_for(session, place.project_id, "survey", answer_id, now)
    alerted_id = _followup_of(session, answer_id) if followup_id is None and before is not None else None
    if alerted_id is not None and score <= followups.LOW_SCORE and before is not None and before > followups.LOW_SCORE:
        # Low again after it was resolved: the same alert opens again (its card changes back in place).
        followups.reopen(session, place.actor, place.project_id, alerted_id, now)
    comment = session.scalar(select(SurveyAnswer.comment).where(SurveyAnswer.id == answer_id))
    view = shown(session, survey_id)
    assert view is not None
    return Answered(view, answer_id, score, before, comment, followup_id, alerted_id)


def _followup_of(session: Session, answer_id: int) -> int | None:
    return session.scalar(select(FollowUp.id).where(FollowUp.source == "survey", FollowUp.record_id == answer_id))


def check_comment(text: str | None) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    if (length := slack_length(text)) > COMMENT_MAX:
        raise BadInput(f"Your comment is {length:,} characters long as Slack counts them; keep it to "
                       f"{COMMENT_MAX:,}.", "comment")
    return text


def comment(session: Session, place: Place, survey_id: object, text: str | None, now: datetime) -> int | None:
    """The optional comment of the form that opens after a press: on the person's own answer, while the survey is
    open. An empty one clears it. Editing an earlier comment counts as changing the answer (changed_at). Returns the
    follow-up the answer opened, if any (its card shows the comment), when the comment changed."""
    checked = check_comment(text)
    view = _survey_of(session, place, survey_id, now)
    check_answerer(session, place)
    row = session.execute(select(SurveyAnswer.id, SurveyAnswer.comment).where(
        SurveyAnswer.survey_id == view.id, SurveyAnswer.user_id == place.actor.user_id)).first()
    if row is None:
        raise NotFound("Press a number on the survey first; the comment goes with your score.", "comment")
    if row.comment == checked:
        return None
    values: dict[str, object] = {"comment": checked}
    if row.comment is not None:
        values["changed_at"] = now
    session.execute(update(SurveyAnswer).where(SurveyAnswer.id == row.id).values(**values))
    return _followup_of(session, row.id)
