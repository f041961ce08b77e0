"""What people typed, as Slack sends it, made into safe mrkdwn (pure: no Slack calls).

Slack sends text with `&`, `<` and `>` escaped as `&amp;`, `&lt;` and `&gt;` and its own tokens in angle brackets:
`<@U123|sam>`, `<#C123|general>`, `<!channel>`, `<!subteam^S123|@devs>`, `<!date^...|fallback>`, `<https://x|label>`.
Person and channel mentions and links stay what they are; broadcasts (`@channel`, `@here`, `@everyone`, user groups)
become plain words that never ping anyone (we never send `link_names`); everything else is text, escaped once.
Text typed into a form arrives unescaped: a stray `&`, `<` or `>` is escaped here too.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone

ELLIPSIS = "…"

_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_ANGLED = re.compile(r"<([^<>]*)>")
_PLAIN = re.compile(r"[^&<>]+")
_STRAY_AMP = re.compile(r"&(?!(?:amp|lt|gt);)")
_USER = re.compile(r"@([UW][A-Z0-9]+)(?:\|(.*))?", re.S)
_CHANNEL = re.compile(r"#([CG][A-Z0-9]+)(?:\|(.*))?", re.S)
_BROADCAST = re.compile(r"!(channel|here|everyone)(?:\|.*)?", re.S)
_SUBTEAM = re.compile(r"!subteam\^([A-Z0-9]+)(?:\|(.*))?", re.S)
_DATE = re.compile(r"!date\^(\d{1,12})\^[^|]*(?:\|(.*))?", re.S)
_LINK = re.compile(r"((?:https?://|mailto:)[^\s|]+)(?:\|(.*))?", re.S)

# (mrkdwn, visible length, plain): a plain run of characters may be cut anywhere; any other token is whole or absent.
Token = tuple[str, int, bool]


def to_mrkdwn(text: str | None, most: int | None = None) -> str:
    """`text` as safe mrkdwn; with `most`, at most that many visible characters, shortened between tokens with "…"
    (never inside an `&amp;` or a mention)."""
    tokens = list(_tokens(text or ""))
    if most is None or sum(visible for _, visible, _ in tokens) <= most:
        return "".join(piece for piece, _, _ in tokens)
    budget = max(most - len(ELLIPSIS), 0)
    kept: list[str] = []
    for piece, visible, plain in tokens:
        if visible > budget:
            if plain:
                kept.append(piece[:budget])
            break
        kept.append(piece)
        budget -= visible
    return "".join(kept).rstrip() + ELLIPSIS


def slack_length(text: str | None) -> int:
    """How long `text` is as Slack counts it against its limits (3,000 per section): `&` and `<` count 5 and 4."""
    return len(to_mrkdwn(text))


def _tokens(text: str) -> Iterator[Token]:
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "&":
            entity = _ENTITY.match(text, pos)
            yield (entity.group(), 1, False) if entity else ("&amp;", 1, False)
            pos = entity.end() if entity else pos + 1
        elif char == "<":
            angled = _ANGLED.match(text, pos)
            token = _control(angled.group(1)) if angled else None
            yield token or ("&lt;", 1, False)
            pos = angled.end() if token and angled else pos + 1
        elif char == ">":
            yield "&gt;", 1, False
            pos += 1
        else:
            run = _PLAIN.match(text, pos)
            assert run is not None
            yield run.group(), run.end() - pos, True
            pos = run.end()


def _control(inner: str) -> Token | None:
    """One of Slack's `<...>` tokens as safe mrkdwn, or None when it is just text between angle brackets."""
    if match := _USER.fullmatch(inner):
        return f"<@{match[1]}>", 1 + _visible(match[2] or match[1]), False
    if match := _CHANNEL.fullmatch(inner):
        return f"<#{match[1]}>", 1 + _visible(match[2] or match[1]), False
    if match := _BROADCAST.fullmatch(inner):
        return f"@{match[1]}", 1 + len(match[1]), False
    if match := _SUBTEAM.fullmatch(inner):
        name = "@" + ((match[2] or "").strip().lstrip("@") or "group")
        return _escaped(name), _visible(name), False
    if match := _DATE.fullmatch(inner):
        shown = match[2] if match[2] else _date(int(match[1]))
        return _escaped(shown), _visible(shown), False
    if match := _LINK.fullmatch(inner):
        url, label = _escaped(match[1]), match[2]
        if label:
            return f"<{url}|{_escaped(label)}>", _visible(label), False
        return f"<{url}>", _visible(match[1]), False
    return None


def _escaped(text: str) -> str:
    """Text from inside a Slack token (no `<` or `>` in it): entities stay, a stray `&` is escaped."""
    return _STRAY_AMP.sub("&amp;", text)


def _visible(text: str) -> int:
    return len(_ENTITY.sub("&", text))


def _date(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return "a date"
