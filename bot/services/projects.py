"""Projects, their channels and the people in them: the rules, independent of Slack."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.actors import CLIENT_ROLES, INTERNAL_ROLES, ROLE_NAMES, Actor, check_role_target, require_role, require_team_member
from bot.commands import has_visible
from bot.errors import BadInput, NotFound
from bot.services import audit, dates, money
from bot.services.people import ensure_workspace
from storage import queries
from storage.models import DEFAULT_SCHEDULE, ROLES, AuditEntry, ChangeRequest, Member, Project, ProjectChannel

NAME_MAX = 80
CLIENT_MAX = 80
KEY_MAX = 24
TZ_MAX = 64  # the projects.timezone column
_KEY = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$")


@dataclass(frozen=True)
class ProjectDraft:
    name: str
    key: str
    client: str | None
    due: date | None
    timezone: str
    budget_cents: int | None = None  # the agreed budget, in hundredths of budget_currency
    budget_currency: str | None = None


@dataclass(frozen=True)
class ChannelFacts:
    channel_id: str
    name: str
    is_ext_shared: bool
    is_private: bool = False
    is_archived: bool = False


@dataclass(frozen=True)
class ChannelCard:
    channel_id: str
    name: str
    audience: str
    is_archived: bool


@dataclass(frozen=True)
class MemberCard:
    user_id: str
    role: str


@dataclass(frozen=True)
class ProjectCard:
    key: str
    name: str
    client: str | None
    due: date | None
    timezone: str
    created_by: str
    channels: tuple[ChannelCard, ...]
    members: tuple[MemberCard, ...]
    id: int = 0
    budget_cents: int | None = None
    budget_currency: str | None = None

    def channels_for(self, audience: str) -> tuple[ChannelCard, ...]:
        return tuple(c for c in self.channels if c.audience == audience and not c.is_archived)


@dataclass(frozen=True)
class Binding:
    """The project a channel belongs to, as middleware sees it."""

    project_id: int
    key: str
    audience: str


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower())
    key = ""
    for word in words:
        candidate = f"{key}-{word}" if key else word
        if len(candidate) > KEY_MAX:
            break
        key = candidate
    return key or (words[0][:KEY_MAX] if words else "")


def draft_project(
    name: str,
    *,
    client: str | None,
    due: str | None,
    tz: str | None,
    key: str | None,
    default_tz: str,
    now: datetime,
    budget: str | None = None,
) -> ProjectDraft:
    """Check what the person typed (command or modal) before anything is stored."""
    name = " ".join((name or "").split())
    if not has_visible(name):
        raise BadInput("A project needs a name, e.g. `/project create client=\"Acme Co\" Acme website`.", "name")
    if len(name) > NAME_MAX:
        raise BadInput(f"The name is {len(name):,} characters long; keep it to {NAME_MAX}.", "name")
    client = " ".join(client.split()) if client else None
    if client is not None and not has_visible(client):
        raise BadInput("The client's name shows nothing; give it, e.g. `client=\"Acme Co\"`, or leave it out.",
                       "client")
    if client and len(client) > CLIENT_MAX:
        raise BadInput(f"The client name is {len(client):,} characters long; keep it to {CLIENT_MAX}.", "client")

    timezone = (tz or default_tz).strip()
    if len(timezone) > TZ_MAX:
        raise BadInput(f"That timezone is {len(timezone):,} characters long; IANA names such as `Europe/Paris` "
                       f"are at most {TZ_MAX}.", "tz")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name the file system can't even look up
        raise BadInput(f"`{timezone}` is not a timezone I know. Use an IANA name such as `Europe/Paris`.", "tz") from None

    # The same words milestones take (`next friday`, `in 3 weeks`), read in the project's own timezone.
    due_date = dates.parse_day(due, timezone, now, field="due") if due and due.strip() else None
    # `48000 EUR`: the baseline approved change requests add to.
    budget_cents, budget_currency = money.money(budget, "budget") if budget is not None else (None, None)

    if key:
        key = key.strip().lower()
        if not _KEY.match(key):
            raise BadInput(
                f"`{key}` can't be a project key: use up to {KEY_MAX} lowercase letters, digits and dashes.", "key"
            )
    else:
        key = slugify(name)
        if not key:
            raise BadInput("I can't make a short key from that name; give one with `key=`, e.g. `key=acme-web`.", "key")
    return ProjectDraft(name=name, key=key, client=client, due=due_date, timezone=timezone,
                        budget_cents=budget_cents, budget_currency=budget_currency)


def create_project(
    session: Session, actor: Actor, draft: ProjectDraft, channel: ChannelFacts, now: datetime,
    request: str | None = None,
) -> ProjectCard:
    """Store the project, bind the channel as internal, make the creator its lead, audit it.

    Writes first and explains a conflict only when there is one (the unique key or channel said no): the write
    is then a few plain inserts, so it holds SQLite's single write lock as briefly as possible.
    """
    require_team_member(actor, "create projects")
    if channel.is_ext_shared:
        raise BadInput(
            "This channel is shared with another organisation, so it can't be a project's internal channel. "
            f"Run `/project create` in an internal channel, then `/project link {draft.key}` here."
        )
    ensure_workspace(session, actor.team_id, now)
    try:
        with session.begin_nested():
            project_id = session.execute(insert(Project).values(
                team_id=actor.team_id, key=draft.key, name=draft.name, client_name=draft.client, due_date=draft.due,
                timezone=draft.timezone, created_by=actor.user_id, created_at=now,
                digest_schedule=DEFAULT_SCHEDULE, budget_cents=draft.budget_cents,
                budget_currency=draft.budget_currency,
            ).returning(Project.id)).scalar_one()
            session.execute(insert(ProjectChannel).values(project_id=project_id, **_binding_values(
                actor, channel, "internal", now)))
            session.execute(insert(Member).values(project_id=project_id, user_id=actor.user_id, role="lead",
                                                  added_by=actor.user_id, added_at=now))
    except IntegrityError:
        existing = queries.project_by_key(session, actor.team_id, draft.key)
        if existing is not None and _done_by_request(session, existing.id, "project.create", request):
            # This very request, done before: its job runs again after its lease ended. Answer as then.
            return card_of(existing)
        _check_channel_free(session, actor.team_id, channel)
        if queries.project_by_key(session, actor.team_id, draft.key):
            raise BadInput(
                f"A project with the key `{draft.key}` already exists. Choose another, e.g. `key={draft.key[:21]}-2`.",
                "key",
            ) from None
        raise BadInput(f"The key `{draft.key}` or this channel was just taken by another project; try again.") from None
    audit.record(
        session, actor, "project.create", f"project:{draft.key}", now, project_id,
        name=draft.name, client=draft.client, due=draft.due.isoformat() if draft.due else None,
        timezone=draft.timezone, budget=_budget_shown(draft.budget_cents, draft.budget_currency),
        channel=channel.channel_id, request=request,
    )
    return ProjectCard(
        key=draft.key, name=draft.name, client=draft.client, due=draft.due, timezone=draft.timezone,
        created_by=actor.user_id,
        channels=(ChannelCard(channel.channel_id, channel.name[:200], "internal", False),),
        members=(MemberCard(actor.user_id, "lead"),), id=project_id,
        budget_cents=draft.budget_cents, budget_currency=draft.budget_currency,
    )


def link_channel(session: Session, place: Any, channel: ChannelFacts, now: datetime,
                 request: str | None = None) -> ProjectCard:
    """Bind a channel to the project; Slack decides its audience: shared with another org means client."""
    actor, project_id = place.actor, place.project_id
    require_role(actor, INTERNAL_ROLES, "link channels")
    project = _load(session, project_id)
    if _done_by_request(session, project_id, "channel.link", request):
        return card_of(project)
    if channel.is_archived:
        raise BadInput("This channel is archived; unarchive it first.")
    existing = queries.binding_for_channel(session, actor.team_id, channel.channel_id)
    if existing and existing.project_id == project_id:
        raise BadInput(f"This channel is already linked to `{project.key}` as its {existing.audience} channel.")
    _check_channel_free(session, actor.team_id, channel)
    audience = "client" if channel.is_ext_shared else "internal"
    project.channels.append(_binding(actor, channel, audience, now))
    try:
        session.flush()
    except IntegrityError:
        raise BadInput("This channel was just linked to another project.") from None
    audit.record(session, actor, "channel.link", f"channel:{channel.channel_id}", now, project_id, audience=audience,
                 request=request)
    return card_of(project)


def set_role(
    session: Session,
    place: Any,
    target_user: str,
    target_is_external: bool,
    role: str,
    now: datetime,
    request: str | None = None,
) -> ProjectCard:
    actor, project_id = place.actor, place.project_id
    require_role(actor, ("lead",), "change roles")
    project = _load(session, project_id)
    if _done_by_request(session, project_id, "member.role", request):
        return card_of(project)
    if role not in (*ROLES, "remove"):
        names = ", ".join(f"`{r}`" for r in (*ROLES, "remove"))
        raise BadInput(f"`{role}` is not a role. Use one of {names}.", "role")
    if role != "remove":
        check_role_target(role, target_is_external)
    current = queries.member(session, project_id, target_user)
    leads = [m for m in project.members if m.role == "lead"]
    if current and current.role == "lead" and role != "lead" and len(leads) == 1:
        raise BadInput("That is the project's only lead. Make someone else lead first.")
    if role == "remove":
        if current is None:
            raise NotFound("That person has no role in this project.")
        project.members.remove(current)
    elif current is None:
        project.members.append(Member(user_id=target_user, role=role, added_by=actor.user_id, added_at=now))
    elif current.role == role:
        raise BadInput(f"<@{target_user}> is already the {ROLE_NAMES[role]} here.")
    else:
        current.role = role
    session.flush()
    audit.record(
        session, actor, "member.role", f"user:{target_user}", now, project_id,
        role=role, previous=current.role if current and role != "remove" else None, request=request,
    )
    return card_of(project)


# What `/project edit` may change: option -> the columns it sets.
EDITABLE = {"name": ("name",), "client": ("client_name",), "due": ("due_date",), "tz": ("timezone",),
            "key": ("key",), "budget": ("budget_cents", "budget_currency")}


def edit_project(session: Session, place: Any, changes: dict[str, str], default_tz: str,
                 now: datetime) -> tuple[ProjectCard, list[tuple[str, str, str]]]:
    """The lead corrects the project's name, client, due date, budget, timezone or key: checked as at creation,
    audited. Returns the card and what changed, (field, before, after)."""
    require_role(place.actor, ("lead",), "edit the project")
    if not changes:
        raise BadInput("Say what to change, e.g. `/project edit due=2027-04-30 client=\"Acme Group\"` "
                       "(name, client, due, budget, tz or key).")
    project = _load(session, place.project_id)
    draft = draft_project(changes.get("name") or project.name, client=changes.get("client"), due=changes.get("due"),
                          tz=changes.get("tz") or project.timezone, key=changes.get("key") or project.key,
                          default_tz=default_tz, now=now, budget=changes.get("budget"))
    new = {"name": (draft.name,), "client": (draft.client,), "due": (draft.due,), "tz": (draft.timezone,),
           "key": (draft.key,), "budget": (draft.budget_cents, draft.budget_currency)}
    changed = []
    for field_ in changes:
        columns = EDITABLE[field_]
        before, after = tuple(getattr(project, c) for c in columns), new[field_]
        if before != after:
            changed.append((field_, _shown(*before), _shown(*after)))
            for column, value in zip(columns, after):
                setattr(project, column, value)
    if not changed:
        raise BadInput(f"`{project.key}` already has those values; nothing changed.")
    if "budget" in changes and project.budget_currency:
        _check_budget_currency(session, project.id, project.budget_currency)
    taken = queries.project_by_key(session, project.team_id, project.key) if "key" in changes else None
    if taken is not None and taken.id != project.id:
        raise BadInput(f"Another project already has the key `{project.key}`. Choose another.", "key")
    session.flush()
    audit.record(session, place.actor, "project.edit", f"project:{project.key}", now, project.id,
                 changes={f: {"before": b, "after": a} for f, b, a in changed})
    return card_of(project), changed


def _check_budget_currency(session: Session, project_id: int, currency: str) -> None:
    """A budget in another currency than the costs already assessed would add up amounts that don't add up."""
    other = session.scalar(select(ChangeRequest.currency).where(
        ChangeRequest.project_id == project_id, ChangeRequest.currency != currency, ChangeRequest.cost_cents > 0,
        ChangeRequest.state.in_(("assessed", "approved", "in_progress", "done"))).limit(1))
    if other is not None:
        raise BadInput(f"Change requests of this project are assessed in {other}, so the budget stays in {other}: "
                       "a budget in another currency wouldn't add up with them.", "budget")


def _shown(value: Any, currency: str | None = None) -> str:
    """A field's value as the edit reply and the audit log show it; a budget as `48,000 EUR`."""
    if value is None:
        return "none"
    if currency is not None:
        return money.shown(value, currency)
    return value.isoformat() if isinstance(value, date) else str(value)


def _budget_shown(cents: int | None, currency: str | None) -> str | None:
    return money.shown(cents, currency) if cents is not None else None


def unlink_channel(session: Session, place: Any, channel_id: str, now: datetime) -> ChannelCard:
    """The lead unbinds this channel from its project; the last internal channel stays (the team needs one)."""
    require_role(place.actor, ("lead",), "unlink channels")
    project = _load(session, place.project_id)
    binding = next((c for c in project.channels if c.channel_id == channel_id), None)
    if binding is None:
        raise BadInput(f"This channel isn't linked to `{project.key}`; run `/project unlink` in the channel to "
                       "unlink.")
    internal = [c for c in project.channels if c.audience == "internal" and not c.is_archived and c is not binding]
    if binding.audience == "internal" and not internal:
        raise BadInput(f"This is the last internal channel of `{project.key}`, so it stays linked: the team needs "
                       f"one. Link another internal channel first (`/project link {project.key}` there).")
    card = ChannelCard(binding.channel_id, binding.name, binding.audience, binding.is_archived)
    audit.record(session, place.actor, "channel.unlink", f"channel:{channel_id}", now, project.id,
                 audience=binding.audience)
    project.channels.remove(binding)
    session.flush()
    return card


def resolve(session: Session, actor: Actor, channel_id: str | None, key: str | None) -> int:
    """The project a command is about: named with project=<key>, or else the channel's own."""
    bound = session.scalar(select(ProjectChannel.project_id).where(
        ProjectChannel.team_id == actor.team_id, ProjectChannel.channel_id == channel_id)) if channel_id else None
    if key:
        project_id = session.scalar(select(Project.id).where(Project.team_id == actor.team_id,
                                                             Project.key == key.strip().lower()))
        # People from another organisation only ever reach the project of the channel they are in.
        if project_id is None or (actor.is_client and bound != project_id):
            raise NotFound(f"There is no project `{key}`. `/project list` shows the projects you can see.")
        return project_id
    if bound is None:
        raise not_linked(actor)
    return bound


def not_linked(actor: Actor) -> NotFound:
    if actor.is_client:
        return NotFound("This channel isn't linked to a project yet. Ask the agency team to link it to yours.")
    return NotFound(
        "This channel isn't linked to a project. Name one with `project=<key>`, link this channel with "
        "`/project link <key>`, or start a project here with `/project create <name>`."
    )


def binding_of(session: Session, team_id: str, channel_id: str) -> Binding | None:
    row = queries.binding_for_channel(session, team_id, channel_id)
    if row is None or row.is_archived:
        return None
    return Binding(row.project_id, row.project.key, row.audience)


def list_for(session: Session, actor: Actor, channel_id: str | None,
             in_channels: Callable[[Sequence[str], str], bool]) -> list[ProjectCard]:
    """The projects this person may see: a client only their channel's; others those they are on the team of."""
    binding = binding_of(session, actor.team_id, channel_id) if channel_id else None
    if actor.is_external:
        if binding is None or binding.audience != "client":
            return []
        return [card_of(p) for p in queries.projects_with_people(session, actor.team_id, [binding.project_id])]
    seen = []
    for project in queries.projects_with_people(session, actor.team_id):
        role = next((m.role for m in project.members if m.user_id == actor.user_id), None)
        if role in CLIENT_ROLES:
            if binding is not None and binding.project_id == project.id and binding.audience == "client":
                seen.append(card_of(project))
            continue
        internal = [c.channel_id for c in project.channels if c.audience == "internal" and not c.is_archived]
        if role in INTERNAL_ROLES or (binding is not None and binding.project_id == project.id
                                      and binding.audience == "internal") or in_channels(internal, actor.user_id):
            seen.append(card_of(project))
    return seen


def card_of(project: Project) -> ProjectCard:
    return ProjectCard(
        key=project.key,
        name=project.name,
        client=project.client_name,
        due=project.due_date,
        timezone=project.timezone,
        created_by=project.created_by,
        channels=tuple(ChannelCard(c.channel_id, c.name, c.audience, c.is_archived) for c in project.channels),
        members=tuple(MemberCard(m.user_id, m.role) for m in project.members),
        id=project.id,
        budget_cents=project.budget_cents,
        budget_currency=project.budget_currency,
    )


# Every request's rights check reads these, so they are built once (with bound parameters) rather than per call,
# and from the tables' columns: plain Core statements, which a session runs without the ORM's per-statement work.
_CH, _PR, _ME = ProjectChannel.__table__.c, Project.__table__.c, Member.__table__.c
_CHANNEL = (_CH.channel_id, _CH.name, _CH.audience, _CH.is_archived)
_CHANNELS = select(*_CHANNEL).where(_CH.project_id == bindparam("project_id")).order_by(_CH.id)
_CHANNELS_HERE = (
    select(_CH.project_id, *_CHANNEL)
    .where(_CH.project_id == select(_CH.project_id).where(
        _CH.team_id == bindparam("team_id"), _CH.channel_id == bindparam("channel_id")).scalar_subquery())
    .order_by(_CH.id)
)
_WITH_PEOPLE = (
    select(_PR.key, _PR.name, _PR.client_name, _PR.due_date, _PR.timezone, _PR.created_by, _PR.budget_cents,
           _PR.budget_currency, _ME.user_id, _ME.role)
    .outerjoin(Member.__table__, _ME.project_id == _PR.id)
    .where(_PR.id == bindparam("project_id")).order_by(_ME.id)
)


def shown(session: Session, project_id: int) -> ProjectCard | None:
    """The project as its cards (and every rights check) read it now, in two plain queries; None when gone."""
    channels = session.execute(_CHANNELS, {"project_id": project_id}).all()
    return _with_people(session, project_id, channels)


def shown_here(session: Session, team_id: str, channel_id: str) -> ProjectCard | None:
    """The project this channel is linked to, read as `shown` does, in two plain queries; None if none is."""
    rows = session.execute(_CHANNELS_HERE, {"team_id": team_id, "channel_id": channel_id}).all()
    if not rows:
        return None
    return _with_people(session, rows[0].project_id, [tuple(r)[1:] for r in rows])


def _with_people(session: Session, project_id: int, channels: Sequence[Any]) -> ProjectCard | None:
    """The project's own row, its people beside it (one row per member; one row with none when it has none)."""
    rows = session.execute(_WITH_PEOPLE, {"project_id": project_id}).all()
    if not rows:
        return None
    row = rows[0]
    return ProjectCard(key=row.key, name=row.name, client=row.client_name, due=row.due_date, timezone=row.timezone,
                       created_by=row.created_by, channels=tuple(ChannelCard(*c) for c in channels),
                       members=tuple(MemberCard(r.user_id, r.role) for r in rows if r.user_id is not None),
                       id=project_id, budget_cents=row.budget_cents, budget_currency=row.budget_currency)


def _load(session: Session, project_id: int) -> Project:
    project = queries.project_with_people(session, project_id)
    if project is None:
        raise NotFound("That project no longer exists.")
    return project


def _done_by_request(session: Session, project_id: int, action: str, request: str | None) -> bool:
    """Whether `request` (the id an ack gave its job) already did `action` on the project, as its audit says: the
    job runs again after its lease ended, and answers as it did then."""
    if not request:
        return False
    details = session.scalars(select(AuditEntry.detail).where(
        AuditEntry.project_id == project_id, AuditEntry.action == action))
    return any(detail.get("request") == request for detail in details)


def _check_channel_free(session: Session, team_id: str, channel: ChannelFacts) -> None:
    taken = queries.binding_for_channel(session, team_id, channel.channel_id)
    if taken is not None:
        raise BadInput(
            f"This channel already belongs to project `{taken.project.key}`. "
            "A channel serves one project; use another channel or name the project with `project=<key>`."
        )


def _binding_values(actor: Actor, channel: ChannelFacts, audience: str, now: datetime) -> dict[str, Any]:
    return dict(team_id=actor.team_id, channel_id=channel.channel_id, name=channel.name[:200], audience=audience,
                is_archived=False, bound_by=actor.user_id, bound_at=now)


def _binding(actor: Actor, channel: ChannelFacts, audience: str, now: datetime) -> ProjectChannel:
    return ProjectChannel(**_binding_values(actor, channel, audience, now))


def schedule_of(session: Session, project_id: int) -> str:
    return session.scalar(select(Project.digest_schedule).where(Project.id == project_id)) or DEFAULT_SCHEDULE


def set_schedule(session: Session, place: Any, normalised: str, now: datetime) -> None:
    require_role(place.actor, INTERNAL_ROLES, "change the digest schedule")
    project = session.get_one(Project, place.project_id)
    before = project.digest_schedule
    project.digest_schedule, project.schedule_set_at = normalised, now
    audit.record(session, place.actor, "project.schedule", f"project:{project.key}", now, project.id,
                 before=before, after=normalised)
