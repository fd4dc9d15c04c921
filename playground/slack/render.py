"""Block Kit as a person reads it in a terminal: messages and modals turned into lines of text, with every
clickable element numbered (`[1] Edit  [2] Delete`) and every modal input numbered as a form field.

Pure functions over Slack's JSON; what to do with the numbers is the console's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from playground.slack.modal_state import element_options, initial_entry
from playground.slack.mrkdwn_text import Style, mrkdwn_to_text

RULE = "─" * 40
_FIELD_WIDTH = 38


@dataclass(frozen=True)
class Clickable:
    """A numbered thing the person can `click N`: a button, or one option of an overflow/select menu."""

    number: int
    action_id: str
    value: str | None
    label: str
    url: str | None = None


@dataclass(frozen=True)
class Rendered:
    """Text to print, and the clickables it numbered."""

    text: str
    clickables: tuple[Clickable, ...] = ()


@dataclass(frozen=True)
class FormField:
    """One input of a modal as the console asks for it."""

    number: int
    block_id: str
    action_id: str
    label: str
    kind: str
    optional: bool
    initial: Any
    options: tuple[tuple[str, str], ...] = ()  # (label, value)
    hint: str = ""
    placeholder: str = ""


@dataclass
class _Renderer:
    names: Mapping[str, str]
    style: Style
    next_number: int
    clickables: list[Clickable] = field(default_factory=list)

    def text_object(self, obj: Any) -> str:
        if not isinstance(obj, dict):
            return ""
        text = str(obj.get("text", ""))
        if obj.get("type") == "mrkdwn":
            return mrkdwn_to_text(text, names=self.names, style=self.style)
        return text

    def _number(self, action_id: str, value: str | None, label: str, url: str | None = None) -> int:
        number = self.next_number
        self.next_number += 1
        self.clickables.append(Clickable(number, action_id, value, label, url))
        return number

    def element(self, el: Any) -> str:
        """A clickable element as text (`[3] Edit`); options of menus get a number each."""
        if not isinstance(el, dict):
            return ""
        kind = el.get("type")
        action_id = str(el.get("action_id", ""))
        if kind == "button":
            label = self.text_object(el.get("text"))
            shown = self.style.bold(label) if el.get("style") == "primary" else label
            if el.get("style") == "danger":
                shown = f"{label} (!)"
            number = self._number(action_id, el.get("value"), label, el.get("url"))
            return f"[{number}] {shown} ↗ {el['url']}" if el.get("url") else f"[{number}] {shown}"
        if kind in ("overflow", "static_select", "radio_buttons"):
            sign = "⋯" if kind == "overflow" else "▾"
            parts = []
            for option in element_options(el):
                label = self.text_object(option.get("text"))
                parts.append(f"[{self._number(action_id, option.get('value'), label)}] {sign} {label}")
            return "  ".join(parts)
        if kind == "image":
            return f"[image: {el.get('alt_text', '')}]"
        if kind in ("mrkdwn", "plain_text"):
            return self.text_object(el)
        return f"[{kind}]"

    def section(self, block: dict[str, Any]) -> list[str]:
        lines = [self.text_object(block["text"])] if "text" in block else []
        fields = [_field_text(self.text_object(f)) for f in block.get("fields") or []]
        for i in range(0, len(fields), 2):
            pair = fields[i : i + 2]
            if len(pair) == 2 and max(len(p) for p in pair) <= _FIELD_WIDTH and "\n" not in "".join(pair):
                lines.append(pair[0].ljust(_FIELD_WIDTH) + "  " + pair[1])
            else:
                lines.extend(pair)
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") != "image":
            lines.append("    " + self.element(accessory))
        return lines

    def rich_text(self, elements: list[Any], indent: str = "") -> list[str]:
        lines: list[str] = []
        for part in elements:
            kind = part.get("type")
            if kind == "rich_text_list":
                for item in part.get("elements") or []:
                    lines.extend(f"{indent}• {line}" for line in self.rich_text([item]))
                continue
            text = "".join(_rich_inline(e, self.names) for e in part.get("elements") or [])
            prefix = "│ " if kind == "rich_text_quote" else ""
            lines.extend(prefix + line for line in text.split("\n"))
        return lines

    def block(self, block: Any) -> list[str]:
        if not isinstance(block, dict):
            return []
        kind = block.get("type")
        if kind == "header":
            text = self.text_object(block.get("text"))
            return [self.style.bold(text) if self.style.ansi else f"== {text} =="]
        if kind == "section":
            return self.section(block)
        if kind == "divider":
            return [RULE]
        if kind == "context":
            return [self.style.dim("  ".join(self.element(e) for e in block.get("elements") or []))]
        if kind == "actions":
            return ["  ".join(self.element(e) for e in block.get("elements") or [])]
        if kind == "image":
            return [f"[image: {block.get('alt_text', '')}] {block.get('image_url', '')}".rstrip()]
        if kind == "rich_text":
            return self.rich_text(block.get("elements") or [])
        if kind == "markdown":
            return [str(block.get("text", ""))]
        if kind == "input":
            return [self.text_object(block.get("label")) + ":"]
        return [f"[{kind} block]"]


def _field_text(text: str) -> str:
    """A field "Label\\nvalue" reads as "Label: value"."""
    head, sep, rest = text.partition("\n")
    return f"{head}: {rest.replace(chr(10), ' ')}" if sep and head and rest else text


def _rich_inline(element: dict[str, Any], names: Mapping[str, str]) -> str:
    kind = element.get("type")
    if kind == "text":
        return str(element.get("text", ""))
    if kind == "link":
        url, text = element.get("url", ""), element.get("text")
        return f"{text} ({url})" if text and text != url else str(url)
    if kind == "user":
        return "@" + names.get(element.get("user_id", ""), element.get("user_id", ""))
    if kind == "channel":
        return "#" + names.get(element.get("channel_id", ""), element.get("channel_id", ""))
    if kind == "emoji":
        return f":{element.get('name')}:"
    return ""


def render_blocks(
    blocks: list[dict[str, Any]],
    *,
    first_number: int = 1,
    names: Mapping[str, str] | None = None,
    style: Style | None = None,
) -> Rendered:
    """The blocks as lines, clickables numbered from `first_number`."""
    renderer = _Renderer(names or {}, style or Style(), first_number)
    lines = [line for block in blocks for line in renderer.block(block)]
    return Rendered("\n".join(lines), tuple(renderer.clickables))


def render_message(
    text: str,
    blocks: list[dict[str, Any]] | None,
    *,
    first_number: int = 1,
    names: Mapping[str, str] | None = None,
    style: Style | None = None,
) -> Rendered:
    """What a message shows: its blocks, or its `text` (mrkdwn) when it has none."""
    if blocks:
        return render_blocks(blocks, first_number=first_number, names=names, style=style)
    return Rendered(mrkdwn_to_text(text, names=names, style=style))


def form_fields(view: Mapping[str, Any], *, names: Mapping[str, str] | None = None) -> list[FormField]:
    """The modal's inputs, numbered from 1, as the console asks for them."""
    renderer = _Renderer(names or {}, Style(), 1)
    fields: list[FormField] = []
    for block in view.get("blocks") or []:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        element = block.get("element") or {}
        options = tuple((renderer.text_object(o.get("text")), str(o.get("value"))) for o in element_options(element))
        fields.append(
            FormField(
                number=len(fields) + 1,
                block_id=str(block.get("block_id")),
                action_id=str(element.get("action_id")),
                label=renderer.text_object(block.get("label")),
                kind=str(element.get("type")),
                optional=bool(block.get("optional", False)),
                initial=initial_entry(element),
                options=options,
                hint=renderer.text_object(block.get("hint")),
                placeholder=renderer.text_object(element.get("placeholder")),
            )
        )
    return fields


def describe_entry(form_field: FormField, entry: Any) -> str:
    """How a field's current entry reads (option labels instead of values)."""
    if entry in (None, "", []):
        return ""
    labels = dict((value, label) for label, value in form_field.options)
    if isinstance(entry, list):
        return ", ".join(labels.get(e, str(e)) for e in entry)
    return labels.get(entry, str(entry))


def render_view(
    view: Mapping[str, Any],
    *,
    entries: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    first_number: int = 1,
    names: Mapping[str, str] | None = None,
    style: Style | None = None,
) -> Rendered:
    """A modal as a form: title, its non-input blocks, numbered inputs `(1) Label*: current value`
    (with `errors` shown under their field), then the Submit/Close labels."""
    style = style or Style()
    renderer = _Renderer(names or {}, style, first_number)
    fields = {f.block_id: f for f in form_fields(view, names=names)}
    title = renderer.text_object(view.get("title"))
    lines = [f"┌─ {style.bold(title)} " + "─" * max(4, 36 - len(title))]
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id") in fields:
            f = fields[block["block_id"]]
            entry = (entries or {}).get(f.block_id, f.initial)
            mark = "" if f.optional else "*"
            lines.append(f"│ ({f.number}) {f.label}{mark}: {describe_entry(f, entry)}".rstrip())
            if f.options:
                lines.append(
                    "│     options: " + "  ".join(f"{i}) {label}" for i, (label, _) in enumerate(f.options, 1))
                )
            if f.hint:
                lines.append("│     " + style.dim(f.hint))
            if errors and f.block_id in errors:
                lines.append(f"│     ⚠ {errors[f.block_id]}")
        else:
            lines.extend("│ " + line for line in renderer.block(block))
    buttons = [renderer.text_object(view.get(k)) for k in ("submit", "close") if view.get(k)]
    lines.append("└─ " + "  ".join(f"[{b}]" for b in buttons))
    return Rendered("\n".join(lines), tuple(renderer.clickables))
