"""Client feedback: heard by the team elsewhere (a call, an e-mail: `/feedback`, or its form), or written by the
client in their shared channel (`@Liaison feedback: …`, stored once however often Slack delivers it).

Feedback is the team's: it is never listed for a client, nor shown in the channel shared with the client. A score
at or below `followups.LOW_SCORE`, or a feedback the team files as a complaint, opens a follow-up (an alert) in the
same transaction. A client's mention has no score and is never a complaint, so it never raises one by itself.
Every write is audited.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actors import CLIENT_ROLES, INTERNAL_ROLES
from bot.commands import has_visible, is_number, user_id_of, whole_number
from bot.errors import BadInput, NotAllowed
from bot.markup import slack_length
from bot.services import audit, followups
from bot.services.places import Place
from storage import queries
from storage.models import Feedback, FollowUp

TEXT_MAX = 3000
LIST_MOST = 30
SOURCES = ("command", "form", "mention")


class Duplicate(Exception):
    """This message or event was stored before (Slack delivered it again): nothing to do, nothing to say."""


@dataclass(frozen=True)
class FeedbackDraft:
    text: str
    score: int | None
    from_user: str | None  # None: the project's one client person, if it has exactly one
    complaint: bool

    @property
    def raises_alert(self) -> bool:
        return self.complaint or (self.score is not None and self.score <= followups.LOW_SCORE)


@dataclass(frozen=True)
class FeedbackEntry:
    id: int
    project_id: int
    project_key: str
    from_user: str
    score: int | None
    complaint: bool
    text: str
    source: str
    logged_by: str
    created_at: datetime
    follow_up_id: int | None = None
    follow_up_owner: str | None = None
    follow_up_open: bool = False


# -- checks before anything is stored --------------------------------------------------------------------------------
def parse_score(raw: object) -> int | None:
    if raw is not None and not isinstance(raw, str):  # a forged form: one of the choices is a string
        raise BadInput("Choose one score from 1 (very unhappy) to 5 (very happy), or leave it out.", "score")
    if raw is None or not raw.strip():
        return None
    word = raw.strip()
    value = whole_number(word, 1, 5) if is_number(word) else None
    if value is None:
        shown = word if len(word) <= 20 else word[:19] + "…"
        raise BadInput(f"`score={shown}` isn't a score: give a whole number from 1 (very unhappy) to 5 (very happy), "
                       "or leave it out.", "score")
    return value


def draft_feedback(text: str | None, *, score: object = None, from_user: object = None,
                   complaint: bool = False) -> FeedbackDraft:
    text = (text or "").strip()
    if not has_visible(text):
        raise BadInput("Say what the client said: `/feedback score=4 from=@dana Happy with the new design`.", "text")
    if (length := slack_length(text)) > TEXT_MAX:
        raise BadInput(f"That feedback is {length:,} characters long as Slack counts them; keep it to {TEXT_MAX:,} "
                       "(the gist, and where the rest can be read), and nothing was saved.", "text")
    user = from_user if isinstance(from_user, str) else None
    if from_user is not None and (user is None or user_id_of(f"<@{user}>") != user):
        # A form's person picker gives a plain user id; anything else (markup, an overlong value) is forged.
        raise BadInput("Choose the client person it came from, or leave it out.", "from")
    return FeedbackDraft(text, parse_score(score), user, complaint)


def check_can_log(place: Place) -> None:
    """The team records feedback it heard (clients write `@Liaison feedback: …` instead)."""
    actor = place.actor
    if actor.is_client:
        raise NotAllowed("Clients tell the team how it is going with `@Liaison feedback: …` in their shared channel; "
                         "`/feedback` is for the delivery team.")
    if actor.role not in INTERNAL_ROLES:
        raise NotAllowed("Only the project's lead and team can record client feedback.")


def check_from(place: Place, user_id: str | None, in_channels: Callable[[Sequence[str], str], bool]) -> None:
    """`from=` names a client person, never someone on the team (a lead or team member, or someone in one of the
    project's internal channels, which may ask Slack: call it before the transaction)."""
    if user_id is None:
        return
    role = next((m.role for m in place.card.members if m.user_id == user_id), None)
    internal = [c.channel_id for c in place.card.channels_for("internal")]
    if user_id == place.actor.user_id or role in INTERNAL_ROLES or (
            role is None and internal and in_channels(internal, user_id)):
        raise BadInput(f"<@{user_id}> is on the team; `from=` names the client person who said it.", "from")


def _attributed_to(place: Place, draft: FeedbackDraft) -> str:
    """The client person it came from: `from=`, or the project's one client person if it has exactly one."""
    roles = {m.user_id: m.role for m in place.card.members}
    if draft.from_user is None:
        clients = [m.user_id for m in place.card.members if m.role in CLIENT_ROLES]
        if len(clients) == 1:
            return clients[0]
        many = f"`{place.key}` has {len(clients)} people on the client's side" if clients else \
            f"`{place.key}` has no one on the client's side yet"
        raise BadInput(f"Who said it? Add `from=@person` (the client person it came from): {many}, so I can't tell.",
                       "from")
    user = draft.from_user
    if user == place.actor.user_id or roles.get(user) in INTERNAL_ROLES:
        raise BadInput(f"<@{user}> is on the team; `from=` names the client person who said it.", "from")
    return user


# -- storing ---------------------------------------------------------------------------------------------------------
def record(session: Session, place: Place, draft: FeedbackDraft, now: datetime, *, source: str,
           source_key: str | None = None) -> FeedbackEntry:
    """Store it (and open its follow-up when it raises an alert). Raises Duplicate for a message or event stored
    before, so the caller's transaction is rolled back and nothing is said twice."""
    assert source in SOURCES
    actor = place.actor
    if source == "mention":
        if not actor.is_client or not place.is_client_channel:
            raise NotAllowed("`@Liaison feedback: …` is how the client tells the team, in their shared channel. To "
                             "record what a client told you, use `/feedback from=@person <what they said>`.")
        from_user, draft = actor.user_id, FeedbackDraft(draft.text, None, None, False)
    else:
        check_can_log(place)
        from_user = _attributed_to(place, draft)
    values = dict(project_id=place.project_id, from_user=from_user, score=draft.score, complaint=draft.complaint,
                  text=draft.text, source=source, source_key=source_key, logged_by=actor.user_id, created_at=now)
    feedback_id = queries.insert_or_ignore(session, Feedback, values, returning=Feedback.id)
    if feedback_id is None:
        raise Duplicate(source_key or "")
    audit.record(session, actor, "feedback.log", f"feedback:{feedback_id}", now, place.project_id, source=source,
                 score=draft.score, complaint=draft.complaint, from_user=from_user)
    follow_up_id = owner = None
    if draft.raises_alert:
        follow_up_id = followups.open_for(session, place.project_id, "feedback", feedback_id, now)
        if follow_up_id is not None:
            owner = session.scalar(select(FollowUp.owner_id).where(FollowUp.id == follow_up_id))
            audit.record(session, actor, "followup.open", f"followup:{follow_up_id}", now, place.project_id,
                         source="feedback", record=feedback_id, owner=owner or None, score=draft.score,
                         complaint=draft.complaint)
    return FeedbackEntry(feedback_id, place.project_id, place.key, from_user, draft.score, draft.complaint,
                         draft.text, source, actor.user_id, now, follow_up_id, owner, follow_up_id is not None)


# -- reading ---------------------------------------------------------------------------------------------------------
def listing(session: Session, place: Place, since: datetime | None, most: int = LIST_MOST) -> list[FeedbackEntry]:
    """The project's feedback, newest first (one more than `most`, to say there is more): the team's only."""
    followups.require_team_here(place, "list feedback")
    query = select(Feedback, FollowUp.id, FollowUp.owner_id, FollowUp.resolved_at).outerjoin(
        FollowUp, (FollowUp.source == "feedback") & (FollowUp.record_id == Feedback.id)
        & (FollowUp.project_id == Feedback.project_id)).where(Feedback.project_id == place.project_id)
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    rows = session.execute(query.order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(most + 1))
    return [FeedbackEntry(f.id, f.project_id, place.key, f.from_user, f.score, f.complaint, f.text, f.source,
                          f.logged_by, f.created_at, fu_id, owner, fu_id is not None and resolved is None)
            for f, fu_id, owner, resolved in rows]
