"""Which Block Kit payloads Slack refuses: the limits a CRM bot can hit (docs/reference/slack.md §3, §5).

Each check returns Slack-style problem lines (`[ERROR] … [json-pointer:/blocks/0/text/text]`); an empty list
means the payload is accepted. Only the limits that matter for our bot are checked, not the whole schema.
"""

from __future__ import annotations

import json
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_BYTES = 250_000

_TEXT_TYPES = ("plain_text", "mrkdwn")
_KNOWN_BLOCKS = {
    "section", "header", "divider", "context", "actions", "image", "input", "rich_text", "file", "video",
    "markdown",
}  # fmt: skip


def _too_long(value: Any, limit: int, pointer: str) -> list[str]:
    if isinstance(value, str) and len(value) > limit:
        return [f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}]"]
    return []


def _text_object(obj: Any, limit: int, pointer: str, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in _TEXT_TYPES or not isinstance(obj.get("text"), str):
        return [f"[ERROR] must provide an object with a text [json-pointer:{pointer}]"]
    if plain_only and obj["type"] != "plain_text":
        return [f"[ERROR] must be a plain_text object [json-pointer:{pointer}]"]
    return _too_long(obj["text"], limit, f"{pointer}/text")


def _element(el: Any, pointer: str) -> list[str]:
    if not isinstance(el, dict) or not isinstance(el.get("type"), str):
        return [f"[ERROR] missing required field: type [json-pointer:{pointer}]"]
    problems = _too_long(el.get("action_id"), 255, f"{pointer}/action_id")
    kind = el["type"]
    if kind == "button":
        problems += _text_object(el.get("text"), 75, f"{pointer}/text", plain_only=True)
        problems += _too_long(el.get("value"), 2000, f"{pointer}/value")
        problems += _too_long(el.get("url"), 3000, f"{pointer}/url")
        if el.get("style") not in (None, "primary", "danger"):
            problems.append(f"[ERROR] must be one of primary, danger [json-pointer:{pointer}/style]")
    elif kind in ("static_select", "overflow", "radio_buttons", "checkboxes", "multi_static_select"):
        options = el.get("options")
        if not isinstance(options, list) or not options:
            problems.append(f"[ERROR] must provide options [json-pointer:{pointer}/options]")
        else:
            limit = 5 if kind == "overflow" else 100
            if len(options) > limit:
                problems.append(f"[ERROR] must be less than {limit + 1} items [json-pointer:{pointer}/options]")
            for i, option in enumerate(options):
                opt_ptr = f"{pointer}/options/{i}"
                problems += _text_object((option or {}).get("text"), 75, f"{opt_ptr}/text")
                problems += _too_long((option or {}).get("value"), 150, f"{opt_ptr}/value")
    elif kind == "number_input" and "is_decimal_allowed" not in el:
        problems.append(f"[ERROR] missing required field: is_decimal_allowed [json-pointer:{pointer}]")
    elif kind == "plain_text_input":
        max_length = el.get("max_length")
        if isinstance(max_length, int) and max_length > 3000:
            problems.append(f"[ERROR] must be less than 3001 [json-pointer:{pointer}/max_length]")
    if "placeholder" in el:
        problems += _text_object(el["placeholder"], 150, f"{pointer}/placeholder", plain_only=True)
    if isinstance(el.get("confirm"), dict):
        confirm, at = el["confirm"], f"{pointer}/confirm"
        problems += _text_object(confirm.get("title"), 100, f"{at}/title", plain_only=True)
        problems += _text_object(confirm.get("text"), 300, f"{at}/text")
        problems += _text_object(confirm.get("confirm"), 30, f"{at}/confirm", plain_only=True)
        problems += _text_object(confirm.get("deny"), 30, f"{at}/deny", plain_only=True)
    return problems


def _block(block: Any, pointer: str, *, in_view: bool) -> list[str]:
    if not isinstance(block, dict) or block.get("type") not in _KNOWN_BLOCKS:
        return [f"[ERROR] unsupported type [json-pointer:{pointer}/type]"]
    problems = _too_long(block.get("block_id"), 255, f"{pointer}/block_id")
    kind = block["type"]
    if kind == "section":
        if "text" not in block and "fields" not in block:
            problems.append(f"[ERROR] must provide text or fields [json-pointer:{pointer}]")
        if "text" in block:
            problems += _text_object(block["text"], 3000, f"{pointer}/text")
        fields = block.get("fields") or []
        if len(fields) > 10:
            problems.append(f"[ERROR] must be less than 11 items [json-pointer:{pointer}/fields]")
        for i, f in enumerate(fields):
            problems += _text_object(f, 2000, f"{pointer}/fields/{i}")
        if "accessory" in block:
            problems += _element(block["accessory"], f"{pointer}/accessory")
    elif kind == "header":
        problems += _text_object(block.get("text"), 150, f"{pointer}/text", plain_only=True)
    elif kind in ("actions", "context"):
        elements = block.get("elements")
        limit = 25 if kind == "actions" else 10
        if not isinstance(elements, list) or not elements:
            problems.append(f"[ERROR] must provide elements [json-pointer:{pointer}/elements]")
        elif len(elements) > limit:
            problems.append(f"[ERROR] must be less than {limit + 1} items [json-pointer:{pointer}/elements]")
        elif kind == "actions":
            for i, el in enumerate(elements):
                problems += _element(el, f"{pointer}/elements/{i}")
            ids = [el.get("action_id") for el in elements if isinstance(el, dict) and el.get("action_id")]
            if len(ids) != len(set(ids)):
                problems.append(f"[ERROR] action_id must be unique within a block [json-pointer:{pointer}]")
    elif kind == "input":
        if not in_view:
            problems.append(f"[ERROR] input blocks are only allowed in views [json-pointer:{pointer}]")
        problems += _text_object(block.get("label"), 2000, f"{pointer}/label", plain_only=True)
        if "hint" in block:
            problems += _text_object(block["hint"], 2000, f"{pointer}/hint", plain_only=True)
        problems += _element(block.get("element"), f"{pointer}/element")
    return problems


def _blocks(blocks: Any, limit: int, *, in_view: bool, pointer: str) -> list[str]:
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{pointer}]"]
    if len(blocks) > limit:
        return [f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]"]
    problems: list[str] = []
    for i, block in enumerate(blocks):
        problems += _block(block, f"{pointer}/{i}", in_view=in_view)
    ids = [b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("block_id")]
    if len(ids) != len(set(ids)):
        problems.append(f"[ERROR] block_id must be unique [json-pointer:{pointer}]")
    return problems


def message_block_problems(blocks: Any) -> list[str]:
    """Why Slack would answer `invalid_blocks` for these message blocks (empty: accepted)."""
    return _blocks(blocks, MAX_MESSAGE_BLOCKS, in_view=False, pointer="/blocks")


def view_problems(view: Any, *, surface: str = "modal") -> list[str]:
    """Why Slack would answer `invalid_arguments` for this view (empty: accepted).

    Checks type, title/submit/close (≤24, plain_text), 1..100 blocks, private_metadata ≤3000,
    callback_id/external_id ≤255, submit present when there is an input block, and the block limits.
    """
    if not isinstance(view, dict):
        return ["[ERROR] must be an object [json-pointer:/view]"]
    if view.get("type") != surface:
        return [f"[ERROR] must be {surface} [json-pointer:/view/type]"]
    problems: list[str] = []
    if surface == "modal":
        problems += _text_object(view.get("title"), 24, "/view/title", plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                problems += _text_object(view[key], 24, f"/view/{key}", plain_only=True)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and "submit" not in view:
            problems.append("[ERROR] submit is required when an input block is present [json-pointer:/view]")
    blocks = view.get("blocks")
    if isinstance(blocks, list) and not blocks:
        problems.append("[ERROR] must provide at least 1 item [json-pointer:/view/blocks]")
    problems += _blocks(blocks, MAX_VIEW_BLOCKS, in_view=True, pointer="/view/blocks")
    problems += _too_long(view.get("private_metadata"), 3000, "/view/private_metadata")
    problems += _too_long(view.get("callback_id"), 255, "/view/callback_id")
    problems += _too_long(view.get("external_id"), 255, "/view/external_id")
    return problems


def view_too_large(view: Any) -> bool:
    """True when the view's JSON exceeds Slack's 250 kB payload limit (`view_too_large`)."""
    return len(json.dumps(view, ensure_ascii=False).encode()) > MAX_VIEW_BYTES
