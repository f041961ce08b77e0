"""The one grammar of every command: `/<command> [subcommand] [key=value ...] free text`, with quoted values."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.errors import BadInput

# Slack clients turn quotes into typographic ones; treat them as the plain ones people meant.
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_OPTION = re.compile(
    r"""(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>(?:<[^>]*>|[^\s<])*))(?=\s|$)"""
)
_WORD = re.compile(r"(?:<[^>]*>|[^\s<]|<)+")
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")

GLOBAL_OPTIONS = {"project": "names the project when the channel is not bound to one"}


@dataclass(frozen=True)
class Sub:
    name: str
    summary: str
    usage: str = ""
    options: dict[str, str] = field(default_factory=dict)
    example: str = ""


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

    def option(self, name: str) -> str | None:
        return self.options.get(name)


def parse(spec: CommandSpec, raw: str) -> Parsed:
    text = (raw or "").translate(_QUOTES).strip()
    options: dict[str, str] = {}
    pieces: list[str] = []
    last_free_end: int | None = None
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _OPTION.match(text, pos)
        if match:
            key = match["key"].lower()
            value = next(v for v in (match["dq"], match["sq"], match["bare"]) if v is not None)
            if match["bare"] is not None and value[:1] in ('"', "'"):
                raise BadInput(f"The value of `{key}=` opens a quote that is never closed.", field=key)
            if key in options:
                raise BadInput(f"`{key}=` is given twice; give it once.", field=key)
            options[key] = value.strip()
            pos = match.end()
            last_free_end = None
            continue
        word = _WORD.match(text, pos)
        assert word is not None
        if last_free_end is not None:
            pieces.append(text[last_free_end : word.start()])
        elif pieces:
            pieces.append(" ")
        pieces.append(word.group())
        last_free_end = pos = word.end()
    free = "".join(pieces).strip()

    first, _, rest = free.partition(" ")
    if first.lower() == "help" or (not free and not options and spec.default_sub is None):
        return Parsed(spec.name, "help", {}, "")
    sub = spec.sub(first.lower())
    if sub is not None:
        free = free[len(first) :].strip()
    elif spec.default_sub is not None:
        sub = spec.sub(spec.default_sub)
        assert sub is not None
    else:
        names = ", ".join(f"`{s.name}`" for s in spec.subs)
        raise BadInput(f"`{spec.name} {first}` is not a subcommand. Try one of {names}, or `{spec.name} help`.")

    allowed = {**sub.options, **GLOBAL_OPTIONS}
    for key, value in options.items():
        if key not in allowed:
            takes = ", ".join(f"`{k}=`" for k in allowed)
            raise BadInput(f"`{spec.name} {sub.name}` has no option `{key}=`. It takes {takes}.", field=key)
        if not value:
            raise BadInput(f"`{key}=` needs a value, e.g. {_example_for(sub, key)}.", field=key)
    return Parsed(spec.name, sub.name, options, free)


def _example_for(sub: Sub, key: str) -> str:
    match = re.search(rf"{key}=(\"[^\"]*\"|\S+)", sub.usage + " " + sub.example)
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


def channel_id_of(token: str) -> str | None:
    match = _CHANNEL.match(token.strip())
    return match.group(1) if match else None
