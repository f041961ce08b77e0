"""Change requests: filed by anyone on the project, assessed by the team, decided by the client, then done.

`submitted -> assessed -> approved | rejected -> in_progress -> done`, and `withdrawn` from any state before done.
Every move is one conditional UPDATE (`WHERE state = <the state it was read in>`), so of two people acting at once
exactly one wins and the other is told who was first. Every move is audited (`change.<verb>`, from, to, note): the
audit log is the request's history. An approval covers exactly the assessment that was shown (`version`);
re-assessing sends the request back to `assessed` and moves back what the approval had moved.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.actors import INTERNAL_ROLES, require_role
from bot.commands import ID_MAX, has_visible, is_number, whole_number
from bot.errors import BadInput, NotAllowed, NotFound
from bot.markup import slack_length
from bot.services import audit, money
from bot.services.dates import add_working_days, subtract_working_days
from bot.services.places import Place
from storage import queries
from storage.models import PRIORITIES, AuditEntry, ChangeRequest, Member, Milestone, Project, Risk

TITLE_MAX = 200
DESCRIPTION_MAX = 3000
NOTES_MAX = 3000
REASON_MAX = 500
DAYS_MOST = 2610  # ten years of working days: more is a typo
# The states whose assessment counts in the project's totals.
APPROVED = ("approved", "in_progress", "done")
OPEN = ("submitted", "assessed", "approved", "in_progress")
# What may happen next, said when something else was asked for.
NEXT = {
    "submitted": "the team can assess it or withdraw it, and the client can reject it",
    "assessed": "the client can approve or reject it, and the team can re-assess or withdraw it",
    "approved": "the team can start it, re-assess it (the client then decides again) or withdraw it",
    "rejected": "nothing more happens to it; file a new request if the change is wanted after all",
    "in_progress": "the team can mark it done or withdraw it",
    "done": "nothing more happens to it",
    "withdrawn": "nothing more happens to it",
}
STATE_NAMES = {"in_progress": "in progress"}
_REF = re.compile(r"^(?:cr-?|#)?(?P<number>\d+)$", re.I)


class Duplicate(Exception):
    """This message or event was filed before (Slack delivered it again): nothing to do, nothing to say."""


@dataclass(frozen=True)
class ChangeDraft:
    title: str
    description: str
    requested_by: str | None  # None: the person filing it
    priority: str


@dataclass(frozen=True)
class Assessment:
    days: int
    cost_cents: int
    currency: str
    notes: str
    internal: bool | None  # the notes stay with the team; None (not said): as the notes were before
    milestone_ids: tuple[int, ...]


@dataclass(frozen=True)
class MilestoneRef:
    id: int
    name: str
    due: date
    visibility: str


@dataclass(frozen=True)
class Moved:
    milestone_id: int
    name: str
    before: date
    after: date
    visibility: str


@dataclass(frozen=True)
class Totals:
    """A project's baseline and what approved change requests add to it."""

    budget_cents: int | None
    budget_currency: str | None
    due: date | None
    approved_cents: tuple[tuple[str, int], ...] = ()  # (currency, cents), the budget's currency first
    approved_days: int = 0
    approved_count: int = 0

    @property
    def projected_due(self) -> date | None:
        return add_working_days(self.due, self.approved_days) if self.due and self.approved_days else self.due


@dataclass(frozen=True)
class ChangeCard:
    id: int
    number: int
    project_id: int
    project_key: str
    project_name: str
    timezone: str
    title: str
    description: str
    requested_by: str
    priority: str
    state: str
    source: str
    permalink: str | None
    filed_by: str
    created_at: datetime
    changed_at: datetime
    version: int
    days: int | None
    cost_cents: int | None
    currency: str | None
    notes: str | None  # None on a client's view when the team kept them internal
    notes_internal: bool
    milestones: tuple[MilestoneRef, ...]
    assessed_by: str | None
    assessed_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    override: bool
    moved: tuple[Moved, ...]
    approvers: tuple[str, ...]  # the project's client approvers
    totals: Totals
    audience: str = "internal"  # whose view this is: "client" holds only client-visible fields
    from_risk: int | None = None  # R-<n> of the risk it was escalated from (risks are the team's)

    @property
    def ref(self) -> str:
        return f"CR-{self.number}"

    @property
    def assessed(self) -> bool:
        return self.version > 0

    def for_client(self) -> ChangeCard:
        """What the client may see: no internal notes, no internal milestones, no link to a message that may sit
        in an internal channel."""
        return replace(
            self, audience="client", notes=None if self.notes_internal else self.notes, permalink=None, from_risk=None,
            milestones=tuple(m for m in self.milestones if m.visibility == "client"),
            moved=tuple(m for m in self.moved if m.visibility == "client"),
        )


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor_id: str
    action: str  # file, assess, approve, reject, start, done, withdraw
    before: str | None
    after: str
    note: str | None
    override: bool = False


# -- checks before anything is stored --------------------------------------------------------------------------------
def state_name(state: str) -> str:
    return STATE_NAMES.get(state, state)


def draft_change(title: str, *, description: str | None = None, requested_by: str | None = None,
                 priority: str | None = None) -> ChangeDraft:
    title = " ".join((title or "").split())
    if not has_visible(title):
        raise BadInput("Say what should change: `/change Add a newsletter signup to the home page`.", "title")
    if (length := max(slack_length(title), len(title))) > TITLE_MAX:
        raise BadInput(f"The title is {length:,} characters long as Slack counts them; keep it to {TITLE_MAX} and "
                       "put the rest in the description.", "title")
    description = (description or "").strip()
    if slack_length(description) > DESCRIPTION_MAX:
        raise BadInput(f"The description is {slack_length(description):,} characters long as Slack counts them; "
                       f"keep it to {DESCRIPTION_MAX:,}.", "description")
    level = (priority or "normal").strip().lower()
    if level not in PRIORITIES:
        raise BadInput(f"`priority={priority}` isn't a priority. Use `low`, `normal`, `high` or `urgent`.", "priority")
    return ChangeDraft(title, description, requested_by, level)


def title_of(text: str) -> tuple[str, str]:
    """A message filed as it was written: (a title from its first words that fits, the whole message as the
    description when the title is not all of it)."""
    whole = (text or "").strip()
    title = " ".join(whole.split("\n", 1)[0].split())
    if max(slack_length(title), len(title)) > TITLE_MAX:
        while max(slack_length(title), len(title)) > TITLE_MAX - 1:
            title = title[: max(len(title) - 10, 0)].rstrip()
        title += "…"
    return title, ("" if title == " ".join(whole.split()) else whole)


def draft_assessment(*, days: str | None, cost: str | None, currency: str | None, notes: str | None,
                     internal: bool | None, milestone_ids: tuple[int, ...] = ()) -> Assessment:
    """What the team says a change costs: days (working days) and cost are both needed, even when zero."""
    if days is None or not days.strip():
        raise BadInput("Give the schedule impact in working days, e.g. `days=5` (`days=0` for none).", "days")
    raw = days.strip()
    if raw.startswith("-"):
        raise BadInput(f"`days={_clipped(raw)}` is negative; give the working days it adds (0 for none).", "days")
    value = whole_number(raw, 0, DAYS_MOST)
    if value is None:
        if is_number(raw):
            raise BadInput(f"`days={_clipped(raw)}` is more than ten years of working days; that can't be right.",
                           "days")
        raise BadInput(f"`days={_clipped(raw)}` must be a whole number of working days, e.g. `days=5`.", "days")
    if cost is None or not cost.strip():
        raise BadInput("Give the budget impact, e.g. `cost=3000 currency=EUR` (`cost=0` for none).", "cost")
    cents = money.amount(cost, "cost")
    code = money.currency(currency, "currency")
    notes = (notes or "").strip()
    if slack_length(notes) > NOTES_MAX:
        raise BadInput(f"The notes are {slack_length(notes):,} characters long as Slack counts them; keep them to "
                       f"{NOTES_MAX:,}.", "notes")
    return Assessment(value, cents, code, notes, internal, tuple(dict.fromkeys(milestone_ids)))


def check_reason(reason: str | None, doing: str, field: str = "reason") -> str:
    reason = " ".join((reason or "").split())
    if not has_visible(reason):
        raise BadInput(f"Say why, so that everyone can see it later: {doing}.", field)
    if slack_length(reason) > REASON_MAX:
        raise BadInput(f"Keep the reason to {REASON_MAX} characters.", field)
    return reason


def _clipped(text: str) -> str:
    return text if len(text) <= 20 else text[:19] + "…"


# -- filing ----------------------------------------------------------------------------------------------------------
def file(session: Session, place: Place, draft: ChangeDraft, now: datetime, *, source: str,
         source_key: str | None = None, permalink: str | None = None) -> ChangeCard:
    """Anyone on the project files one (a client in their shared channel). Raises Duplicate for a message or event
    filed before, so the caller's transaction (and the number it took) is rolled back."""
    actor = place.actor
    if source_key is not None and _by_source(session, place.project_id, source_key) is not None:
        raise Duplicate(source_key)
    # Taking the next number locks the project's row (PostgreSQL), so two filings at once get two numbers, and a
    # second delivery of the same message waits here and then finds the first.
    number = session.execute(update(Project).where(Project.id == place.project_id)
                             .values(changes_filed=Project.changes_filed + 1)
                             .returning(Project.changes_filed)).scalar_one()
    if source_key is not None and _by_source(session, place.project_id, source_key) is not None:
        raise Duplicate(source_key)
    requester = draft.requested_by or actor.user_id
    values = dict(
        project_id=place.project_id, number=number, title=draft.title, description=draft.description,
        requested_by=requester, priority=draft.priority, state="submitted", source=source, source_key=source_key,
        permalink=permalink, filed_by=actor.user_id, created_at=now, changed_at=now, version=0, notes_internal=False,
        milestone_ids=[], override=False, moved=[],
    )
    change_id = queries.insert_or_ignore(session, ChangeRequest, values, returning=ChangeRequest.id)
    if change_id is None:
        raise Duplicate(source_key or "")
    audit.record(session, actor, "change.file", f"change:{change_id}", now, place.project_id, to="submitted",
                 number=number, title=draft.title, requested_by=requester, priority=draft.priority, source=source)
    return _card(session, _get(session, change_id))


def keep_permalink(session: Session, change_id: int, permalink: str | None) -> bool:
    """The link to the message it was filed from, once; whether it was kept."""
    if not permalink:
        return False
    kept = session.execute(update(ChangeRequest).where(ChangeRequest.id == change_id,
                                                       ChangeRequest.permalink.is_(None))
                           .values(permalink=permalink))
    return bool(kept.rowcount)


def _by_source(session: Session, project_id: int, source_key: str) -> int | None:
    return session.scalar(select(ChangeRequest.id).where(ChangeRequest.project_id == project_id,
                                                         ChangeRequest.source_key == source_key))


# -- finding ---------------------------------------------------------------------------------------------------------
def find(session: Session, place: Place, ref: str) -> ChangeRequest:
    """`CR-7`, `cr7`, `#7` or `7`, in the place's project."""
    word = (ref or "").strip().split(None, 1)[0] if (ref or "").strip() else ""
    match = _REF.match(word)
    if match is None:
        raise BadInput("Which change request? Give its number, e.g. `CR-7` (`/change list` shows them).", "id")
    number = whole_number(match["number"], 1, ID_MAX)
    row = None if number is None else session.scalar(select(ChangeRequest).where(
        ChangeRequest.project_id == place.project_id, ChangeRequest.number == number))
    if row is None:
        raise NotFound(f"`{place.key}` has no change request {_clipped(word.upper())}. `/change list` shows them.")
    return row


def split_ref(text: str) -> tuple[str, str]:
    """(`CR-7`, the rest) from `CR-7 the rest`."""
    words = (text or "").strip().split(None, 1)
    return (words[0] if words else ""), (words[1].strip() if len(words) > 1 else "")


def target(session: Session, value: str, team_id: str) -> tuple[str, int, int | None]:
    """The change request a button names (`<id>` or `<id>:<version>`), its project's key and the version the card
    showed, if it is one of this workspace's; else NotFound."""
    head, _, version = (value or "").partition(":")
    number, shown_version = whole_number(head, 1, ID_MAX), whole_number(version, 0, ID_MAX)
    key = None if version and shown_version is None else queries.project_key_of(session, ChangeRequest, number,
                                                                                   team_id)
    if key is None or number is None:
        raise NotFound("That button names a change request I can't find, so nothing was changed.")
    return key, number, shown_version


def ref_of(session: Session, place: Place, change_id: Any) -> str:
    """`CR-<n>` of a request named by id (a button's or a form's claim), if it is of the place's project."""
    number = session.scalar(select(ChangeRequest.number).where(
        ChangeRequest.id == change_id, ChangeRequest.project_id == place.project_id)) if isinstance(
        change_id, int) and 0 < change_id <= ID_MAX else None
    if number is None:
        raise NotFound("That change request isn't one of this project's, so nothing was changed.")
    return f"CR-{number}"


def _get(session: Session, change_id: int) -> ChangeRequest:
    return session.get_one(ChangeRequest, change_id, populate_existing=True)


# -- moving it on ----------------------------------------------------------------------------------------------------
def _move(session: Session, place: Place, row: ChangeRequest, allowed: tuple[str, ...], to: str, verb: str,
          now: datetime, values: dict[str, Any], note: str | None = None, **detail: Any) -> str:
    """Move `row` to `to` if it is (still) in one of `allowed`; refuses an illegal move with what is possible, and a
    lost race with who was first. Returns the state it moved from."""
    before, seen_version = row.state, row.version
    if before not in allowed:
        raise BadInput(illegal(row, verb))
    moved = session.execute(update(ChangeRequest)
                            .where(ChangeRequest.id == row.id, ChangeRequest.state == before,
                                   ChangeRequest.version == seen_version)
                            .values(state=to, changed_at=now, **values))
    if not moved.rowcount:
        fresh = _get(session, row.id)
        raise BadInput(_overtaken(session, fresh, place.timezone))
    audit.record(session, place.actor, f"change.{verb}", f"change:{row.id}", now, place.project_id,
                 **{"from": before, "to": to, "note": note, **detail})
    return before


def illegal(row: ChangeRequest, verb: str) -> str:
    words = {"assess": "assessed", "approve": "approved", "reject": "rejected", "start": "started",
             "done": "marked done", "withdraw": "withdrawn"}
    return (f"CR-{row.number} is *{state_name(row.state)}*, so it can't be {words.get(verb, verb)}; "
            f"from here {NEXT[row.state]}.")


def _overtaken(session: Session, row: ChangeRequest, tz: str) -> str:
    last = session.execute(select(AuditEntry.actor_id, AuditEntry.at)
                           .where(AuditEntry.target == f"change:{row.id}", AuditEntry.action.like("change.%"))
                           .order_by(AuditEntry.id.desc()).limit(1)).first()
    by = f" by <@{last.actor_id}> at {last.at.astimezone(ZoneInfo(tz)):%H:%M on %d %b}" if last else ""
    return (f"CR-{row.number} was already {_past(row.state)}{by}, so nothing was changed; "
            f"from here {NEXT[row.state]}.")


def _past(state: str) -> str:
    return {"assessed": "(re-)assessed", "in_progress": "started"}.get(state, state)


def assess(session: Session, place: Place, ref: str, assessment: Assessment, now: datetime,
           ) -> tuple[ChangeCard, tuple[Moved, ...]]:
    """The team says what it costs. Re-assessing an approved request voids the approval (its milestone moves are
    undone) and asks the client again. Returns the card and what was moved back."""
    require_role(place.actor, INTERNAL_ROLES, "assess change requests")
    row = find(session, place, ref)
    _check_assessment(session, place, assessment)
    # Notes kept from the client stay so unless the team says otherwise: a re-assessment never publishes them.
    internal = row.notes_internal if assessment.internal is None else assessment.internal
    moved_back = _undo_moves(session, place, row, now) if row.state == "approved" else ()
    _move(session, place, row, ("submitted", "assessed", "approved"), "assessed", "assess", now, dict(
        version=row.version + 1, days=assessment.days, cost_cents=assessment.cost_cents,
        currency=assessment.currency, notes=assessment.notes or None, notes_internal=internal,
        milestone_ids=list(assessment.milestone_ids), assessed_by=place.actor.user_id, assessed_at=now,
        decided_by=None, decided_at=None, decision_note=None, override=False, approved_version=None, moved=[],
    ), note=assessment.notes or None, version=row.version + 1, days=assessment.days,
        cost=money.shown(assessment.cost_cents, assessment.currency), internal=internal,
        milestones=list(assessment.milestone_ids))
    return _card(session, _get(session, row.id)), moved_back


def _check_assessment(session: Session, place: Place, assessment: Assessment) -> None:
    budget_currency = session.scalar(select(Project.budget_currency).where(Project.id == place.project_id))
    if budget_currency and assessment.currency != budget_currency and assessment.cost_cents:
        raise BadInput(f"The budget of `{place.key}` is in {budget_currency}; give the cost in {budget_currency} "
                       "too, so that it adds up.", "currency")
    if not assessment.milestone_ids:
        return
    found = dict(session.execute(select(Milestone.id, Milestone.done_at).where(
        Milestone.project_id == place.project_id, Milestone.id.in_(assessment.milestone_ids))).all())
    missing = [i for i in assessment.milestone_ids if i not in found]
    if missing:
        raise BadInput(f"`{place.key}` has no milestone #{missing[0]}; `/milestone list` shows them.", "milestones")
    done = [i for i in assessment.milestone_ids if found[i] is not None]
    if done:
        raise BadInput(f"Milestone #{done[0]} is already done, so a change can't move it.", "milestones")


def open_milestones(session: Session, place: Place) -> list[MilestoneRef]:
    """The project's milestones not done yet: those an assessment may move."""
    return [MilestoneRef(m.id, m.name, m.due_date, m.visibility) for m in session.scalars(
        select(Milestone).where(Milestone.project_id == place.project_id, Milestone.done_at.is_(None))
        .order_by(Milestone.due_date, Milestone.id))]


def decide(session: Session, place: Place, ref: str, approve: bool, now: datetime, *, reason: str | None = None,
           override: bool = False, version: int | None = None) -> tuple[ChangeCard, tuple[Moved, ...]]:
    """The client's approvers approve or reject (a rejection says why); the lead may decide on their behalf only
    with `override` and a reason. Approval applies the schedule impact to the milestones the assessment named."""
    verb = "approve" if approve else "reject"
    row = find(session, place, ref)
    check_decision(session, place, row, verb, version, override)
    if override:
        reason = check_reason(reason, f"`/change {verb} CR-{row.number} override=yes <why the client isn't "
                                      "deciding>`")
    elif not approve:
        reason = check_reason(reason, "the team reads it to know what to change")
    allowed = ("assessed",) if approve else ("submitted", "assessed")
    values: dict[str, Any] = dict(decided_by=place.actor.user_id, decided_at=now, decision_note=reason,
                                  override=override)
    if approve:
        values["approved_version"] = row.version
    _move(session, place, row, allowed, "approved" if approve else "rejected", verb, now, values, note=reason,
          override=override, version=row.version)
    moved: tuple[Moved, ...] = ()
    if approve:
        moved = _apply_moves(session, place, _get(session, row.id), now)
    return _card(session, _get(session, row.id)), moved


def check_decision(session: Session, place: Place, row: ChangeRequest, verb: str, version: int | None,
                   override: bool = False) -> None:
    """Whether this person may approve or reject `row` now (before a form asking why is even opened)."""
    _check_decider(session, place, row, verb, override)
    if verb == "approve" and row.state == "submitted":
        raise BadInput(f"CR-{row.number} has no assessment yet, so it can't be approved: the team must first say its "
                       "schedule impact (working days) and budget impact (cost and currency) with "
                       f"`/change assess CR-{row.number} days=… cost=… currency=…`.")
    if version is not None and row.state == "assessed" and version != row.version:
        raise BadInput(f"The assessment of CR-{row.number} changed after that card was shown, so nothing was "
                       "decided. Look at its card again: it shows the assessment to decide on.")
    if row.state not in (("assessed",) if verb == "approve" else ("submitted", "assessed")):
        if row.decided_by and row.state in ("approved", "rejected", "in_progress", "done"):
            raise BadInput(_overtaken(session, row, place.timezone))
        raise BadInput(illegal(row, verb))


def _check_decider(session: Session, place: Place, row: ChangeRequest, verb: str, override: bool) -> None:
    actor = place.actor
    if actor.role == "client_approver":
        if override:
            raise BadInput("`override=` is for the lead deciding on the client's behalf; as a client approver, "
                           "just decide.", "override")
        return
    approvers = _approvers(session, place.project_id)
    named = " or ".join(f"<@{u}>" for u in approvers)
    if actor.is_client:
        who = f"({named})" if approvers else "(none named yet: the project lead names them)"
        raise NotAllowed(f"Only the client's approvers {who} can {verb} change requests.")
    if override:
        if actor.role != "lead":
            raise NotAllowed(f"Only the project lead can {verb} on the client's behalf.")
        return
    ask = f"Ask {named} to decide" if approvers else (
        "Name an approver first with `/project role @person client_approver`")
    raise NotAllowed(f"The client decides on change requests, not the team. {ask}, or, as the lead, decide on their "
                     f"behalf: `/change {verb} CR-{row.number} override=yes <why>`.")


def _apply_moves(session: Session, place: Place, row: ChangeRequest, now: datetime) -> tuple[Moved, ...]:
    if not row.days or not row.milestone_ids:
        return ()
    moved = []
    for m in session.scalars(select(Milestone).where(Milestone.id.in_(row.milestone_ids),
                                                     Milestone.project_id == place.project_id,
                                                     Milestone.done_at.is_(None)).order_by(Milestone.due_date)):
        before, after = m.due_date, add_working_days(m.due_date, row.days)
        m.due_date = after
        moved.append(Moved(m.id, m.name, before, after, m.visibility))
        audit.record(session, place.actor, "milestone.move", f"milestone:{m.id}", now, place.project_id,
                     before=before.isoformat(), after=after.isoformat(), change=f"CR-{row.number}")
    session.flush()
    session.execute(update(ChangeRequest).where(ChangeRequest.id == row.id).values(
        moved=[[m.milestone_id, m.before.isoformat(), m.after.isoformat()] for m in moved]))
    return tuple(moved)


def _undo_moves(session: Session, place: Place, row: ChangeRequest, now: datetime) -> tuple[Moved, ...]:
    """Take back the working days the approval added to each milestone it moved (still open), wherever the
    milestone is now: another approved request's days on the same milestone stay."""
    back = []
    for milestone_id, _before, _after in row.moved or []:
        m = session.get(Milestone, milestone_id)
        if m is None or m.done_at is not None or not row.days:
            continue
        was = m.due_date
        m.due_date = subtract_working_days(was, row.days)
        back.append(Moved(m.id, m.name, was, m.due_date, m.visibility))
        audit.record(session, place.actor, "milestone.move", f"milestone:{m.id}", now, place.project_id,
                     before=was.isoformat(), after=m.due_date.isoformat(), change=f"CR-{row.number}", undone=True)
    session.flush()
    return tuple(back)


def start(session: Session, place: Place, ref: str, now: datetime) -> ChangeCard:
    require_role(place.actor, INTERNAL_ROLES, "start change requests")
    row = find(session, place, ref)
    _move(session, place, row, ("approved",), "in_progress", "start", now, {})
    return _card(session, _get(session, row.id))


def finish(session: Session, place: Place, ref: str, now: datetime) -> ChangeCard:
    require_role(place.actor, INTERNAL_ROLES, "mark change requests done")
    row = find(session, place, ref)
    _move(session, place, row, ("in_progress",), "done", "done", now, {})
    return _card(session, _get(session, row.id))


def withdraw(session: Session, place: Place, ref: str, now: datetime, reason: str | None = None,
             ) -> tuple[ChangeCard, tuple[Moved, ...]]:
    """Withdrawn from any open state; what its approval moved is moved back."""
    require_role(place.actor, INTERNAL_ROLES, "withdraw change requests")
    row = find(session, place, ref)
    if row.state not in OPEN:
        raise BadInput(illegal(row, "withdraw"))
    moved_back = _undo_moves(session, place, row, now) if row.state in ("approved", "in_progress") else ()
    _move(session, place, row, OPEN, "withdrawn", "withdraw", now, {"moved": []},
          note=(reason or "").strip() or None)
    return _card(session, _get(session, row.id)), moved_back


# -- reading ---------------------------------------------------------------------------------------------------------
def listing(session: Session, place: Place, state: str | None = None) -> list[ChangeCard]:
    query = select(ChangeRequest).where(ChangeRequest.project_id == place.project_id)
    if state is not None:
        wanted = state.strip().lower().replace(" ", "_").replace("-", "_")
        if wanted == "open":
            query = query.where(ChangeRequest.state.in_(OPEN))
        elif wanted in NEXT:
            query = query.where(ChangeRequest.state == wanted)
        else:
            raise BadInput(f"`state={_clipped(state)}` isn't a state. Use `open`, "
                           + ", ".join(f"`{s}`" for s in NEXT) + ".", "state")
    rows = list(session.scalars(query.order_by(ChangeRequest.number)))
    cards = _cards(session, rows)
    return [c.for_client() for c in cards] if place.shows == "client" else cards


def show(session: Session, place: Place, ref: str) -> tuple[ChangeCard, list[HistoryEntry]]:
    row = find(session, place, ref)
    card = _card(session, row)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.target == f"change:{row.id}",
                                                       AuditEntry.action.like("change.%"))
                              .order_by(AuditEntry.at, AuditEntry.id))
    client = place.shows == "client"
    history = []
    for e in entries:
        detail = e.detail or {}
        note = detail.get("note")
        if client and ((e.action == "change.assess" and detail.get("internal")) or e.action == "change.withdraw"):
            note = None  # the team's own words: internal notes, why it withdrew
        history.append(HistoryEntry(e.at, e.actor_id, e.action.removeprefix("change."), detail.get("from"),
                                    detail.get("to", ""), note, bool(detail.get("override"))))
    return (card.for_client() if client else card), history


def shown(session: Session, change_id: int, audience: str) -> ChangeCard | None:
    """A change request as its card in a channel of this audience shows it now; None when it is gone."""
    row = session.get(ChangeRequest, change_id, populate_existing=True)
    if row is None:
        return None
    card = _card(session, row)
    return card.for_client() if audience == "client" else card


def totals(session: Session, project_ids: list[int]) -> dict[int, Totals]:
    """Each project's baseline and approved impact: two queries whatever the number of projects."""
    if not project_ids:
        return {}
    heads = session.execute(select(Project.id, Project.budget_cents, Project.budget_currency, Project.due_date)
                            .where(Project.id.in_(project_ids))).all()
    sums: dict[int, dict[str, int]] = defaultdict(dict)
    days: dict[int, int] = defaultdict(int)
    count: dict[int, int] = defaultdict(int)
    for project_id, cents, currency, n_days in session.execute(
            select(ChangeRequest.project_id, ChangeRequest.cost_cents, ChangeRequest.currency, ChangeRequest.days)
            .where(ChangeRequest.project_id.in_(project_ids), ChangeRequest.state.in_(APPROVED))):
        count[project_id] += 1
        days[project_id] += n_days or 0
        if cents and currency:
            sums[project_id][currency] = sums[project_id].get(currency, 0) + cents
    found = {}
    for project_id, budget, currency, due in heads:
        by_currency = sorted(sums[project_id].items(), key=lambda kv: (kv[0] != currency, kv[0]))
        found[project_id] = Totals(budget, currency, due, tuple(by_currency), days[project_id], count[project_id])
    return found


def approvers(session: Session, project_id: int) -> tuple[str, ...]:
    return _approvers(session, project_id)


def _approvers(session: Session, project_id: int) -> tuple[str, ...]:
    return tuple(session.scalars(select(Member.user_id).where(Member.project_id == project_id,
                                                              Member.role == "client_approver")
                                 .order_by(Member.id)))


def _card(session: Session, row: ChangeRequest) -> ChangeCard:
    return _cards(session, [row])[0]


def _cards(session: Session, rows: list[ChangeRequest]) -> list[ChangeCard]:
    """Cards for rows of one project (a constant number of queries)."""
    if not rows:
        return []
    project_id = rows[0].project_id
    project = session.execute(select(Project.key, Project.name, Project.timezone)
                              .where(Project.id == project_id)).one()
    wanted = {i for r in rows for i in (r.milestone_ids or [])} | {m[0] for r in rows for m in (r.moved or [])}
    milestones = {m.id: m for m in session.execute(
        select(Milestone.id, Milestone.name, Milestone.due_date, Milestone.visibility)
        .where(Milestone.id.in_(wanted)))} if wanted else {}
    people = _approvers(session, project_id)
    total = totals(session, [project_id])[project_id]
    risk_ids = {int(r.source_key.removeprefix("risk:")) for r in rows
                if r.source == "risk" and (r.source_key or "").removeprefix("risk:").isdigit()}
    risks = dict(session.execute(select(Risk.id, Risk.number).where(Risk.id.in_(risk_ids))).all()) if risk_ids else {}
    cards = []
    for r in rows:
        refs = tuple(MilestoneRef(m.id, m.name, m.due_date, m.visibility)
                     for i in (r.milestone_ids or []) if (m := milestones.get(i)) is not None)
        moved = tuple(Moved(i, milestones[i].name, date.fromisoformat(b), date.fromisoformat(a),
                            milestones[i].visibility) for i, b, a in (r.moved or []) if i in milestones)
        cards.append(ChangeCard(
            id=r.id, number=r.number, project_id=r.project_id, project_key=project.key, project_name=project.name,
            timezone=project.timezone, title=r.title, description=r.description, requested_by=r.requested_by,
            priority=r.priority, state=r.state, source=r.source, permalink=r.permalink, filed_by=r.filed_by,
            created_at=r.created_at, changed_at=r.changed_at, version=r.version, days=r.days,
            cost_cents=r.cost_cents, currency=r.currency, notes=r.notes, notes_internal=r.notes_internal,
            milestones=refs, assessed_by=r.assessed_by, assessed_at=r.assessed_at, decided_by=r.decided_by,
            decided_at=r.decided_at, decision_note=r.decision_note, override=r.override, moved=moved,
            approvers=people, totals=total,
            from_risk=risks.get(int(r.source_key.removeprefix("risk:"))) if r.source == "risk" and (
                r.source_key or "").removeprefix("risk:").isdigit() else None,
        ))
    return cards
