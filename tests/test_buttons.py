"""Buttons, through signed block_actions requests: a press goes through the same rights check as a command, a
forged value is refused on the server, and the cards a press changes are updated in place."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

from sqlalchemy import select, update

from storage.models import AuditEntry, Milestone, Project, Workspace
from tests.helpers import count


def _card(app, channel: str = "C0INTERNAL"):
    """The milestone card the bot posted in `channel` (waiting for its job)."""
    return app.fake.wait_for("chat.postMessage", timeout=5, where=lambda c: c.args["channel"] == channel)[-1]


def _add(app, text: str = "add due=2026-12-15 Design sign-off", channel: str = "C0INTERNAL"):
    assert "Added" in app.command(text, name="/milestone", channel=channel).text
    app.jobs.drain()
    return _card(app, channel)


def _done(db) -> list:
    with db.read() as session:
        return [(m.name, m.done_by) for m in session.scalars(select(Milestone).where(Milestone.done_at.is_not(None)))]


def test_mark_done_button_marks_it_and_changes_its_card_in_place(project, db):
    card = _add(project)
    answer = project.press(card, "Mark done")
    assert "Marked Design sign-off done" in answer.text and answer.json["response_type"] == "ephemeral"
    assert answer.json["replace_original"] is False  # the card is changed by chat.update, not replaced here
    assert _done(db) == [("Design sign-off", "U0LEAD")]
    project.jobs.drain()
    [changed] = project.fake.wait_for("chat.update")
    assert (changed.args["channel"], changed.args["ts"]) == ("C0INTERNAL", card.ts)
    shown = json.dumps(changed.args["blocks"])
    assert "done" in shown and "<@U0LEAD>" in shown and "Mark done" not in shown


def test_a_second_press_is_told_who_marked_it_first(project, db):
    card = _add(project)
    project.press(card, "Mark done")
    again = project.press(card, "Mark done", user="U0TEAM")
    assert "already done by <@U0LEAD>" in again.text
    assert _done(db) == [("Design sign-off", "U0LEAD")]


def test_two_presses_at_once_mark_it_once(project, db):
    card = _add(project)
    answers: list[str] = []
    presses = [threading.Thread(target=lambda u=u: answers.append(project.press(card, "Mark done", user=u).text))
               for u in ("U0LEAD", "U0TEAM")]
    for t in presses:
        t.start()
    for t in presses:
        t.join()
    assert sorted("Marked" in a for a in answers) == [False, True]
    assert count(db, AuditEntry, AuditEntry.action == "milestone.done") == 1


def test_moving_a_milestone_changes_its_card(project, db):
    card = _add(project)
    project.command("move due=2026-12-20 Design sign-off", name="/milestone")
    project.jobs.drain()
    [changed] = project.fake.wait_for("chat.update")
    assert changed.args["ts"] == card.ts and "Sun 20 Dec 2026" in json.dumps(changed.args["blocks"])


def test_the_clients_card_has_no_button_and_a_forged_press_is_refused(project, db):
    client_card = _add(project, channel="C0SHARED")
    assert "Mark done" not in json.dumps(client_card.args["blocks"])
    [milestone_id] = [m for m, _ in _ids(db)]
    answer = project.press_value("milestone.done", str(milestone_id), user="U0CLIENT", channel="C0SHARED",
                                 message_ts=client_card.ts)
    assert "Clients can't complete milestones" in answer.text
    assert (answer.json["response_type"], answer.json["replace_original"]) == ("ephemeral", False)
    assert _done(db) == []


def test_someone_on_no_team_is_refused_and_shown_nothing(project, db):
    card = _add(project)
    [milestone_id] = [m for m, _ in _ids(db)]
    answer = project.press_value("milestone.done", str(milestone_id), user="U0OTHER", channel="C0GENERAL")
    assert "not on the team of `acme`" in answer.text and "Design sign-off" not in answer.text
    assert _done(db) == [] and card.ts


def test_a_value_naming_another_project_is_checked_against_that_project(project, db):
    """Pat leads a project of their own; a button naming acme's milestone, pressed in pat's channel, is refused."""
    assert "Created" in project.command("create key=side Side project", user="U0OTHER", channel="C0GENERAL").text
    project.jobs.drain()
    _add(project)
    [milestone_id] = [m for m, _ in _ids(db)]
    answer = project.press_value("milestone.done", str(milestone_id), user="U0OTHER", channel="C0GENERAL")
    assert "not on the team of `acme`" in answer.text
    assert _done(db) == []


def test_a_value_from_another_workspace_or_made_up_is_not_found(project, db):
    _add(project)
    [milestone_id] = [m for m, _ in _ids(db)]
    for value in ("abc", "", "0", "9" * 40, str(milestone_id + 1)):
        answer = project.press_value("milestone.done", value)
        assert "can't find" in answer.text, value
    with db.transaction() as session:  # the same milestone, now in a project of another workspace
        session.add(Workspace(team_id="T0ELSEWHERE", name="Elsewhere", created_at=datetime.now(timezone.utc)))
        session.flush()
        session.execute(update(Project).values(team_id="T0ELSEWHERE"))
    answer = project.press_value("milestone.done", str(milestone_id))
    assert "can't find" in answer.text
    assert _done(db) == []


def _ids(db) -> list[tuple[int, str]]:
    with db.read() as session:
        return [(i, n) for i, n in session.execute(select(Milestone.id, Milestone.name))]


def test_a_form_is_checked_like_a_command_whoever_submits_it(project, db):
    """The add-milestone form names its project; someone on no team submitting it is refused beside the form."""
    from bot.render import modals

    view = modals.milestone_add_modal("C0GENERAL", "acme", "Acme Website")
    refused = project.submit(view, {"name": "Sneaky", "due": "2026-12-15"}, user="U0OTHER")
    assert refused.json["response_action"] == "errors"
    assert "not on the team of `acme`" in json.dumps(refused.json["errors"])
    assert _ids(db) == []
    accepted = project.submit(view, {"name": "Design sign-off", "due": "2026-12-15"}, user="U0LEAD")
    assert accepted.status == 200 and accepted.body == "" and [n for _, n in _ids(db)] == ["Design sign-off"]
