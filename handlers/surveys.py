"""CSAT surveys: `/project survey` (declared in handlers.projects, done here), the survey's card in the client's
channel, its 1-5 buttons and the comment form that opens after a press.

A button's value names the survey and the score (`<survey id>:<score>`); the survey is looked up in the presser's
workspace, the presser checked against its project (`place_for`), and only the client's side may answer
(bot.services.surveys.check_answerer). The score is stored at the press, the comment when the form is sent.
"""
from __future__ import annotations

from typing import Any

from slack_bolt import App
from sqlalchemy.orm import Session

from bot.actors import Actor
from bot.commands import Parsed, check_typed
from bot.errors import BadInput
from bot.render import surveys as render
from bot.runtime import Runtime
from bot.services import surveys
from bot.services.places import Place
from handlers import cards
from handlers.cards import CardKind, Shown
from handlers.context import place_for
from handlers.interactive import Action, Form, Press, Submitted, Target, open_form, tell_sender

COMMANDS: list[Any] = []  # `/project survey` is a subcommand of /project (handlers.projects)


def register(app: App, rt: Runtime) -> None:
    pass  # its buttons, form and card kind are declared below and registered with every feature's


# -- `/project survey [monthly|after-milestone|off|now]` -------------------------------------------------------------
def command(rt: Runtime, parsed: Parsed, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    place = place_for(rt, actor, body.get("channel_id"), parsed.option("project"))
    word = parsed.text.strip()
    now = rt.clock.now()
    if not word:
        with rt.db.read() as session:
            return render.schedule_reply(place.key, surveys.schedule_view(session, place, now), changed=False)
    if word.lower() == "now":
        return _send_now(rt, place, body.get("response_url"))
    schedule = surveys.parse_schedule(word)
    with rt.db.transaction() as session:
        changed = surveys.set_schedule(session, place, schedule, now)
        view = surveys.schedule_view(session, place, now)
    return render.schedule_reply(place.key, view, changed)


def _send_now(rt: Runtime, place: Place, response_url: str | None) -> dict[str, Any]:
    """One survey at once, outside the schedule: its row and its cards (one in each live client channel) together."""
    with rt.db.transaction() as session:
        survey_id, channels = surveys.start_now(session, place, rt.clock.now())
        for channel_id in channels:
            cards.post(rt, session, "survey", survey_id, channel_id, "client", response_url)
    return render.sent_now_reply(channels)


# -- the buttons and the form ----------------------------------------------------------------------------------------
def _find(session: Session, value: str, actor: Actor) -> Target:
    key, survey_id, score = surveys.target(session, value, actor.team_id)
    return Target(key, survey_id, score=score)


def _press(rt: Runtime, press: Press) -> dict[str, Any]:
    score = press.target.score
    if score is None:
        raise BadInput("That button gives no score, so nothing was stored.")
    now = rt.clock.now()
    place = press.place
    with rt.db.transaction() as session:
        answered = surveys.answer(session, place, press.target.record_id, score, now)
        if answered.is_new:  # the card counts answers: a changed one leaves the count as it was
            cards.refresh(rt, session, "survey", answered.survey.id)
        if answered.followup_id is not None:  # a low score: the team is alerted, in the same transaction
            for channel in place.card.channels_for("internal"):
                cards.post(rt, session, "followup", answered.followup_id, channel.channel_id, "internal")
        elif answered.alerted_id is not None and answered.before != score:  # its alert shows the score it has now
            cards.refresh(rt, session, "followup", answered.alerted_id)
    view = render.comment_modal(answered.survey, score, press.channel_id, answered.comment)
    opened = bool(press.trigger_id)
    if opened:
        open_form(rt, press.trigger_id, view, press.response_url, "Your score is stored, but Slack didn't open the "
                  "comment form. Press your number again to try once more.")
    return render.thanks(score, answered.before, answered.survey, opened)


def _comment_submitted(rt: Runtime, form: Submitted) -> None:
    assert form.place is not None
    typed = render.read_comment(form.view)
    check_typed(typed or "", "comment", render.CommentIds.COMMENT)
    with rt.db.transaction() as session:
        alerted_id = surveys.comment(session, form.place, form.metadata.get("survey"), typed, rt.clock.now())
        if alerted_id is not None:  # a low score's alert shows the comment too
            cards.refresh(rt, session, "followup", alerted_id)
    if typed:
        tell_sender(rt, form, render.commented())


def show_card(session: Session, survey_id: int, audience: str) -> Shown | None:
    """The same card in every channel: it lives in the client's, and shows nothing the client may not see."""
    view = surveys.shown(session, survey_id)
    if view is None:
        return None
    return Shown(view.project_id, render.survey_card(view))


ACTIONS = [Action(action_id, _find, _press) for action_id in render.SCORE_ACTIONS]
FORMS = [Form(render.CommentIds.CALLBACK, _comment_submitted)]
CARDS = [CardKind("survey", show_card)]
