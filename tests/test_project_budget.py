"""The project's budget baseline: set at creation or by the lead, checked, audited, and shown with what approved
change requests add to it (and to the due date), to the team and the client alike."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from storage.models import AuditEntry, ChangeRequest, Project
from tests.conftest import START
from tests.helpers import count


def shown(message: dict[str, Any]) -> str:
    """Every text of a message's blocks, as people read it."""
    parts = []
    for block in message.get("blocks", []):
        for text in [block.get("text") or {}, *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(text, dict) and text.get("text"):
                parts.append(text["text"])
    return "\n".join([message.get("text", ""), *parts])


def budget_of(db) -> tuple[int | None, str | None]:
    with db.read() as session:
        return tuple(session.execute(select(Project.budget_cents, Project.budget_currency)).one())


def file_change(db, state: str = "approved", number: int = 1, days: int = 5, cost_cents: int = 650_000,
                currency: str = "EUR") -> None:
    """A change request as the /change command would leave it once decided."""
    with db.transaction() as session:
        project_id = session.scalar(select(Project.id))
        session.add(ChangeRequest(
            project_id=project_id, number=number, title=f"Extra page {number}", requested_by="U0CLIENT",
            priority="normal", state=state, source="command", filed_by="U0LEAD", created_at=START,
            changed_at=START, version=1, days=days, cost_cents=cost_cents, currency=currency,
            approved_version=1 if state != "assessed" else None,
        ))


def test_create_with_a_budget_shows_it_on_the_card(app, db):
    reply = app.command('create client="Acme Co" due=2027-03-31 budget="48000 EUR" key=acme Acme Website')
    assert "Created" in reply.text
    app.jobs.drain()
    [card] = app.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "C0INTERNAL")
    assert "*Budget*\n48,000 EUR" in shown(card.args)
    assert budget_of(db) == (4_800_000, "EUR")
    with db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "project.create")).one()
    assert entry.detail["budget"] == "48,000 EUR"
    assert "*Budget*\n48,000 EUR" in shown(app.command("status").json)


def test_a_project_without_a_budget_shows_no_budget_line(project, db):
    assert budget_of(db) == (None, None)
    assert "Budget" not in shown(project.command("status").json)


def test_the_lead_sets_the_budget_audited_and_the_card_follows(app, db):
    assert "Created" in app.command("create key=acme due=2027-03-31 Acme Website").text
    app.jobs.drain()
    [created] = app.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "C0INTERNAL")

    reply = app.command('edit budget="48,000.50 eur"')
    assert "Budget: none → *48,000.50 EUR*" in shown(reply.json)
    assert budget_of(db) == (4_800_050, "EUR")
    assert "Budget: 48,000.50 EUR → *52,000 EUR*" in shown(app.command('edit budget="EUR 52000"').json)
    assert "nothing changed" in app.command('edit budget="52000 EUR"').text
    with db.read() as session:
        edits = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "project.edit")
                                .order_by(AuditEntry.id)).all()
    assert [e["changes"]["budget"] for e in edits] == [{"before": "none", "after": "48,000.50 EUR"},
                                                        {"before": "48,000.50 EUR", "after": "52,000 EUR"}]
    app.jobs.drain()
    changed = app.fake.wait_for("chat.update", count=2)
    assert {(c.args["channel"], c.args["ts"]) for c in changed} == {("C0INTERNAL", created.ts)}
    assert "52,000 EUR" in shown(changed[-1].args)


def test_only_the_lead_changes_the_budget(project, db):
    reply = project.command('edit budget="48000 EUR"', user="U0TEAM")
    assert "Only project leads" in reply.text
    assert budget_of(db) == (None, None)
    assert count(db, AuditEntry, AuditEntry.action == "project.edit") == 0


BAD_BUDGETS = [
    ('budget="48000 EURO"', "`EURO` is not an ISO 4217 currency code. Use one such as `EUR`, `USD` or `GBP`."),
    ('budget="-48000 EUR"', "`budget=-48000` is negative"),
    ("budget=48000", 'Give the amount and its currency, e.g. `budget=\\"48000 EUR\\"`.'),
    ('budget="2000000000 EUR"', "`budget=` is more than 1,000,000,000"),
    ('budget="lots EUR"', "`budget=lots` is not an amount"),
]


@pytest.mark.parametrize("option, says", BAD_BUDGETS)
def test_a_bad_budget_at_creation_is_refused_and_nothing_stored(app, db, option, says):
    reply = app.command(f"create {option} Acme Website")
    assert reply.json["response_type"] == "ephemeral" and says in reply.text
    app.jobs.drain()
    assert count(db, Project) == 0 and count(db, AuditEntry) == 0
    assert app.fake.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("option, says", BAD_BUDGETS)
def test_a_bad_budget_edit_is_refused_and_changes_nothing(project, db, option, says):
    project.command('edit budget="48000 EUR"')
    reply = project.command(f"edit {option}")
    assert reply.json["response_type"] == "ephemeral" and says in reply.text
    assert budget_of(db) == (4_800_000, "EUR")
    assert count(db, AuditEntry, AuditEntry.action == "project.edit") == 1


def test_the_forms_budget_field_says_what_is_wrong(app, db):
    app.command("create", answer=False)
    view = app.fake.wait_for("views.open")[0].args["view"]
    [field] = [b for b in view["blocks"] if b.get("block_id") == "budget"]
    assert field["optional"] and "e.g. 48000 EUR" in field["hint"]["text"]

    bad = app.submit(view, {"name": "Acme Website", "budget": "48000 EURO"})
    assert bad.json == {"response_action": "errors", "errors": {
        "budget": "`EURO` is not an ISO 4217 currency code. Use one such as `EUR`, `USD` or `GBP`."}}
    assert "budget" in app.submit(view, {"name": "Acme Website", "budget": "48000"}).json["errors"]
    assert count(db, Project) == 0

    good = app.submit(view, {"name": "Acme Website", "budget": "48000 EUR"})
    assert good.status == 200 and good.body in ("", "{}")
    assert budget_of(db) == (4_800_000, "EUR")
    app.jobs.drain()
    [card] = app.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "C0INTERNAL")
    assert "48,000 EUR" in shown(card.args)


def test_status_adds_approved_change_requests_to_budget_and_due(project, db):
    project.command('edit budget="48000 EUR"')
    file_change(db, state="assessed", number=1, days=20, cost_cents=9_900_000)  # not decided: doesn't count
    status = shown(project.command("status").json)
    assert "*Budget*\n48,000 EUR\n" in status + "\n" and "approved" not in status
    assert "*Due*\nWed 31 Mar 2027\n" in status

    file_change(db, state="approved", number=2)
    budget = "*Budget*\n48,000 EUR + 6,500 EUR approved (+13.5 %) = 54,500 EUR"
    due = "*Due*\nWed 31 Mar 2027 + 5 working days approved → Wed 07 Apr 2027"
    for user, channel in [("U0LEAD", "C0INTERNAL"), ("U0CLIENT", "C0SHARED")]:  # contract data: both see it
        status = shown(project.command("status", user=user, channel=channel).json)
        assert budget in status and due in status, (user, status)
    project.command('edit client="Acme Group"')  # the project's card, changed in place, reads them too
    project.jobs.drain()
    card = shown(project.fake.wait_for("chat.update")[-1].args)
    assert budget in card and due in card

    file_change(db, state="done", number=3, days=1, cost_cents=100_000, currency="USD")
    status = shown(project.command("status").json)
    assert ("48,000 EUR + 6,500 EUR + 1,000 USD approved (+13.5 % in EUR) = 54,500 EUR + 1,000 USD" in status
            and "+ 6 working days approved → Thu 08 Apr 2027" in status)


def test_approved_changes_show_even_without_a_baseline(project, db):
    file_change(db)
    status = shown(project.command("status").json)
    assert "*Budget*\n_no baseline_ + 6,500 EUR approved" in status
