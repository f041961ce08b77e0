"""Follow-ups: a low survey score or a complaint raises an alert in the internal channel, owned by the project's
lead (unless reassigned) until someone resolves it with a note.

A follow-up is internal through and through: its card is only ever shown to the team (never in a client channel),
and the survey answer that raised one is shown with its score and comment, never with the name of whoever gave it.
Resolving is one conditional UPDATE (`WHERE resolved_at IS NULL`), so of two people resolving at once exactly one
wins and the other is told who was first. Every write is audited (`followup.<verb>`).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.actors import CLIENT_ROLES, INTERNAL_ROLES, Actor, require_role
from bot.commands import ID_MAX, has_visible, whole_number
from bot.errors import BadInput, NotAllowed, NotFound
from bot.markup import slack_length
from bot.services import audit
from bot.services.places import Place
from storage import queries
from storage.models import Feedback, FollowUp, Member, Project, ProjectChannel, Survey, SurveyAnswer

LOW_SCORE = 2  # a survey answer or feedback score at or below this raises an alert
NOTE_MAX = 1000
_REF = re.compile(r"^(?:f-?|#)?(?P<number>\d+)$", re.I)


@dataclass(frozen=True)
class Origin:
    """What raised a follow-up: a feedback, or a survey answer (shown without the name of who gave it)."""

    source: str  # "feedback" | "survey"
    record_id: int
    score: int | None
    complaint: bool
    text: str | None  # the feedback's words, or the survey answer's comment
    from_user: str | None  # the client person a feedback is attributed to; None for a survey answer
    logged_by: str | None  # who recorded a feedback
    via: str | None  # how a feedback came: command | form | mention
    at: datetime | None
    gone: bool = False  # the record was deleted since

    @property
    def low(self) -> bool:
        return self.score is not None and self.score <= LOW_SCORE


@dataclass(frozen=True)
class FollowUpCard:
    id: int
    project_id: int
    project_key: str
    project_name: str
    timezone: str
    owner_id: str  # "" when the project had no lead to own it
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    origin: Origin

    @property
    def ref(self) -> str:
        return f"F-{self.id}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


def open_for(session: Session, project_id: int, source: str, record_id: int, now: datetime) -> int | None:
    """Open the follow-up of a survey answer or a feedback (`source` "survey" or "feedback"), owned by the project's
    first lead; its id, or None when that record already has one (a changed answer, a re-delivery). The caller
    queues its alert card (card kind "followup") in the internal channels, in the same transaction."""
    owner = session.scalar(select(Member.user_id).where(Member.project_id == project_id, Member.role == "lead")
                           .order_by(Member.id).limit(1))
    return queries.insert_or_ignore(session, FollowUp, dict(
        project_id=project_id, source=source, record_id=record_id, owner_id=owner or "", opened_at=now,
    ), returning=FollowUp.id)


def reopen(session: Session, actor: Actor, project_id: int, follow_up_id: int, now: datetime) -> bool:
    """A resolved follow-up whose answer turned low again is open again, from now (its reminders start afresh)."""
    reopened = session.execute(update(FollowUp).where(FollowUp.id == follow_up_id, FollowUp.resolved_at.is_not(None))
                               .values(resolved_at=None, resolved_by=None, resolution=None, opened_at=now))
    if reopened.rowcount:
        audit.record(session, actor, "followup.reopen", f"followup:{follow_up_id}", now, project_id)
    return bool(reopened.rowcount)


def internal_channels(session: Session, project_id: int) -> list[str]:
    """The live internal channels of a project: where its alert cards go (never its client channel)."""
    return list(session.scalars(select(ProjectChannel.channel_id).where(
        ProjectChannel.project_id == project_id, ProjectChannel.audience == "internal",
        ProjectChannel.is_archived.is_(False)).order_by(ProjectChannel.id)))


# -- who and where ---------------------------------------------------------------------------------------------------
def require_team_here(place: Place, doing: str) -> None:
    """Follow-ups and feedback are the team's: never for a client, never shown in the client's channel."""
    if place.actor.is_client:
        raise NotAllowed(f"Only the delivery team can {doing}. To tell the team how it is going, write "
                         "`@Liaison feedback: …` in this channel.")
    require_role(place.actor, INTERNAL_ROLES, doing)
    if place.is_client_channel:
        raise NotAllowed(f"This channel is shared with the client, and feedback is only ever shown to the team, so I "
                         f"won't {doing} here. Use the project's internal channel, or name the project from any "
                         f"other channel with `project={place.key}`.")


def check_owner(place: Place, user_id: str, in_channels: Callable[[Sequence[str], str], bool]) -> None:
    """A follow-up is owned by someone on the team: a lead or team member, or someone in an internal channel."""
    role = next((m.role for m in place.card.members if m.user_id == user_id), None)
    if role in CLIENT_ROLES:
        raise BadInput(f"<@{user_id}> is on the client's side; a follow-up is owned by someone on the team.", "owner")
    if role in INTERNAL_ROLES:
        return
    internal = [c.channel_id for c in place.card.channels_for("internal")]
    if not internal or not in_channels(internal, user_id):
        raise BadInput(f"<@{user_id}> isn't on the team of `{place.key}`. Give them a role with `/project role` or "
                       "invite them to the internal channel first.", "owner")


# -- finding ---------------------------------------------------------------------------------------------------------
def find(session: Session, place: Place, ref: str) -> FollowUp:
    """`F-3`, `f3`, `#3` or `3`, in the place's project."""
    word = (ref or "").strip().split(None, 1)[0] if (ref or "").strip() else ""
    match = _REF.match(word)
    if match is None:
        raise BadInput("Which follow-up? Give its number, e.g. `F-3` (`/feedback followups` lists the open ones). "
                       "To record feedback that starts with that word, begin with `log`: `/feedback log …`.", "id")
    number = whole_number(match["number"], 1, ID_MAX)
    row = None if number is None else session.scalar(select(FollowUp).where(
        FollowUp.id == number, FollowUp.project_id == place.project_id))
    if row is None:
        shown = word if len(word) <= 20 else word[:19] + "…"
        raise NotFound(f"`{place.key}` has no follow-up {shown.upper()}. `/feedback followups` lists the open ones.")
    return row


def target(session: Session, value: str, team_id: str) -> tuple[str, int]:
    """The follow-up a button names (its id) and its project's key, if it is one of this workspace's; else
    NotFound."""
    number = whole_number(value, 1, ID_MAX)
    key = queries.project_key_of(session, FollowUp, number, team_id)
    if key is None or number is None:
        raise NotFound("That button names a follow-up I can't find, so nothing was changed.")
    return key, number


def of_place(session: Session, place: Place, follow_up_id: Any) -> FollowUp:
    """A follow-up named by id (a button's or a form's claim), if it is of the place's project."""
    row = session.scalar(select(FollowUp).where(FollowUp.id == follow_up_id, FollowUp.project_id == place.project_id)
                         ) if isinstance(follow_up_id, int) and 0 < follow_up_id <= ID_MAX else None
    if row is None:
        raise NotFound("That follow-up isn't one of this project's, so nothing was changed.")
    return row


# -- acting on it ----------------------------------------------------------------------------------------------------
def check_note(note: str | None) -> str:
    note = (note or "").strip()
    if not has_visible(note):
        raise BadInput("Say what was done about it, so that everyone can see it later: `/feedback resolve F-3 Called "
                       "Dana; the demo is rescheduled`.", "note")
    if (length := slack_length(note)) > NOTE_MAX:
        raise BadInput(f"The note is {length:,} characters long as Slack counts them; keep it to {NOTE_MAX:,}.",
                       "note")
    return note


def check_open(session: Session, place: Place, row: FollowUp) -> None:
    """Refuses a follow-up resolved already, saying by whom and when (before a form asking for a note opens)."""
    if row.resolved_at is not None:
        raise BadInput(_already(row, place.timezone))


def resolve(session: Session, place: Place, follow_up_id: int, note: str | None, now: datetime) -> FollowUpCard:
    require_team_here(place, "resolve follow-ups")
    row = of_place(session, place, follow_up_id)
    note = check_note(note)
    check_open(session, place, row)
    done = session.execute(update(FollowUp).where(FollowUp.id == row.id, FollowUp.resolved_at.is_(None))
                           .values(resolved_at=now, resolved_by=place.actor.user_id, resolution=note))
    if not done.rowcount:  # someone else resolved it between our read and our write
        raise BadInput(_already(_get(session, row.id), place.timezone), "note")
    audit.record(session, place.actor, "followup.resolve", f"followup:{row.id}", now, place.project_id, note=note,
                 source=row.source, record=row.record_id)
    card = shown(session, row.id)
    assert card is not None
    return card


def reassign(session: Session, place: Place, follow_up_id: int, owner_id: str, now: datetime,
             ) -> tuple[FollowUpCard, str]:
    """Hand an open follow-up to someone else on the team (checked with `check_owner` first); returns the card and
    the previous owner."""
    require_team_here(place, "hand follow-ups on")
    row = of_place(session, place, follow_up_id)
    check_open(session, place, row)
    before = row.owner_id
    if before == owner_id:
        raise BadInput(f"F-{row.id} is already <@{owner_id}>'s.", "owner")
    moved = session.execute(update(FollowUp).where(FollowUp.id == row.id, FollowUp.resolved_at.is_(None),
                                                   FollowUp.owner_id == before).values(owner_id=owner_id))
    if not moved.rowcount:
        fresh = _get(session, row.id)
        if fresh.resolved_at is not None:
            raise BadInput(_already(fresh, place.timezone))
        raise BadInput(f"F-{row.id} was just handed to <@{fresh.owner_id}> by someone else, so nothing was changed.")
    audit.record(session, place.actor, "followup.reassign", f"followup:{row.id}", now, place.project_id,
                 **{"from": before or None, "to": owner_id})
    card = shown(session, row.id)
    assert card is not None
    return card, before


def _already(row: FollowUp, tz: str) -> str:
    when = f" at {row.resolved_at.astimezone(ZoneInfo(tz)):%H:%M on %d %b}" if row.resolved_at else ""
    return f"F-{row.id} was already resolved by <@{row.resolved_by}>{when}, so nothing was changed."


def _get(session: Session, follow_up_id: int) -> FollowUp:
    return session.get_one(FollowUp, follow_up_id, populate_existing=True)


# -- reading ---------------------------------------------------------------------------------------------------------
def listing(session: Session, place: Place, open_only: bool = True, most: int = 50) -> list[FollowUpCard]:
    require_team_here(place, "list follow-ups")
    query = select(FollowUp).where(FollowUp.project_id == place.project_id)
    if open_only:
        query = query.where(FollowUp.resolved_at.is_(None))
    rows = list(session.scalars(query.order_by(FollowUp.opened_at, FollowUp.id).limit(most + 1)))
    return cards_of(session, rows)


def shown(session: Session, follow_up_id: int) -> FollowUpCard | None:
    """A follow-up as its card shows it now; None when it is gone."""
    row = session.get(FollowUp, follow_up_id, populate_existing=True)
    return None if row is None else cards_of(session, [row])[0]


def shown_many(session: Session, follow_up_ids: Sequence[int]) -> dict[int, FollowUpCard]:
    """Several follow-ups, in a constant number of queries (the reminders' composer)."""
    if not follow_up_ids:
        return {}
    rows = list(session.scalars(select(FollowUp).where(FollowUp.id.in_(set(follow_up_ids)))))
    return {c.id: c for c in cards_of(session, rows)}


def cards_of(session: Session, rows: Sequence[FollowUp]) -> list[FollowUpCard]:
    """Cards for follow-ups of any projects: four queries whatever their number."""
    if not rows:
        return []
    projects = {r.id: r for r in session.execute(select(Project.id, Project.key, Project.name, Project.timezone)
                                                 .where(Project.id.in_({r.project_id for r in rows})))}
    feedback_ids = {r.record_id for r in rows if r.source == "feedback"}
    answer_ids = {r.record_id for r in rows if r.source == "survey"}
    origins: dict[tuple[str, int], Origin] = {}
    projects_of: dict[tuple[str, int], int] = {}
    if feedback_ids:
        for f in session.execute(select(Feedback.id, Feedback.project_id, Feedback.score, Feedback.complaint,
                                        Feedback.text, Feedback.from_user, Feedback.logged_by, Feedback.source,
                                        Feedback.created_at).where(Feedback.id.in_(feedback_ids))):
            origins[("feedback", f.id)] = Origin("feedback", f.id, f.score, f.complaint, f.text, f.from_user,
                                                 f.logged_by, f.source, f.created_at)
            projects_of[("feedback", f.id)] = f.project_id
    if answer_ids:
        for a in session.execute(select(SurveyAnswer.id, SurveyAnswer.score, SurveyAnswer.comment,
                                        SurveyAnswer.answered_at, SurveyAnswer.changed_at, Survey.project_id)
                                 .join(Survey, Survey.id == SurveyAnswer.survey_id)
                                 .where(SurveyAnswer.id.in_(answer_ids))):
            origins[("survey", a.id)] = Origin("survey", a.id, a.score, False, a.comment, None, None, "survey",
                                               a.changed_at or a.answered_at)
            projects_of[("survey", a.id)] = a.project_id
    cards = []
    for r in rows:
        p = projects.get(r.project_id)
        if p is None:
            continue
        # A record is only ever shown on a follow-up of its own project.
        found = origins.get((r.source, r.record_id)) if projects_of.get((r.source, r.record_id)) == r.project_id \
            else None
        origin = found or Origin(r.source, r.record_id, None, False, None, None, None, None, None, gone=True)
        cards.append(FollowUpCard(r.id, r.project_id, p.key, p.name, p.timezone, r.owner_id, r.opened_at,
                                  r.resolved_at, r.resolved_by, r.resolution, origin))
    return cards
