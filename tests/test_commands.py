"""The command grammar every command shares, and the help built from it."""
from __future__ import annotations

import json

import pytest

from bot.commands import (
    ID_MAX, CommandSpec, Sub, channel_id_of, check_typed, has_visible, is_number, parse, user_id_of, whole_number,
)
from bot.errors import BadInput

SPEC = CommandSpec(
    "/thing", "test", (Sub("add", "add one", options={"client": "", "due": ""}), Sub("list", "list them")),
)
UPDATE_LIKE = CommandSpec("/note", "test", (Sub("log", "log", options={"status": ""}), Sub("list", "")), "log")


def test_options_come_first_and_the_text_is_kept_as_typed():
    parsed = parse(SPEC, '  add client="Acme Co"   due=2026-12-01   Acme   web site  ')
    assert (parsed.sub, parsed.options, parsed.text, parsed.kept_as_text) == (
        "add", {"client": "Acme Co", "due": "2026-12-01"}, "Acme   web site", ())
    assert parse(SPEC, "add client=Acme Name here").text == "Name here"


def test_typographic_quotes_and_apostrophes():
    parsed = parse(SPEC, "add client=\u201cAcme Co\u201d Bob\u2019s site")
    assert parsed.text == "Bob\u2019s site" and parsed.options == {"client": "Acme Co"}
    assert parse(SPEC, "add client='Single Q' x").options == {"client": "Single Q"}
    assert parse(SPEC, "add 'twas Bob's site, wasn't it").text == "'twas Bob's site, wasn't it"


def test_slack_escapes_stay_whole():
    parsed = parse(SPEC, "add client=<@U9|b> Party <!channel> for <@U123|alex>")
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
        ("add client=a client=b x", "given twice"),
        ("add colour=red x", "has no option `colour=`"),
        ('add client="open x', "never closed"),
        ("add client= x", "needs a value"),
        ('add "x" client=a client=b', "given twice"),
        ("add x\x00y", "control character (U+0000)"),
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


def test_options_inside_the_text_are_text():
    """Reported: each of these set an option (or was refused) though the words were part of the text."""
    shared = parse(UPDATE_LIKE, "Deployed with flag status=red on the CDN")
    assert (shared.options, shared.text) == ({}, "Deployed with flag status=red on the CDN")
    assert shared.kept_as_text == ("status=red",)
    assert shared.retyped == "/note status=red Deployed with flag…"
    assert parse(SPEC, 'add due="in 9 days" Verify client=@sam is  correct').options == {"due": "in 9 days"}
    unknown = parse(UPDATE_LIKE, "Fixed env DEBUG=true")
    assert (unknown.options, unknown.text, unknown.kept_as_text) == ({}, "Fixed env DEBUG=true", ())


def test_option_words_kept_as_text_say_how_to_set_them():
    parsed = parse(SPEC, 'add due=2026-12-01 Design sign-off  client="Acme Co" project=acme')
    assert parsed.text == 'Design sign-off  client="Acme Co" project=acme'
    assert parsed.kept_as_text == ('client="Acme Co"', "project=acme")
    assert parsed.retyped == '/thing add due=2026-12-01 client="Acme Co" project=acme Design sign-off'
    assert parse(SPEC, "add x colour=red").kept_as_text == ()  # not an option of `add`: plain text, nothing said


def test_a_quoted_text_may_be_followed_by_options():
    parsed = parse(SPEC, 'add "Acme  Website" client="Acme Co" due=2026-12-01')
    assert (parsed.options, parsed.text) == ({"client": "Acme Co", "due": "2026-12-01"}, "Acme  Website")
    typographic = parse(SPEC, "add \u201cAcme Website\u201d client=\u201cAcme Co\u201d")
    assert (typographic.options, typographic.text) == ({"client": "Acme Co"}, "Acme Website")
    assert parse(SPEC, 'add "Design sign-off"').text == "Design sign-off"
    # what follows the quotes is not only options: all of it is the text, as typed
    verbatim = parse(SPEC, 'add "Acme" Website client=x')
    assert (verbatim.options, verbatim.text, verbatim.kept_as_text) == ({}, '"Acme" Website client=x', ("client=x",))


def test_text_keeps_its_lines_and_spacing():
    parsed = parse(UPDATE_LIKE, "status=green  Line one\n\n  - item   two\n")
    assert parsed.text == "Line one\n\n  - item   two"


@pytest.mark.parametrize("text, code", [
    ("a\x00b", "U+0000"), ("\x1b[31mred", "U+001B"), ("del\x7f", "U+007F"), ("next\x85line", "U+0085"),
])
def test_control_characters_are_refused(text, code):
    with pytest.raises(BadInput) as error:
        parse(UPDATE_LIKE, text)
    assert f"invisible control character ({code})" in error.value.message
    with pytest.raises(BadInput, match="Your milestone name contains"):
        check_typed(text, "milestone name")


def test_lone_surrogates_are_refused_and_tabs_and_line_breaks_are_not():
    for text in ("broken \ud800 here", "\udfff", "status=green x\udc00"):
        with pytest.raises(BadInput, match="broken character"):
            parse(UPDATE_LIKE, text)
    assert check_typed("a\tb\r\nc \u00e9 \U0001F600", "text") == "a\tb\r\nc \u00e9 \U0001F600"


def test_mentions_are_bounded_and_survive_odd_display_names():
    assert user_id_of("<@U" + "A" * 31 + ">") == "U" + "A" * 31
    assert user_id_of("<@U" + "A" * 32 + ">") is None and user_id_of("<@U" + "9" * 5000 + "|x>") is None
    assert channel_id_of("<#C" + "1" * 40 + "|general>") is None
    assert user_id_of("<@U123|\ud800sam>") == "U123" and channel_id_of("<#C42|\udfff>") == "C42"


def test_whole_numbers_are_ascii_and_bounded():
    assert [whole_number(t, 0, 100) for t in ("0", " 42 ", "100", "007")] == [0, 42, 100, 7]
    for text in ("\u2460", "\u00b2", "\u0663", "-1", "1.5", "101", "", None, "9" * 5000, "1" + "0" * 5000):
        assert whole_number(text, 0, 100) is None, text
    assert whole_number("2147483647", 1, ID_MAX) == ID_MAX
    assert whole_number("2147483648", 1, ID_MAX) is None
    assert is_number("12") and not is_number("\u2460") and not is_number("") and not is_number("1 2")


def test_text_of_only_invisible_characters_counts_as_empty():
    for text in ("", "   ", "\u200b", "\ufeff\u200e\u200f", " \u200b\n\u2060\u00a0\u3000", None):
        assert not has_visible(text), repr(text)
    assert has_visible("\u200bx") and has_visible("\u00e9") and has_visible("\U0001F600")


def test_help_says_options_come_first():
    from bot.render.help import help_message

    assert "Options come first" in json.dumps(help_message(SPEC))
