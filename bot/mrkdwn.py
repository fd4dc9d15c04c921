"""Putting untrusted text into Slack `mrkdwn` safely, within Block Kit's length limits.

Slack treats `<…>` as links and mentions (`<!channel>`, `<@U1>`) and `&` as the start of an entity, so
user text is escaped with exactly `&`→`&amp;`, `<`→`&lt;`, `>`→`&gt;` (reference/slack.md §5). Lengths are
counted as Python characters; Slack's limits are in characters. `*`, `_`, `~` and backticks have no escape in
mrkdwn: user text can still look bold or italic, but it can never link, mention or notify.
"""

from __future__ import annotations

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
