"""Slack `mrkdwn` turned into terminal text: links as `label (url)`, mentions as `@name`, *bold*/_italic_/~strike~
as ANSI styles (or plain text), entities unescaped, code left as typed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_TOKENS = re.compile(r"```.*?```|`[^`\n]+`|<[^<>\n]+>", re.DOTALL)
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")
_EMOJI = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔",
    "x": "❌",
    "warning": "⚠️",
    "lock": "🔒",
    "key": "🔑",
    "link": "🔗",
    "wave": "👋",
    "mag": "🔍",
    "pencil2": "✏️",
    "wastebasket": "🗑️",
    "hourglass_flowing_sand": "⏳",
    "information_source": "ℹ️",
    "no_entry": "⛔",
    "tada": "🎉",
    "bust_in_silhouette": "👤",
    "office": "🏢",
    "email": "📧",
    "phone": "📞",
    "arrow_left": "⬅️",
    "arrow_right": "➡️",
}


@dataclass(frozen=True)
class Style:
    """How emphasis is shown: ANSI escapes on a terminal, nothing when piped."""

    ansi: bool = False

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.ansi and text else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def italic(self, text: str) -> str:
        return self._wrap("3", text)

    def strike(self, text: str) -> str:
        return self._wrap("9", text)


def unescape(text: str) -> str:
    """Undo Slack's three entities (`&lt;`, `&gt;`, then `&amp;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _link(inner: str, names: Mapping[str, str]) -> str:
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        return "@" + (label or names.get(target[1:], target[1:]))
    if target.startswith("#"):
        return "#" + (label or names.get(target[1:], target[1:]))
    if target.startswith("!"):
        special = target[1:].split("^")[0]
        if special in ("here", "channel", "everyone"):
            return f"@{special}"
        return label or special
    url = unescape(target)
    if url.startswith("mailto:"):
        address = url[len("mailto:") :]
        return address if not label or label == address else f"{label} ({address})"
    return url if not label or label == url else f"{label} ({url})"


def _emphasis(text: str, style: Style) -> str:
    text = _BOLD.sub(lambda m: style.bold(m.group(1)), text)
    text = _ITALIC.sub(lambda m: style.italic(m.group(1)), text)
    text = _STRIKE.sub(lambda m: style.strike(m.group(1)), text)
    return re.sub(r":([a-z0-9_+\-]+):", lambda m: _EMOJI.get(m.group(1), m.group(0)), text)


def mrkdwn_to_text(text: str, *, names: Mapping[str, str] | None = None, style: Style | None = None) -> str:
    """Terminal text for a `mrkdwn` string. `names` maps user/channel ids to names for bare mentions."""
    names = names or {}
    style = style or Style()
    out: list[str] = []
    pos = 0
    for match in _TOKENS.finditer(text):
        out.append(unescape(_emphasis(text[pos : match.start()], style)))
        token = match.group(0)
        out.append(_link(token[1:-1], names) if token.startswith("<") else unescape(token))
        pos = match.end()
    out.append(unescape(_emphasis(text[pos:], style)))
    lines = "".join(out).split("\n")
    return "\n".join("│ " + line[2:] if line.startswith("> ") else line for line in lines)
