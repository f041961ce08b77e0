"""/project: create, link, status, role, list, help; and the create-project modal."""
from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot import slack
from bot.actors import INTERNAL_ROLES, Actor, require_role, require_team_member
from bot.commands import CommandSpec, Parsed, Sub, check_typed, user_id_of
from bot.errors import BadInput, SlackTrouble
from bot.render import modals
from bot.render import projects as render
from bot.render.errors import with_post_problem
from bot.runtime import Runtime
from bot.services import cards as card_store
from bot.services import changes, dates, projects, schedule
from bot.services.overview import overview
from bot.render.overview import overview_blocks
from bot.services.digests import compose
from bot.render import digests as render_digests
from handlers import cards, surveys
from handlers.cards import CardKind, Shown
from handlers.context import person, place_for
from handlers.interactive import Form, Submitted
from handlers.slash import register_command

PROJECT = CommandSpec(
    name="/project",
    summary="set up client projects, their channels and people",
    subs=(
        Sub(
            "create",
            "Create a project and make this channel its internal channel. Without a name it opens a form.",
            usage='[client="Client Co"] [due=<date>] [budget="48000 EUR"] [tz=Area/City] [key=short-key] <name>',
            options={
                "client": "the client organisation",
                "due": "delivery date: 2027-03-31, \"next friday\", \"in 3 months\"",
                "budget": "the agreed budget, an amount and its ISO currency code: \"48000 EUR\"",
                "tz": "IANA timezone for dates and digests (default from LIAISON_TIMEZONE)",
                "key": "short key used to name the project (made from the name if left out)",
            },
            example='create client="Acme Co" due=2026-12-15 budget="48000 EUR" tz=Europe/London Acme website',
        ),
        Sub(
            "link",
            "Link this channel to a project. A channel shared with the client (Slack Connect) becomes its client "
            "channel; any other channel becomes another internal channel.",
            usage="<key>",
            example="link acme-website",
        ),
        Sub("status", "Show the project of this channel (or the one named).", example="status project=acme-website"),
        Sub(
            "role",
            "Give someone a role in the project, or remove it.",
            usage="@person lead|team|client_approver|client|remove",
            example="role @casey client_approver",
        ),
        Sub("list", "List the projects you can see.", example="list"),
        Sub(
            "schedule",
            "Set when digests go out, in the project's timezone (default weekly Monday 09:00).",
            usage='weekly mon 09:00 | daily 17:30 | cron="0 9 * * 1-5" | off',
            options={"cron": "a five-field cron expression such as \"0 9 * * 1-5\""},
            example="schedule weekly fri 16:00",
        ),
        Sub(
            "digest",
            "Post the digest now (internal one here and in internal channels, client one in the client's), "
            "or `preview` it: only you see it.",
            usage="[preview]",
            example="digest preview",
        ),
        Sub(
            "edit",
            "Lead: correct the project's name, client, due date, budget, timezone or key.",
            usage='[name="New name"] [client="Client Co"] [due=<date>] [budget="48000 EUR"] [tz=Area/City] '
                  '[key=short-key]',
            options={"name": "the project's name", "client": "the client organisation",
                     "due": "delivery date: 2027-03-31, \"next friday\"",
                     "budget": "the agreed budget: \"48000 EUR\"", "tz": "IANA timezone", "key": "short key"},
            example='edit due=2027-04-30 budget="52000 EUR"',
        ),
        Sub("unlink", "Lead: unlink this channel from its project (a project keeps at least one internal channel).",
            example="unlink"),
        Sub("survey", "Lead: when the client is asked how satisfied they are (1-5, in their channel, open 7 days); "
            "`now` sends one at once. Without a word: when the next one goes.",
            usage="[monthly|after-milestone|off|now]", example="survey monthly"),
        Sub("help", "Show this help.", example="help"),
    ),
)

COMMANDS = [PROJECT]


def register(app: App, rt: Runtime) -> None:
    register_command(app, rt, PROJECT, {
        "create": _create, "link": _link, "status": _status, "role": _role, "list": _list,
        "schedule": _schedule, "digest": _digest, "edit": _edit, "unlink": _unlink, "survey": _survey,
    })


def _create_submitted(rt: Runtime, form: Submitted) -> None:
    """The create-project form: no project to check rights on yet, only that a team member fills it in."""
    channel_id, values = modals.read_project_create(form.view)
    for field_, typed in values.items():
        check_typed(typed or "", "text", field_)
    require_team_member(form.actor, "create projects")
    now = rt.clock.now()
    draft = projects.draft_project(
        values["name"] or "", client=values["client"], due=values["due"], tz=values["tz"], key=values["key"],
        default_tz=rt.settings.timezone, now=now, budget=values["budget"],
    )
    channel = slack.channel_facts(rt.quick, channel_id)
    with rt.db.transaction() as session:
        card = projects.create_project(session, form.actor, draft, channel, now)
        cards.post(rt, session, "project", card.id, channel_id, "internal")


def _in_channel(body: dict[str, Any]) -> str:
    channel_id = body.get("channel_id", "")
    if channel_id.startswith("D"):
        raise BadInput("Run this in a channel, not in a direct message.")
    return channel_id


def _create(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    channel_id, response_url = _in_channel(body), body.get("response_url")
    require_team_member(actor, "create projects")
    if not parsed.text and not parsed.options:
        rt.outbox.answer(response_url, lambda: _open_create_form(rt, body["trigger_id"], channel_id))
        return {}
    typed = {"name": parsed.text, **{k: parsed.option(k) for k in ("client", "due", "budget", "tz", "key")}}
    # `request` names this request, so that its job, if run again after a runner died, knows its own work.
    args = {"actor": asdict(actor), "channel_id": channel_id, "typed": typed, "default_tz": rt.settings.timezone,
            "now": rt.clock.now().isoformat(), "request": uuid.uuid4().hex}
    _draft(args)  # a typo is answered at once, in the ack; the job checks again with the same inputs
    rt.jobs.enqueue("project.create", args, response_url)
    return {}


def _draft(args: dict[str, Any]) -> projects.ProjectDraft:
    typed = args["typed"]
    return projects.draft_project(
        typed["name"], client=typed["client"], due=typed["due"], tz=typed["tz"], key=typed["key"],
        default_tz=args["default_tz"], now=datetime.fromisoformat(args["now"]), budget=typed.get("budget"),
    )


def create_job(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    actor, channel_id, draft = Actor(**args["actor"]), args["channel_id"], _draft(args)
    channel = slack.channel_facts(rt.client, channel_id)
    with rt.db.transaction() as session:
        card = projects.create_project(session, actor, draft, channel, datetime.fromisoformat(args["now"]),
                                       request=args.get("request"))
    problem = cards.post_now(rt, PROJECT_CARD, card.id, channel_id, "internal")
    return with_post_problem(render.created_reply(card), problem, channel_id)


def _open_create_form(rt: Runtime, trigger_id: str, channel_id: str) -> None:
    try:
        rt.quick.views_open(trigger_id=trigger_id, view=modals.project_create_modal(channel_id, rt.settings.timezone))
    except SlackApiError as e:
        raise SlackTrouble("Slack didn't open the form. Type it instead: `/project create <name> ...`.") from e


def _link(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    channel_id = _in_channel(body)
    require_team_member(actor, "link channels")
    key = parsed.option("project") or (parsed.text.split()[0] if parsed.text else "")
    if not key:
        raise BadInput("Which project? Name it: `/project link <key>` (`/project list` shows the keys).")
    rt.jobs.enqueue("project.link", {"actor": asdict(actor), "channel_id": channel_id, "key": key,
                                     "request": uuid.uuid4().hex}, body.get("response_url"))
    return {}


def link_job(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    actor, channel_id = Actor(**args["actor"]), args["channel_id"]
    channel = slack.channel_facts(rt.client, channel_id)
    place = place_for(rt, actor, None, args["key"])
    with rt.db.transaction() as session:
        card = projects.link_channel(session, place, channel, rt.clock.now(), request=args.get("request"))
        cards.refresh(rt, session, "project", place.project_id)
    audience = "client" if channel.is_ext_shared else "internal"
    problem = slack.post(rt.client, channel_id, render.linked_post(card, audience))
    return with_post_problem(render.linked_reply(card, audience), problem, channel_id)


def _status(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    with rt.db.read() as session:
        standing = overview(session, place)
        totals = changes.totals(session, [place.project_id]).get(place.project_id)
    today = dates.local_day(rt.clock.now(), place.timezone)
    return render.status_reply(place.card, place.shows, overview_blocks(standing, today), totals)


def _role(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    words = parsed.text.split()
    target = user_id_of(words[0]) if words else None
    if target is None:
        raise BadInput("Mention the person and the role: `/project role @casey client_approver`.")
    if len(words) < 2:
        raise BadInput("Which role? One of `lead`, `team`, `client_approver`, `client`, or `remove`.", "role")
    if len(words) > 2:
        raise BadInput(f"`/project role` takes one person and one role, so nothing was changed. Give each person "
                       f"their own: `/project role {words[0]} {words[1]}`, then the next.")
    role = words[1].lower()

    rt.jobs.enqueue("project.role", {"actor": asdict(actor), "target": target, "role": role,
                                     "channel_id": body.get("channel_id"), "project": parsed.option("project"),
                                     "request": uuid.uuid4().hex}, body.get("response_url"))
    return {}


def role_job(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    actor, target, role = Actor(**args["actor"]), args["target"], args["role"]
    now = rt.clock.now()
    target_actor = person(rt, actor.team_id, target, rt.client)
    place = place_for(rt, actor, args["channel_id"], args["project"])
    with rt.db.transaction() as session:
        card = projects.set_role(session, place, target, target_actor.is_external, role, now,
                                 request=args.get("request"))
        cards.refresh(rt, session, "project", place.project_id)
    return render.role_reply(card, target, role)


def _list(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    with rt.db.read() as session:
        cards = projects.list_for(session, actor, body.get("channel_id"), rt.members.includes)
    return render.list_reply(cards, "client" if actor.is_client else "internal")


def _schedule(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    if not parsed.text and parsed.option("cron") is None:
        place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
        with rt.db.read() as session:
            current = projects.schedule_of(session, place.project_id)
        return _schedule_reply(place.key, current, place.timezone, rt.clock.now(), changed=False)
    normalised = schedule.parse(parsed.text, parsed.option("cron"))
    now = rt.clock.now()
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    schedule.check(normalised, place.timezone, now, rt.settings.min_digest_minutes)  # too often, or never
    with rt.db.transaction() as session:
        projects.set_schedule(session, place, normalised, now)
    return _schedule_reply(place.key, normalised, place.timezone, now, changed=True)


def _schedule_reply(key: str, normalised: str, tz: str, now: datetime, changed: bool) -> dict[str, Any]:
    upcoming = schedule.next_occurrence(normalised, tz, now)
    return render.schedule_reply(key, schedule.describe(normalised), upcoming, tz, changed)


def _digest(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    word = parsed.text.strip().lower()
    if word not in ("", "preview", "now"):
        raise BadInput(f"`/project digest {parsed.text}`: say `/project digest` to post it or "
                       "`/project digest preview` to see it yourself.")
    now = rt.clock.now()
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    with rt.db.read() as session:
        if word == "preview":
            digest = compose(session, [place.project_id], now, (place.shows,))[(place.project_id, place.shows)]
            return {"response_type": "ephemeral", **render_digests.digest_message(digest)}
    require_role(place.actor, INTERNAL_ROLES, "post digests")
    rt.jobs.enqueue("digest.now", {"project_id": place.project_id, "now": now.isoformat()}, body.get("response_url"))
    return {}


def _edit(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    if parsed.text:
        raise BadInput(f"`/project edit` takes only options, such as `name=\"{parsed.text}\"`: "
                       "name, client, due, budget, tz or key.")
    wanted = {k: v for k, v in parsed.options.items() if k in projects.EDITABLE}
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    with rt.db.transaction() as session:
        card, changed = projects.edit_project(session, place, wanted, rt.settings.timezone, rt.clock.now())
        if changed:
            cards.refresh(rt, session, "project", place.project_id)
    return render.edited_reply(card, changed)


def _unlink(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    channel_id = _in_channel(body)
    place = place_for(rt, actor, channel_id, None)
    with rt.db.transaction() as session:
        channel = projects.unlink_channel(session, place, channel_id, rt.clock.now())
        card_store.forget_in(session, place.project_id, channel_id)  # no longer kept up to date there
        cards.refresh(rt, session, "project", place.project_id)
        rt.jobs.enqueue("slack.post", {"channel_id": channel_id, "payload": render.unlinked_post(place.name)},
                        session=session)
    return render.unlinked_reply(place.key, channel)


def _survey(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """`/project survey [monthly|after-milestone|off|now]`: CSAT surveys (handlers.surveys does the work)."""
    return surveys.command(rt, parsed, actor, body)


def show_card(session: Session, project_id: int, audience: str) -> Shown | None:
    """The project's card, shown in its internal channels only (it names the team and the channels)."""
    card = projects.shown(session, project_id)
    if card is None or audience != "internal":
        return None
    totals = changes.totals(session, [project_id]).get(project_id)
    return Shown(project_id, render.created_post(card, totals))


PROJECT_CARD = CardKind("project", show_card)
CARDS = [PROJECT_CARD]
JOBS = {"project.create": create_job, "project.link": link_job, "project.role": role_job}
FORMS = [Form(modals.ProjectCreateIds.CALLBACK, _create_submitted, on_project=False)]
