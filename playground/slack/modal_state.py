"""What a submitted modal carries: `view.state.values` built from what the user entered, and the checks
Slack's client makes before it sends anything (required fields, email/URL/number format, lengths).

State value shapes per docs/reference/slack.md §3: text inputs `{"type", "value": str|None}` (number_input too,
as a string), selects `{"type", "selected_option": {...}|None}`. Client error wording is a best guess ⚠.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

TEXT_INPUTS = ("plain_text_input", "email_text_input", "url_text_input", "number_input")
SINGLE_SELECTS = ("static_select", "radio_buttons", "external_select")
MULTI_SELECTS = ("multi_static_select", "checkboxes")
_SCALAR_KEYS = {
    "datepicker": ("selected_date", "initial_date"),
    "datetimepicker": ("selected_date_time", "initial_date_time"),
    "timepicker": ("selected_time", "initial_time"),
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#].[^\s]*$", re.IGNORECASE)


def input_blocks(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The view's input blocks, in order (each has a `block_id` and an `element` with an `action_id`)."""
    return [b for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "input"]


def element_options(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    """All options of a select-like element, option groups flattened."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def initial_entry(element: Mapping[str, Any]) -> Any:
    """What the field holds before the user touches it (the value form `state_values` accepts)."""
    kind = element.get("type")
    if kind in TEXT_INPUTS:
        return element.get("initial_value")
    if kind in SINGLE_SELECTS:
        option = element.get("initial_option")
        return option.get("value") if isinstance(option, dict) else None
    if kind in MULTI_SELECTS:
        return [o.get("value") for o in element.get("initial_options") or []]
    if kind in _SCALAR_KEYS:
        return element.get(_SCALAR_KEYS[kind][1])
    return None


def _find_option(element: Mapping[str, Any], wanted: Any) -> dict[str, Any]:
    if isinstance(wanted, dict):
        return wanted
    for option in element_options(element):
        if option.get("value") == wanted:
            return option
    raise ValueError(f"no option with value {wanted!r} in {element.get('action_id')!r}")


def _is_empty(entry: Any) -> bool:
    return entry is None or entry == "" or entry == []


def _client_error(element: Mapping[str, Any], entry: Any) -> str | None:
    kind = element.get("type")
    if not isinstance(entry, str) or kind not in TEXT_INPUTS:
        return None
    if kind == "email_text_input" and not _EMAIL.match(entry):
        return "Please enter a valid email address."
    if kind == "url_text_input" and not _URL.match(entry):
        return "Please enter a valid URL."
    if kind == "number_input":
        try:
            number = Decimal(entry)
        except InvalidOperation:
            return "Please enter a number."
        if not element.get("is_decimal_allowed") and number != number.to_integral_value():
            return "Please enter a whole number."
        if element.get("min_value") is not None and number < Decimal(str(element["min_value"])):
            return f"Please enter a number of at least {element['min_value']}."
        if element.get("max_value") is not None and number > Decimal(str(element["max_value"])):
            return f"Please enter a number of at most {element['max_value']}."
    if kind == "plain_text_input":
        if element.get("min_length") and len(entry) < int(element["min_length"]):
            return f"Please enter at least {element['min_length']} characters."
        if element.get("max_length") and len(entry) > int(element["max_length"]):
            return f"Please enter no more than {element['max_length']} characters."
    return None


def _state_entry(element: Mapping[str, Any], entry: Any) -> dict[str, Any]:
    kind = str(element.get("type"))
    if kind in TEXT_INPUTS:
        return {"type": kind, "value": None if _is_empty(entry) else str(entry)}
    if kind in SINGLE_SELECTS:
        return {"type": kind, "selected_option": None if _is_empty(entry) else _find_option(element, entry)}
    if kind in MULTI_SELECTS:
        return {"type": kind, "selected_options": [_find_option(element, e) for e in entry or []]}
    if kind in _SCALAR_KEYS:
        return {"type": kind, _SCALAR_KEYS[kind][0]: entry}
    return {"type": kind, "value": entry}


def _entry_for(block: Mapping[str, Any], values: Mapping[str, Any]) -> Any:
    element = block["element"]
    if block["block_id"] not in values:
        return initial_entry(element)
    given = values[block["block_id"]]
    if isinstance(given, Mapping) and not ("value" in given and "text" in given):
        if element.get("action_id") not in given:
            raise ValueError(f"block {block['block_id']!r} has no element {list(given)!r}")
        return given[element["action_id"]]
    return given


def state_values(view: Mapping[str, Any], values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(`state.values`, client errors by block_id) for a submission of `view` with `values`.

    `values` maps block_id → {action_id: entry} or block_id → entry; blocks left out keep their initial
    value. An entry is text for text inputs (also number_input), an option value for selects, a list of
    values for multi-selects. Raises ValueError for a block_id, action_id or option the view does not have.
    """
    blocks = input_blocks(view)
    known = {b["block_id"] for b in blocks}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"the view has no input block {sorted(unknown)!r} (it has {sorted(known)!r})")
    state: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for block in blocks:
        element = block["element"]
        entry = _entry_for(block, values)
        if _is_empty(entry):
            if not block.get("optional", False):
                errors[block["block_id"]] = "Please fill out this field."
        else:
            problem = _client_error(element, entry)
            if problem:
                errors[block["block_id"]] = problem
        state[block["block_id"]] = {element["action_id"]: _state_entry(element, entry)}
    return state, errors
