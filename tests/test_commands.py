"""The command grammar every command shares, and the help built from it."""
from __future__ import annotations

import pytest

from bot.commands import CommandSpec, Sub, channel_id_of, parse, user_id_of
from bot.errors import BadInput

SPEC = CommandSpec(
    "/thing", "test", (Sub("add", "add one", options={"client": "", "due": ""}), Sub("list", "list them")),
)
UPDATE_LIKE = CommandSpec("/note", "test", (Sub("log", "log", options={"status": ""}), Sub("list", "")), "log")


def test_options_and_free_text_in_any_order():
    parsed = parse(SPEC, 'add Acme   web site client="Acme Co" due=2026-12-01')
    assert (parsed.sub, parsed.options, parsed.text) == (
        "add", {"client": "Acme Co", "due": "2026-12-01"}, "Acme   web site")
    assert parse(SPEC, "add client=Acme Name here").text == "Name here"


def test_typographic_quotes_and_apostrophes():
    parsed = parse(SPEC, "add Bob's site client=\u201cAcme Co\u201d")
    assert parsed.text == "Bob's site" and parsed.options == {"client": "Acme Co"}
    assert parse(SPEC, "add x client='Single Q'").options == {"client": "Single Q"}


def test_slack_escapes_stay_whole():
    parsed = parse(SPEC, "add Party <!channel> for <@U123|alex> client=<@U9|b>")
    assert parsed.text == "Party <!channel> for <@U123|alex>"
    assert parsed.options == {"client": "<@U9|b>"}
    assert user_id_of("<@U123|alex>") == "U123" and user_id_of("alex") is None
    assert channel_id_of("<#C42|general>") == "C42"


def test_keys_are_case_insensitive_and_multiline_text_is_kept():
    parsed = parse(UPDATE_LIKE, "STATUS=green line one\nline two")
    assert parsed.options == {"status": "green"} and parsed.text == "line one\nline two"


def test_default_subcommand_takes_free_text():
    parsed = parse(UPDATE_LIKE, "shipped the login page")
    assert (parsed.sub, parsed.text) == ("log", "shipped the login page")
    assert parse(UPDATE_LIKE, "list").sub == "list"


@pytest.mark.parametrize(
    "text, says",
    [
        ("nope", "`/thing nope` is not a subcommand"),
        ("add x client=a client=b", "given twice"),
        ("add x colour=red", "has no option `colour=`"),
        ('add x client="open', "never closed"),
        ("add x client=", "needs a value"),
    ],
)
def test_bad_input_says_what_is_wrong(text, says):
    with pytest.raises(BadInput) as error:
        parse(SPEC, text)
    assert says in error.value.message


def test_help_when_empty_or_asked():
    assert parse(SPEC, "").sub == "help"
    assert parse(SPEC, "  help ").sub == "help"
    assert parse(SPEC, "HELP").sub == "help"


def test_project_option_is_global():
    assert parse(SPEC, "list project=acme").options == {"project": "acme"}
