"""Text to and from Slack: what a person typed (Slack's markup undone), and untrusted text put into `mrkdwn` safely.

In: Slack HTML-escapes `&`, `<` and `>` typed by the user and wraps things it recognises in its own markup
(`<mailto:jane@acme.test|jane@acme.test>`, `<https://acme.test|acme.test>`, `<@U123|bob>`, `<#C123|sales>`). A
literal `<` typed by the user always arrives as `&lt;`, so every real `<…>` is Slack's markup.

Out: Slack treats `<…>` as links and mentions (`<!channel>`, `<@U1>`) and `&` as the start of an entity, so
user text is escaped with exactly `&`→`&amp;`, `<`→`&lt;`, `>`→`&gt;` (docs/reference/slack.md §5). Lengths are
counted as Python characters; Slack's limits are in characters. `*`, `_`, `~` and backticks have no escape in
mrkdwn: user text can still look bold or italic, but it can never link, mention or notify.
"""

from __future__ import annotations

import re
from datetime import datetime

ELLIPSIS = "…"
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    """`text` with exactly `&`, `<`, `>` replaced by `&amp;`, `&lt;`, `&gt;`; nothing else changes."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters, else its start plus "…", `limit` characters in all."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def escape_truncated(text: str, limit: int) -> str:
    """`text` escaped for mrkdwn and cut (never inside an `&amp;`-style entity) to at most `limit` characters.

    A cut text ends in "…".
    """
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    if limit < 1:
        raise ValueError("limit must be at least 1")
    budget = limit - 1
    parts: list[str] = []
    for ch in text:
        piece = _ESCAPES.get(ch, ch)
        if len(piece) > budget:
            break
        parts.append(piece)
        budget -= len(piece)
    return "".join(parts) + ELLIPSIS


def one_line(text: str) -> str:
    """`text` with every run of whitespace (line breaks included) turned into one space."""
    return " ".join(text.split())


_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def _unwrap(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return "@" + (label or target[1:].split("^", 1)[0])
    if label:
        return label
    for scheme in ("mailto:", "tel:"):
        if target.startswith(scheme):
            return target[len(scheme) :]
    return target


def unescape(text: str) -> str:
    """Undo exactly Slack's three HTML escapes (`&amp;` `&lt;` `&gt;`), in one pass."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def typed_text(text: str) -> str:
    """What the user typed: Slack's link/mention markup replaced by what it shows, then unescaped."""
    return unescape(_MARKUP.sub(_unwrap, text))


def split_subcommand(text: str) -> tuple[str, str]:
    """("list", "acme corp") for "list acme corp": the first word in lower case, and the rest as typed."""
    stripped = text.strip()
    if not stripped:
        return "", ""
    head, _, rest = stripped.partition(" ")
    head2, _, rest2 = stripped.partition("\n")
    if len(head2) < len(head):
        head, rest = head2, rest2
    return head.lower(), rest.strip()


def utc_minute(moment: datetime) -> str:
    """`2026-01-02 03:04 UTC`: how a time is shown to people (stored times are UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")
