"""The risk register: each project's risks (`R-<n>`), scored likelihood × impact, owned, reviewed, closed or
escalated into a change request.

Risks are the team's: every function here starts with `check_internal`, which refuses a client and anyone in the
project's client channel with a sentence that says nothing about the risks. Every write is audited (`risk.add`,
`risk.update` with what changed before and after, `risk.close`, `risk.escalate`): the audit log is a risk's history.
Writes read the risk `FOR UPDATE` (PostgreSQL; SQLite's writers are serialised anyway) and move it with a conditional
UPDATE, so of two people closing or escalating at once exactly one does it and the other is told who was first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.actors import CLIENT_ROLES, INTERNAL_ROLES, require_role
from bot.commands import ID_MAX, has_visible, whole_number
from bot.errors import BadInput, NotAllowed, NotFound
from bot.markup import slack_length
from bot.services import audit, dates
from bot.services.places import Place
from storage.models import LEVELS, RESPONSES, AuditEntry, ChangeRequest, Person, Project, Risk

DESCRIPTION_MAX = 3000
NOTE_MAX = 1000
SCORES = {"low": 1, "medium": 2, "high": 3}
SCORE_MOST = 9
STATES = ("open", "closed", "all")
# Said to a client, and to anyone in the client's channel: nothing about any risk, not even whether there are some.
REFUSAL = "Risks are the team's: use `/risk` in the project's internal channel."
_REF = re.compile(r"^(?:r-?|#)?(?P<number>\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class RiskDraft:
    description: str
    likelihood: str
    impact: str
    response: str | None
    owner_id: str | None
    review: date | None


@dataclass(frozen=True)
class RiskCard:
    id: int
    number: int
    project_id: int
    project_key: str
    timezone: str
    description: str
    likelihood: str
    impact: str
    response: str | None
    owner_id: str | None
    review_date: date | None
    state: str
    created_by: str
    created_at: datetime
    changed_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    close_note: str | None
    change_id: int | None
    change_number: int | None  # CR-<n> it was escalated to
    change_state: str | None

    @property
    def ref(self) -> str:
        return f"R-{self.number}"

    @property
    def score(self) -> int:
        return score(self.likelihood, self.impact)

    @property
    def change_ref(self) -> str | None:
        return f"CR-{self.change_number}" if self.change_number is not None else None


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor_id: str
    action: str  # add, update, close, escalate
    detail: dict[str, Any]


def score(likelihood: str, impact: str) -> int:
    """1 to 9: low = 1, medium = 2, high = 3, multiplied."""
    return SCORES[likelihood] * SCORES[impact]


def check_internal(place: Place, doing: str = "use the risk register") -> None:
    """Risks are the team's: refused to a client and in the client's channel, whatever was asked."""
    if place.shows == "client":
        raise NotAllowed(REFUSAL)
    require_role(place.actor, INTERNAL_ROLES, doing)


# -- checks before anything is stored --------------------------------------------------------------------------------
def level(value: str | None, name: str, *, required: bool) -> str | None:
    if value is None or not value.strip():
        if required:
            raise BadInput(f"Give the {name}: `{name}=low`, `{name}=medium` or `{name}=high`.", name)
        return None
    word = value.strip().lower()
    if word not in LEVELS:
        raise BadInput(f"`{name}={_clipped(value)}` isn't a level. Use `low`, `medium` or `high`.", name)
    return word


def response(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    word = value.strip().lower()
    if word not in RESPONSES:
        raise BadInput(f"`response={_clipped(value)}` isn't a response. Use `avoid`, `mitigate`, `transfer` or "
                       "`accept`.", "response")
    return word


def description(text: str | None, *, required: bool = True) -> str | None:
    text = (text or "").strip()
    if not has_visible(text):
        if required:
            raise BadInput("Describe the risk: `/risk add likelihood=medium impact=high The vendor may deliver the "
                           "API late`.", "description")
        return None
    if (length := slack_length(text)) > DESCRIPTION_MAX:
        raise BadInput(f"The description is {length:,} characters long as Slack counts them; keep it to "
                       f"{DESCRIPTION_MAX:,}.", "description")
    return text


def review(text: str | None, place: Place, now: datetime) -> date | None:
    """A review date as people type it (`2026-12-15`, `next friday`), in the project's timezone; not in the past."""
    if text is None or not text.strip():
        return None
    return dates.parse_day(text, place.timezone, now, field="review")


def draft(place: Place, now: datetime, *, text: str | None, likelihood: str | None, impact: str | None,
          response_: str | None, owner_id: str | None, review_: str | None) -> RiskDraft:
    return RiskDraft(
        description=description(text) or "",
        likelihood=level(likelihood, "likelihood", required=True) or "",
        impact=level(impact, "impact", required=True) or "",
        response=response(response_), owner_id=owner_id, review=review(review_, place, now))


def check_owner(session: Session, place: Place, owner_id: str | None, is_external: bool = False) -> None:
    """A risk's owner is someone of the team: never a person of the client's side (Slack's word, or their role)."""
    if owner_id is None:
        return
    role = next((m.role for m in place.card.members if m.user_id == owner_id), None)
    known = session.scalar(select(Person.is_external).where(Person.team_id == place.actor.team_id,
                                                            Person.user_id == owner_id))
    if is_external or known or role in CLIENT_ROLES:
        raise BadInput(f"<@{owner_id}> is on the client's side; a risk's owner must be someone of the team.",
                       "owner")


def check_note(note: str | None) -> str:
    note = (note or "").strip()
    if not has_visible(note):
        raise BadInput("Say why it is closed, so that the team can read it later: `/risk close R-3 The vendor "
                       "delivered the API`.", "note")
    if (length := slack_length(note)) > NOTE_MAX:
        raise BadInput(f"The note is {length:,} characters long as Slack counts them; keep it to {NOTE_MAX:,}.",
                       "note")
    return note


def _clipped(text: str) -> str:
    return text if len(text) <= 20 else text[:19] + "…"


# -- writing ---------------------------------------------------------------------------------------------------------
def add(session: Session, place: Place, draft_: RiskDraft, now: datetime, *, owner_is_external: bool = False,
        ) -> RiskCard:
    """A new risk, `R-<n>` in its project. `owner_is_external`: Slack says the owner is of another organisation."""
    check_internal(place, "add risks")
    check_owner(session, place, draft_.owner_id, owner_is_external)
    # Taking the next number locks the project's row (PostgreSQL), so two risks added at once get two numbers.
    number = session.execute(update(Project).where(Project.id == place.project_id)
                             .values(risks_filed=Project.risks_filed + 1)
                             .returning(Project.risks_filed)).scalar_one()
    row = Risk(project_id=place.project_id, number=number, description=draft_.description,
               likelihood=draft_.likelihood, impact=draft_.impact, response=draft_.response,
               owner_id=draft_.owner_id, review_date=draft_.review, state="open", created_by=place.actor.user_id,
               created_at=now, changed_at=now)
    session.add(row)
    session.flush()
    audit.record(session, place.actor, "risk.add", _target(row.id), now, place.project_id, number=number,
                 description=draft_.description, likelihood=draft_.likelihood, impact=draft_.impact,
                 score=score(draft_.likelihood, draft_.impact), response=draft_.response, owner=draft_.owner_id,
                 review=_iso(draft_.review))
    return card(session, row)


def changes_of(place: Place, now: datetime, *, text: str | None, likelihood: str | None, impact: str | None,
               response_: str | None, owner_id: str | None, review_: str | None) -> dict[str, Any]:
    """What `/risk update` was asked to change, checked: {field: new value} (only the fields given)."""
    asked: dict[str, Any] = {}
    if (new := description(text, required=False)) is not None:
        asked["description"] = new
    if (new := level(likelihood, "likelihood", required=False)) is not None:
        asked["likelihood"] = new
    if (new := level(impact, "impact", required=False)) is not None:
        asked["impact"] = new
    if (new := response(response_)) is not None:
        asked["response"] = new
    if owner_id is not None:
        asked["owner"] = owner_id
    if (day := review(review_, place, now)) is not None:
        asked["review"] = day
    return asked


_COLUMNS = {"description": "description", "likelihood": "likelihood", "impact": "impact", "response": "response",
            "owner": "owner_id", "review": "review_date"}


def change(session: Session, place: Place, ref: str, asked: dict[str, Any], now: datetime, *,
           owner_is_external: bool = False) -> tuple[RiskCard, dict[str, Any], dict[str, Any]]:
    """`/risk update`: the risk with the fields asked for changed; (card, before, after) of what really changed."""
    check_internal(place, "update risks")
    if not asked:
        raise BadInput("Say what changes: `/risk update R-3 likelihood=high review=\"next friday\"`, or a new "
                       "description after the options.")
    row = find(session, place, ref, lock=True)
    if row.state != "open":
        raise BadInput(f"R-{row.number} is closed, so it can't be updated. If it is back, add it again with "
                       "`/risk add`.")
    check_owner(session, place, asked.get("owner"), owner_is_external)
    before, after = {}, {}
    for name, value in asked.items():
        was = getattr(row, _COLUMNS[name])
        if was != value:
            before[name], after[name] = _stored(was), _stored(value)
    if not after:
        raise BadInput(f"Nothing changed: R-{row.number} already says that.")
    values = {_COLUMNS[name]: asked[name] for name in after}
    scores = [score(row.likelihood, row.impact)]  # read before the UPDATE, which changes `row` in the session
    moved = session.execute(update(Risk).where(Risk.id == row.id, Risk.state == "open")
                            .values(changed_at=now, **values))
    if not moved.rowcount:
        raise BadInput(_overtaken(session, _get(session, row.id), place.timezone))
    fresh = _get(session, row.id)
    scores.append(score(fresh.likelihood, fresh.impact))
    audit.record(session, place.actor, "risk.update", _target(row.id), now, place.project_id, number=row.number,
                 before=before, after=after, score=scores)
    return card(session, fresh), before, after


def close(session: Session, place: Place, ref: str, note: str | None, now: datetime) -> RiskCard:
    check_internal(place, "close risks")
    row = find(session, place, ref, lock=True)
    if row.state == "closed":
        raise BadInput(_overtaken(session, row, place.timezone))
    note = check_note(note)
    moved = session.execute(update(Risk).where(Risk.id == row.id, Risk.state == "open").values(
        state="closed", closed_at=now, closed_by=place.actor.user_id, close_note=note, changed_at=now))
    if not moved.rowcount:
        raise BadInput(_overtaken(session, _get(session, row.id), place.timezone))
    audit.record(session, place.actor, "risk.close", _target(row.id), now, place.project_id, number=row.number,
                 note=note, **{"from": "open", "to": "closed"})
    return card(session, _get(session, row.id))


def check_escalation(session: Session, place: Place, ref: str) -> Risk:
    """The risk may be escalated: open and not escalated before."""
    check_internal(place, "escalate risks")
    row = find(session, place, ref)
    if row.change_request_id is not None:
        raise BadInput(_escalated_before(session, row, place.timezone))
    if row.state != "open":
        raise BadInput(f"R-{row.number} is closed, so it can't be escalated. If it became an issue after all, file "
                       "the change request with `/change <title>`.")
    return row


def source_key(risk_id: int) -> str:
    """The change request filed for a risk carries this key: one per risk, however often (or at once) escalated."""
    return f"risk:{risk_id}"


def filed_for(session: Session, place: Place, risk_id: int) -> tuple[int, int, str] | None:
    """(id, number, title) of the change request filed for this risk, if there is one."""
    found = session.execute(select(ChangeRequest.id, ChangeRequest.number, ChangeRequest.title).where(
        ChangeRequest.project_id == place.project_id, ChangeRequest.source_key == source_key(risk_id))).first()
    return None if found is None else (found[0], found[1], found[2])


def link(session: Session, place: Place, risk_id: int, change_id: int, change_number: int, title: str,
         now: datetime, *, filed_now: bool) -> RiskCard:
    """The risk now points at the change request filed for it (which names the risk by its source key). A request
    filed for it before (the same escalation twice at once, or one cut short) is linked now, or refused as done."""
    row = session.scalar(select(Risk).where(Risk.id == risk_id, Risk.project_id == place.project_id)
                         .with_for_update().execution_options(populate_existing=True))
    if row is None:
        raise NotFound("That risk no longer exists.")
    if row.change_request_id is not None:
        if row.change_request_id == change_id and filed_now:
            return card(session, row)
        raise BadInput(_escalated_before(session, row, place.timezone))
    session.execute(update(Risk).where(Risk.id == risk_id, Risk.change_request_id.is_(None))
                    .values(change_request_id=change_id, changed_at=now))
    audit.record(session, place.actor, "risk.escalate", _target(risk_id), now, place.project_id, number=row.number,
                 change=f"CR-{change_number}", change_id=change_id, title=title)
    return card(session, _get(session, risk_id))


def _escalated_before(session: Session, row: Risk, tz: str) -> str:
    number = session.scalar(select(ChangeRequest.number).where(ChangeRequest.id == row.change_request_id))
    last = session.execute(select(AuditEntry.actor_id, AuditEntry.at).where(
        AuditEntry.target == _target(row.id), AuditEntry.action == "risk.escalate")
        .order_by(AuditEntry.id.desc()).limit(1)).first()
    by = f" by <@{last.actor_id}> on {last.at.astimezone(ZoneInfo(tz)):%a %d %b}" if last else ""
    return (f"R-{row.number} was already escalated to CR-{number}{by}, so nothing was filed. `/change show "
            f"CR-{number}` shows where it stands.")


def _overtaken(session: Session, row: Risk, tz: str) -> str:
    if row.state == "closed":
        by = f" by <@{row.closed_by}>" if row.closed_by else ""
        on = f" on {row.closed_at.astimezone(ZoneInfo(tz)):%a %d %b}" if row.closed_at else ""
        return f"R-{row.number} was already closed{by}{on}, so nothing was changed."
    return f"R-{row.number} changed meanwhile, so nothing was changed; `/risk show R-{row.number}` shows it now."


def _stored(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _target(risk_id: int) -> str:
    return f"risk:{risk_id}"


# -- finding and reading ---------------------------------------------------------------------------------------------
def find(session: Session, place: Place, ref: str, lock: bool = False) -> Risk:
    """`R-3`, `r3`, `#3` or `3`, in the place's project."""
    word = (ref or "").strip().split(None, 1)[0] if (ref or "").strip() else ""
    match = _REF.match(word)
    if match is None:
        raise BadInput("Which risk? Give its number, e.g. `R-3` (`/risk list` shows them).", "id")
    number = whole_number(match["number"], 1, ID_MAX)
    query = select(Risk).where(Risk.project_id == place.project_id, Risk.number == number)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = None if number is None else session.scalar(query)
    if row is None:
        raise NotFound(f"`{place.key}` has no risk {_clipped(word.upper())}. `/risk list` shows them.")
    return row


def _get(session: Session, risk_id: int) -> Risk:
    return session.get_one(Risk, risk_id, populate_existing=True)


def listing(session: Session, place: Place, state: str | None = None) -> list[RiskCard]:
    """Open risks by score, highest first (then the nearest review, then the oldest); `closed` (latest first) or
    `all` (the open ones, then the closed ones)."""
    check_internal(place, "see risks")
    wanted = (state or "open").strip().lower()
    if wanted not in STATES:
        raise BadInput(f"`state={_clipped(state or '')}` isn't a state of risks. Use `open`, `closed` or `all`.",
                       "state")
    query = select(Risk).where(Risk.project_id == place.project_id)
    if wanted != "all":
        query = query.where(Risk.state == wanted)
    rows = list(session.scalars(query))
    cards = _cards(session, rows)
    open_ = sorted((c for c in cards if c.state == "open"),
                   key=lambda c: (-c.score, c.review_date or date.max, c.number))
    closed = sorted((c for c in cards if c.state == "closed"),
                    key=lambda c: (c.closed_at or c.changed_at, c.number), reverse=True)
    return [*open_, *closed]


def show(session: Session, place: Place, ref: str) -> tuple[RiskCard, list[HistoryEntry]]:
    check_internal(place, "see risks")
    row = find(session, place, ref)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.target == _target(row.id),
                                                       AuditEntry.action.like("risk.%"))
                              .order_by(AuditEntry.at, AuditEntry.id))
    history = [HistoryEntry(e.at, e.actor_id, e.action.removeprefix("risk."), e.detail or {}) for e in entries]
    return card(session, row), history


def card(session: Session, row: Risk) -> RiskCard:
    return _cards(session, [row])[0]


def _cards(session: Session, rows: list[Risk]) -> list[RiskCard]:
    """Cards for risks of one project (a constant number of queries)."""
    if not rows:
        return []
    project = session.execute(select(Project.key, Project.timezone).where(Project.id == rows[0].project_id)).one()
    wanted = {r.change_request_id for r in rows if r.change_request_id is not None}
    requests = {i: (n, s) for i, n, s in session.execute(
        select(ChangeRequest.id, ChangeRequest.number, ChangeRequest.state)
        .where(ChangeRequest.id.in_(wanted)))} if wanted else {}
    found = []
    for r in rows:
        number, state = requests.get(r.change_request_id, (None, None)) if r.change_request_id else (None, None)
        found.append(RiskCard(
            id=r.id, number=r.number, project_id=r.project_id, project_key=project.key, timezone=project.timezone,
            description=r.description, likelihood=r.likelihood, impact=r.impact, response=r.response,
            owner_id=r.owner_id, review_date=r.review_date, state=r.state, created_by=r.created_by,
            created_at=r.created_at, changed_at=r.changed_at, closed_at=r.closed_at, closed_by=r.closed_by,
            close_note=r.close_note, change_id=r.change_request_id, change_number=number, change_state=state))
    return found
