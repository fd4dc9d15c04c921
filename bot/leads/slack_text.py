"""Turning the `text` of a slash command, as Slack delivers it, back into what the user typed.

Slack HTML-escapes `&`, `<` and `>` typed by the user and wraps things it recognises in its own markup:
`<mailto:jane@acme.test|jane@acme.test>`, `<https://acme.test|acme.test>`, `<@U123|bob>`, `<#C123|sales>`.
A literal `<` typed by the user always arrives as `&lt;`, so every real `<…>` is Slack's markup.
"""

from __future__ import annotations

import re

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
