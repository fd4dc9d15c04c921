"""The Lead form (a Slack modal) for `/lead create` and `/lead edit <id>`: building it, reading it back, and
turning problems into the errors Slack shows under each field.

Each field is an input block with block_id `lead_<API name>` (e.g. `lead_Last_Name`) and action_id `value`.
Email uses `email_text_input`, except when editing a Lead whose stored value that input would refuse to show;
then a plain input shows it as it is. Website is a plain input (Slack's URL input refuses `acme.com`). A stored
value longer than a Slack input holds (3000 characters, e.g. a long Description) is not put in the form at all:
the form says so, and saving the form leaves that field untouched, so nothing is ever cut short.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.leads import fields
from bot.leads.fields import FieldKind, LeadField
from bot.leads.model import Lead
from bot.leads.validation import check_value
from bot.slack.text import escape, truncate

CREATE_CALLBACK_ID = "lead_create"
EDIT_CALLBACK_ID = "lead_edit"
ACTION_ID = "value"
BLOCK_ID_PREFIX = "lead_"
PRIVATE_METADATA_MAX = 3000
INPUT_MAX_LENGTH = 3000
ERROR_MESSAGE_MAX = 300


def block_id_for(api_name: str) -> str:
    """The input block of a field: `lead_Last_Name` for `Last_Name`."""
    return BLOCK_ID_PREFIX + api_name


@dataclass(frozen=True)
class FormContext:
    """What the form carries through Slack in `private_metadata`: the Lead being edited (None when creating)
    and where to say the result (the channel and response_url of the command that opened it)."""

    lead_id: str | None = None
    channel_id: str | None = None
    response_url: str | None = None

    def encode(self) -> str:
        """Compact JSON of at most 3000 characters; if it would be longer, the response_url and then the
        channel are left out (the lead id always fits: it is a Zoho record id)."""
        data = {"l": self.lead_id, "c": self.channel_id, "r": self.response_url}
        for drop in ((), ("r",), ("r", "c")):
            kept = {k: v for k, v in data.items() if v is not None and k not in drop}
            encoded = json.dumps(kept, separators=(",", ":"))
            if len(encoded) <= PRIVATE_METADATA_MAX:
                return encoded
        raise ValueError("lead id too long for private_metadata")

    @classmethod
    def decode(cls, private_metadata: str) -> FormContext:
        """The context in a view's private_metadata; anything we did not write gives an empty context."""
        try:
            data = json.loads(private_metadata or "{}")
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        return cls(lead_id=text("l"), channel_id=text("c"), response_url=text("r"))


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


_PLACEHOLDERS = {
    "Last_Name": "Doe",
    "First_Name": "Jane",
    "Company": "Acme Inc",
    "Email": "jane@acme.com",
    "Phone": "+1 555 0100",
    "Mobile": "+1 555 0101",
    "Website": "https://acme.com",
}


def _element(field: LeadField, initial: str) -> dict[str, Any]:
    # Websites are plain text: Slack's URL input refuses `acme.com`, which Zoho and /lead create accept.
    element: dict[str, Any]
    kind = field.kind
    if kind is FieldKind.EMAIL and (not initial or check_value(field.api_name, initial) is None):
        element = {"type": "email_text_input"}
    else:
        max_length = min(INPUT_MAX_LENGTH, max(field.max_length, len(initial)))
        element = {"type": "plain_text_input", "max_length": max_length}
        if field.multiline:
            element["multiline"] = True
    element["action_id"] = ACTION_ID
    if initial:
        element["initial_value"] = initial
    placeholder = _PLACEHOLDERS.get(field.api_name)
    if placeholder:
        element["placeholder"] = _plain(placeholder)
    return element


def _too_long_note(field: LeadField, length: int, lead_id: str) -> dict[str, Any]:
    key = field.key or field.api_name
    text = (
        f"{field.label} has {length:,} characters, more than this form can show; it is left as it is. "
        f'To change it, type `/lead edit {escape(lead_id)} {key}="…"`.'
    )
    return {
        "type": "context",
        "block_id": f"lead_note_{field.api_name}",
        "elements": [{"type": "mrkdwn", "text": truncate(text, 3000), "verbatim": True}],
    }


def lead_form_view(
    context: FormContext, lead: Lead | None = None, *, prefill: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The `view` for views.open: the create form (lead None; `prefill`: values to start from, {API name: text})
    or the edit form pre-filled from `lead`."""
    editing = lead is not None
    blocks: list[dict[str, Any]] = []
    for field in fields.FIELDS:
        initial = lead.get(field.api_name) if lead else (prefill or {}).get(field.api_name, "")
        if len(initial) > INPUT_MAX_LENGTH:
            blocks.append(_too_long_note(field, len(initial), lead.id if lead else ""))
            continue
        blocks.append(
            {
                "type": "input",
                "block_id": block_id_for(field.api_name),
                "label": _plain(field.label),
                "element": _element(field, initial),
                "optional": field.api_name != "Last_Name",
            }
        )
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK_ID if editing else CREATE_CALLBACK_ID,
        "title": _plain("Edit Lead" if editing else "New Lead"),
        "submit": _plain("Save" if editing else "Create"),
        "close": _plain("Cancel"),
        "private_metadata": context.encode(),
        "blocks": blocks,
    }


def parse_modal_state(state_values: Any) -> dict[str, str]:
    """{API name: value} from a view_submission's `view.state.values`, for every field the form showed.

    An emptied field gives "" and surrounding spaces are dropped. Blocks that are not Lead fields are ignored,
    and so is anything malformed: this never raises.
    """
    known = {block_id_for(f.api_name): f.api_name for f in fields.FIELDS}
    submitted: dict[str, str] = {}
    if not isinstance(state_values, Mapping):
        return submitted
    for block_id, actions in state_values.items():
        api_name = known.get(block_id) if isinstance(block_id, str) else None
        if api_name is None or not isinstance(actions, Mapping):
            continue
        state = actions.get(ACTION_ID)
        if not isinstance(state, Mapping):
            continue
        value = state.get("value")
        submitted[api_name] = value.strip() if isinstance(value, str) else ""
    return submitted


def form_initial_values(view: Any) -> dict[str, str]:
    """{API name: value} as the form showed them when it opened (each input's `initial_value`, else "").

    Slack sends the whole view back with a submission, so an edit can write only what the person changed,
    whatever happened to the Lead in Zoho meanwhile. Never raises.
    """
    known = {block_id_for(f.api_name): f.api_name for f in fields.FIELDS}
    shown: dict[str, str] = {}
    blocks = view.get("blocks") if isinstance(view, Mapping) else None
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Mapping) or block.get("type") != "input":
            continue
        api_name = known.get(block.get("block_id")) if isinstance(block.get("block_id"), str) else None
        element = block.get("element")
        if api_name is None or not isinstance(element, Mapping):
            continue
        initial = element.get("initial_value")
        shown[api_name] = initial.strip() if isinstance(initial, str) else ""
    return shown


def changed_values(submitted: Mapping[str, str], shown: Mapping[str, str]) -> dict[str, str]:
    """The fields the person changed in an edit form ("" meaning "clear this field")."""
    return {name: value for name, value in submitted.items() if value != shown.get(name, "")}


def values_to_save(submitted: Mapping[str, str], original: Lead | None = None) -> dict[str, str]:
    """What a submitted form asks to write: when creating, the filled-in fields; when editing `original`,
    only the fields that changed, "" meaning "clear this field"."""
    if original is None:
        return {name: value for name, value in submitted.items() if value}
    return {name: value for name, value in submitted.items() if value != original.get(name)}


def form_errors_response(errors: Mapping[str, str]) -> dict[str, Any]:
    """The view_submission answer that keeps the form open and shows each message under its field.

    A problem with a field the form does not show (e.g. a custom field Zoho rejected) is shown under the
    first field, naming it.
    """
    shown = {f.api_name for f in fields.FIELDS}
    by_block: dict[str, str] = {}
    for api_name, message in errors.items():
        if api_name in shown:
            block_id, text = block_id_for(api_name), message
        else:
            block_id, text = block_id_for(fields.FIELDS[0].api_name), message
        previous = by_block.get(block_id)
        by_block[block_id] = truncate(f"{previous} / {text}" if previous else text, ERROR_MESSAGE_MAX)
    return {"response_action": "errors", "errors": by_block}
