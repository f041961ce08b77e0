"""The one grammar of every command: `/<command> [subcommand] [key=value ...] free text`, with quoted values."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot.errors import BadInput

# Slack clients turn quotes into typographic ones; treat them as the plain ones people meant.
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_OPTION = re.compile(
    r"""(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>(?:<[^>]*>|[^\s<])*))(?=\s|$)"""
)
_WORD = re.compile(r"(?:<[^>]*>|[^\s<]|<)+")
# Slack ids are about 11 characters (up to ~20); longer is not an id, and would not fit the 32-character columns.
_USER = re.compile(r"^<@([UW][A-Z0-9]{1,31})(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{1,31})(?:\|[^>]*)?>$")
# Control characters other than tab and line breaks (Unicode category Cc), and lone UTF-16 surrogates: never typed
# on purpose, and neither can be stored or shown.
_UNTYPABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_DIGITS = re.compile(r"[0-9]+")
_INVISIBLE = ("Cc", "Cf", "Zs", "Zl", "Zp")

ID_MAX = 2_147_483_647  # record ids are 32-bit integers on PostgreSQL

GLOBAL_OPTIONS = {"project": "names the project when the channel is not bound to one"}


@dataclass(frozen=True)
class Sub:
    name: str
    summary: str
    usage: str = ""
    options: dict[str, str] = field(default_factory=dict)
    example: str = ""
    # The first word after the subcommand names a record (`assess CR-7 days=5 …`): options may follow it.
    takes_ref: bool = False


@dataclass(frozen=True)
class CommandSpec:
    name: str  # with the slash, e.g. "/project"
    summary: str
    subs: tuple[Sub, ...]
    default_sub: str | None = None  # used when the first word is not a subcommand (e.g. `/update did X`)

    def sub(self, name: str) -> Sub | None:
        return next((s for s in self.subs if s.name == name), None)


@dataclass(frozen=True)
class Parsed:
    command: str
    sub: str
    options: dict[str, str]
    text: str
    # Words of the text that read as this subcommand's options (`share=yes` after the text starts): kept as text,
    # and the person is told, with the command as it would set them.
    kept_as_text: tuple[str, ...] = ()
    retyped: str = ""
    ref: str = ""  # the record named first, for a subcommand that `takes_ref`

    def option(self, name: str) -> str | None:
        return self.options.get(name)


def parse(spec: CommandSpec, raw: str) -> Parsed:
    """`/<command> [subcommand] [key=value ...] free text`: options are the leading `key=value` words; the first word
    that is not one starts the text, kept as typed. A text in quotes may be followed by options:
    `create "Acme Website" client="Acme Co"`."""
    raw = check_typed(raw or "")
    norm = raw.translate(_QUOTES)  # one character for one, so a position in it is a position in what was typed
    pos = _skip_space(norm, 0)
    first = _WORD.match(norm, pos)
    word = first.group() if first else ""
    if word.lower() == "help" or (not word and spec.default_sub is None):
        return Parsed(spec.name, "help", {}, "")
    sub = spec.sub(word.lower())
    if sub is not None and first is not None:
        pos = _skip_space(norm, first.end())
    elif spec.default_sub is not None:
        sub = spec.sub(spec.default_sub)
        assert sub is not None
    else:
        names = ", ".join(f"`{s.name}`" for s in spec.subs)
        raise BadInput(f"`{spec.name} {_shown(word)}` is not a subcommand. Try one of {names}, or `{spec.name} help`.")
    typed_as, sub_end = raw[:pos].strip(), pos  # the subcommand word as typed, if it was

    options: dict[str, str] = {}
    while (match := _OPTION.match(norm, pos)) is not None:
        _take(options, match)
        pos = _skip_space(norm, match.end())
    ref = ""
    if sub.takes_ref and (named := _WORD.match(norm, pos)) is not None:
        ref = raw[named.start():named.end()]
        pos = _skip_space(norm, named.end())
        while (match := _OPTION.match(norm, pos)) is not None:
            _take(options, match)
            pos = _skip_space(norm, match.end())
    leading = raw[sub_end:pos].strip()

    allowed = {**sub.options, **GLOBAL_OPTIONS}
    text, kept = _quoted_text(norm, raw, pos, options), ()
    if text is None:
        text = raw[pos:].strip()
        kept = tuple((m.start(), m.end()) for m in _option_like(norm, pos, allowed))
    for key, value in options.items():
        if key not in allowed:
            takes = ", ".join(f"`{k}=`" for k in allowed)
            raise BadInput(f"`{spec.name} {sub.name}` has no option `{key}=`. It takes {takes}.", field=key)
        if not value:
            raise BadInput(f"`{key}=` needs a value, e.g. {_example_for(sub, key)}.", field=key)
    if not kept:
        return Parsed(spec.name, sub.name, options, text, ref=ref)
    words = tuple(raw[start:end] for start, end in kept)
    before = _clipped(raw[pos : kept[0][0]].strip())
    if any(norm[end:start].strip() for (_, end), (start, _) in zip(kept, [*kept[1:], (len(norm), 0)])):
        before = before.removesuffix("…") + "…"  # more text follows: the person knows the rest
    retyped = " ".join(p for p in (spec.name, typed_as, leading, *words, before) if p)
    return Parsed(spec.name, sub.name, options, text, words, retyped, ref)


def _skip_space(text: str, pos: int) -> int:
    """Past spaces and invisible characters (a zero-width space pasted before `link` is no part of the word)."""
    while pos < len(text) and (text[pos].isspace() or unicodedata.category(text[pos]) == "Cf"):
        pos += 1
    return pos


def _take(options: dict[str, str], match: re.Match[str]) -> None:
    key = match["key"].lower()
    value = next(v for v in (match["dq"], match["sq"], match["bare"]) if v is not None)
    if match["bare"] is not None and value[:1] in ('"', "'"):
        raise BadInput(f"The value of `{key}=` opens a quote that is never closed.", field=key)
    if key in options:
        raise BadInput(f"`{key}=` is given twice; give it once.", field=key)
    options[key] = value.strip()


def _quoted_text(norm: str, raw: str, pos: int, options: dict[str, str]) -> str | None:
    """A text in quotes followed by nothing but options: the text inside the quotes (and the options are taken).
    None when the text does not start that way: then all of it is text."""
    if pos >= len(norm) or norm[pos] not in "\"'":
        return None
    close = norm.find(norm[pos], pos + 1)
    if close < 0 or (close + 1 < len(norm) and not norm[close + 1].isspace()):
        return None
    after, trailing = _skip_space(norm, close + 1), []
    while after < len(norm):
        match = _OPTION.match(norm, after)
        if match is None:
            return None
        trailing.append(match)
        after = _skip_space(norm, match.end())
    for match in trailing:
        _take(options, match)
    return raw[pos + 1 : close].strip()


def _option_like(norm: str, pos: int, keys: dict[str, str]) -> list[re.Match[str]]:
    """The words of the text from `pos` on that read as one of `keys` set (`share=yes`), so the person can be told."""
    found: list[re.Match[str]] = []
    for word in re.finditer(r"\S+", norm[pos:]):
        start = pos + word.start()
        if found and start < found[-1].end():
            continue  # inside the quoted value of the one before
        match = _OPTION.match(norm, start)
        if match and match["key"].lower() in keys:
            found.append(match)
    return found


def _clipped(text: str, most: int = 40) -> str:
    line = text.split("\n", 1)[0].rstrip()
    if len(line) <= most and line == text:
        return text
    return line[:most].rstrip() + "…"


def _shown(word: str, most: int = 40) -> str:
    return word if len(word) <= most else word[: most - 1] + "…"


def _example_for(sub: Sub, key: str) -> str:
    # A value ends at a space, `]` or `|`: `[status=green|amber|red]` suggests `status=green`.
    match = re.search(rf"{key}=(\"[^\"]*\"|[^\s\]|]+)", sub.usage + " " + sub.example)
    return f"`{match.group()}`" if match else f"`{key}=...`"


def yes_no(value: str | None, name: str) -> bool:
    """A `name=yes|no` option (true/false too); left out means no."""
    if value is None:
        return False
    word = value.strip().lower()
    if word not in ("yes", "no", "true", "false"):
        raise BadInput(f"`{name}={value}` must be `yes` or `no`.", name)
    return word in ("yes", "true")


def user_id_of(token: str) -> str | None:
    """`<@U123|alex>` (what Slack sends for an escaped @mention) -> U123."""
    match = _USER.match(token.strip())
    return match.group(1) if match else None


def person_option(parsed: Parsed, name: str, example: str = "@sam") -> str | None:
    """The user id an option such as `owner=@sam` mentions; None when it isn't given; refused when it mentions
    no one."""
    raw = parsed.option(name)
    if raw is None:
        return None
    user = user_id_of(raw)
    if user is None:
        raise BadInput(f"`{name}={raw}` should mention a person, e.g. `{name}={example}`.", name)
    return user


def channel_id_of(token: str) -> str | None:
    match = _CHANNEL.match(token.strip())
    return match.group(1) if match else None


def check_typed(text: str, what: str = "text", field: str | None = None) -> str:
    """Refuse what no one types on purpose: a control character (other than tab and line breaks) or a lone
    surrogate, which could be neither stored nor shown. Returns `text` unchanged. `what` names it for the person
    ("text", "milestone name"); `field` is the option or form input it is about."""
    bad = _UNTYPABLE.search(text or "")
    if bad is None:
        return text
    code = f"U+{ord(bad.group()):04X}"
    if unicodedata.category(bad.group()) == "Cs":
        raise BadInput(f"Your {what} contains a broken character ({code}); remove it and send it again.", field)
    raise BadInput(f"Your {what} contains an invisible control character ({code}); remove it and send it again.",
                   field)


def has_visible(text: str | None) -> bool:
    """False for text that shows nothing: only spaces, line breaks, zero-width and direction marks, byte order marks
    (Unicode categories Z*, Cc, Cf); such text counts as empty."""
    return any(not ch.isspace() and unicodedata.category(ch) not in _INVISIBLE for ch in text or "")


def is_number(text: str | None) -> bool:
    """Written in ASCII digits only: `12`, never `①` or `²` (which str.isdigit() accepts and int() refuses)."""
    return _DIGITS.fullmatch(text or "") is not None


def whole_number(text: str | None, low: int, high: int) -> int | None:
    """The whole number `text` is, in ASCII digits, if it lies within low..high; else None. Any number of digits is
    merely out of range (int() refuses numbers of over 4,300 digits)."""
    word = (text or "").strip()
    if not is_number(word):
        return None
    word = word.lstrip("0") or "0"
    if len(word) > len(str(high)):
        return None
    value = int(word)
    return value if low <= value <= high else None
