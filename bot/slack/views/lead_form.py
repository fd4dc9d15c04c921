"""The Lead form (a Slack modal) for `/lead create` and `/lead edit <id>`: building it from the org's fields,
reading it back, and turning problems into the errors Slack shows under each field.

Each field is an input block with block_id `lead_<API name>` (e.g. `lead_Last_Name`) and action_id `value`; its
element follows the field's kind (bot.slack.views.form_inputs) and which fields are shown, in what order and on
how many pages, follows the org's layout (bot.slack.views.form_pages). A stored value longer than a Slack input
holds (3000 characters, e.g. a long Description) is not put in the form at all: the form says so, and saving the
form leaves that field untouched, so nothing is ever cut short.

A form of several pages turns them with "More fields" / "Back" (views.update). What was typed on the pages not
shown travels in `private_metadata` (`FormContext.carried`): creating, every value filled in; editing, every
change ("" = cleared). When that no longer fits in Slack's 3000 characters, the page is not turned and says so,
and nothing typed is lost.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from bot.leads import fields
from bot.leads.fields import FieldKind, LeadField, OrgFields
from bot.leads.model import Lead
from bot.slack.text import escape, truncate
from bot.slack.views.form_context import FormContext, TooMuchToCarry
from bot.slack.views.form_inputs import (
    ACTION_ID,
    INPUT_MAX_LENGTH,
    initial_text,
    input_element,
    menu_choices,
    plain,
    state_text,
)
from bot.slack.views.form_pages import FieldGroup, FormPage, form_pages

log = logging.getLogger(__name__)

CREATE_CALLBACK_ID = "lead_create"
EDIT_CALLBACK_ID = "lead_edit"
FORM_PAGE_BACK = "lead_form_back"
FORM_PAGE_MORE = "lead_form_more"
FORM_AGAIN = "lead_form_again"
BUTTON_VALUE_MAX = 2000  # Slack's most for a button's value
BLOCK_ID_PREFIX = "lead_"
ERROR_MESSAGE_MAX = 300
LABEL_MAX = 2000
HEADER_MAX = 150


def block_id_for(api_name: str) -> str:
    """The input block of a field: `lead_Last_Name` for `Last_Name`."""
    return BLOCK_ID_PREFIX + api_name


_PLACEHOLDERS = {
    "Last_Name": "Doe",
    "First_Name": "Jane",
    "Company": "Acme Inc",
    "Email": "jane@acme.com",
    "Phone": "+1 555 0100",
    "Mobile": "+1 555 0101",
    "Website": "https://acme.com",
}


def _too_long_note(lead_field: LeadField, length: int, lead_id: str) -> dict[str, Any]:
    key = lead_field.key or lead_field.api_name
    text = (
        f"{lead_field.label} has {length:,} characters, more than this form can show; it is left as it is. "
        f'To change it, type `/lead edit {escape(lead_id)} {key}="…"`.'
    )
    return {
        "type": "context",
        "block_id": f"lead_note_{lead_field.api_name}",
        "elements": [{"type": "mrkdwn", "text": truncate(text, 3000), "verbatim": True}],
    }


def _hint(lead_field: LeadField) -> str:
    """A picklist too long for a menu is typed: the hint says so and shows the first values."""
    if lead_field.kind not in (FieldKind.PICKLIST, FieldKind.MULTISELECT) or not lead_field.choices:
        return ""
    if menu_choices(lead_field):
        return ""
    several = " (several: separate them with ;)" if lead_field.kind is FieldKind.MULTISELECT else ""
    sample = ", ".join(lead_field.choices[:5])
    return truncate(f"Type one of the {len(lead_field.choices)} values of your org{several}, e.g. {sample}", 2000)


def _input_block(lead_field: LeadField, initial: str) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id_for(lead_field.api_name),
        "label": plain(truncate(lead_field.label, LABEL_MAX)),
        "element": input_element(lead_field, initial, _PLACEHOLDERS.get(lead_field.api_name, "")),
        "optional": not lead_field.required,
    }
    hint = _hint(lead_field)
    if hint:
        block["hint"] = plain(hint)
    return block


def _group_blocks(group: FieldGroup, index: int, initial: Mapping[str, str], lead_id: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if group.heading:
        blocks.append(
            {"type": "header", "block_id": f"lead_group_{index}", "text": plain(truncate(group.heading, HEADER_MAX))}
        )
    for lead_field in group.fields:
        value = initial.get(lead_field.api_name, "")
        if len(value) > INPUT_MAX_LENGTH:
            blocks.append(_too_long_note(lead_field, len(value), lead_id))
        else:
            blocks.append(_input_block(lead_field, value))
    return blocks


def _page_turner(page: int, pages: int) -> list[dict[str, Any]]:
    buttons = []
    if page > 0:
        buttons.append({"type": "button", "action_id": FORM_PAGE_BACK, "text": plain("‹ Back"), "value": str(page - 1)})
    if page < pages - 1:
        buttons.append(
            {
                "type": "button",
                "action_id": FORM_PAGE_MORE,
                "text": plain("More fields ›"),
                "value": str(page + 1),
            }
        )
    line = f"Page {page + 1} of {pages}. What you type on each page is kept; save from any page."
    return [
        {"type": "context", "block_id": "lead_pages", "elements": [{"type": "mrkdwn", "text": escape(line)}]},
        {"type": "actions", "block_id": "lead_page_turn", "elements": buttons},
    ]


def initial_values(
    context: FormContext, lead: Lead | None = None, prefill: Mapping[str, str] | None = None
) -> dict[str, str]:
    """{API name: text} the form starts from: the Lead (editing) or `prefill` (creating), with what was typed on
    other pages (`context.carried`) over it."""
    start = dict(lead.values) if lead is not None else dict(prefill or {})
    return start | dict(context.carried)


def _metadata(context: FormContext, pages: Sequence[FormPage], prefill: Mapping[str, str] | None) -> str:
    """The form's private_metadata. Values a create form starts from (`prefill`) for fields on other pages are
    carried there too, when they fit (they were found in a message, not typed: the form opens regardless)."""
    shown = {f.api_name for f in pages[context.page].fields}
    elsewhere = {f.api_name for p in pages for f in p.fields} - shown
    prefilled = {name: value for name, value in (prefill or {}).items() if name in elsewhere and value}
    if prefilled:
        try:
            return replace(context, carried=prefilled | dict(context.carried)).encode()
        except TooMuchToCarry:
            log.info("values found for the form's other pages are too long to carry: left out")
    return context.encode()


def lead_form_view(
    context: FormContext,
    lead: Lead | None = None,
    *,
    prefill: Mapping[str, str] | None = None,
    org: OrgFields | None = None,
) -> dict[str, Any]:
    """The `view` for views.open / views.update: the create form (lead None; `prefill`: values to start from,
    {API name: text}) or the edit form pre-filled from `lead`, built from the org's fields (`org`; the standard
    ones when None), showing the page `context.page`. Raises TooMuchToCarry when the values carried from the
    other pages do not fit in private_metadata."""
    editing = lead is not None
    pages = form_pages(org or OrgFields.standard())
    page = min(context.page, len(pages) - 1)
    initial = initial_values(context, lead, prefill)
    required = {f.api_name: f.label for p in pages for f in p.fields if f.required} if len(pages) > 1 else {}
    blocks: list[dict[str, Any]] = []
    for index, group in enumerate(pages[page].groups):
        blocks += _group_blocks(group, index, initial, lead.id if lead else "")
    if len(pages) > 1:
        blocks += _page_turner(page, len(pages))
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK_ID if editing else CREATE_CALLBACK_ID,
        "title": plain("Edit Lead" if editing else "New Lead"),
        "submit": plain("Save" if editing else "Create"),
        "close": plain("Cancel"),
        "private_metadata": _metadata(replace(context, page=page, required=required), pages, prefill),
        "blocks": blocks,
    }


_API_NAME = re.compile(r"[A-Z][A-Za-z0-9_]*\Z")  # `Last_Name`, `Region__c`, `Tier2`


def _api_name_of(block_id: Any) -> str | None:
    if not isinstance(block_id, str) or not block_id.startswith(BLOCK_ID_PREFIX):
        return None
    name = block_id[len(BLOCK_ID_PREFIX) :]
    return name if _API_NAME.match(name) else None


def parse_modal_state(state_values: Any) -> dict[str, str]:
    """{API name: canonical text} from a view_submission's `view.state.values`, for every field the form showed,
    each read by its element type (bot.slack.views.form_inputs.state_text).

    An emptied field gives "" and surrounding spaces are dropped. Blocks that are not Lead fields are ignored,
    and so is anything malformed: this never raises.
    """
    submitted: dict[str, str] = {}
    if not isinstance(state_values, Mapping):
        return submitted
    for block_id, actions in state_values.items():
        api_name = _api_name_of(block_id)
        if api_name is None or not isinstance(actions, Mapping):
            continue
        submitted[api_name] = state_text(actions.get(ACTION_ID))
    return submitted


def shown_inputs(view: Any) -> dict[str, dict[str, Any]]:
    """{API name: input block} of the fields a view shows, in order. Never raises."""
    shown: dict[str, dict[str, Any]] = {}
    blocks = view.get("blocks") if isinstance(view, Mapping) else None
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict) and block.get("type") == "input":
            api_name = _api_name_of(block.get("block_id"))
            if api_name is not None:
                shown[api_name] = block
    return shown


def form_initial_values(view: Any) -> dict[str, str]:
    """{API name: value} as the form showed them when it opened (each input's initial value, else "").

    Slack sends the whole view back with a submission, so an edit can write only what the person changed,
    whatever happened to the Lead in Zoho meanwhile. Never raises.
    """
    return {name: initial_text(block.get("element")) for name, block in shown_inputs(view).items()}


def changed_values(submitted: Mapping[str, str], shown: Mapping[str, str]) -> dict[str, str]:
    """The fields the person changed in an edit form ("" meaning "clear this field")."""
    return {name: value for name, value in submitted.items() if value != shown.get(name, "")}


def values_to_save(submitted: Mapping[str, str], original: Lead | None = None) -> dict[str, str]:
    """What a submitted form asks to write: when creating, the filled-in fields; when editing `original`,
    only the fields that changed, "" meaning "clear this field"."""
    if original is None:
        return {name: value for name, value in submitted.items() if value}
    return {name: value for name, value in submitted.items() if value != original.get(name)}


def form_values(view: Any, context: FormContext, *, editing: bool) -> dict[str, str]:
    """Everything the form asks to write so far, across its pages: what was carried from the other pages, with
    this page's inputs over it (creating: the fields filled in; editing: the fields changed, "" = clear)."""
    state = view.get("state") if isinstance(view, Mapping) else None
    submitted = parse_modal_state(state.get("values") if isinstance(state, Mapping) else None)
    values = dict(context.carried)
    if editing:
        values.update(changed_values(submitted, form_initial_values(view)))
        return values
    for name, value in submitted.items():
        if value:
            values[name] = value
        else:
            values.pop(name, None)
    return values


def missing_required(
    values: Mapping[str, str], context: FormContext, shown: Sequence[str], *, editing: bool
) -> dict[str, str]:
    """{API name: message} for each required field on another page that is left empty (creating) or was
    emptied (editing): Slack only checks the page that is submitted."""
    missing: dict[str, str] = {}
    for api_name, label in context.required.items():
        if api_name in shown:
            continue
        empty = values.get(api_name) == "" if editing else not values.get(api_name)
        if empty:
            missing[api_name] = f"{label} is required: fill it in on the form's first page"
    return missing


def form_errors_response(errors: Mapping[str, str], shown: Sequence[str] | None = None) -> dict[str, Any]:
    """The view_submission answer that keeps the form open and shows each message under its field.

    `shown`: the API names of the fields on the page submitted (the standard form's when None). A problem with
    a field the page does not show (on another page, or a custom field Zoho rejected) is shown under the first
    field, naming it.
    """
    on_page = list(shown or ()) or [f.api_name for f in fields.FIELDS]
    by_block: dict[str, str] = {}
    for api_name, message in errors.items():
        target = api_name if api_name in on_page else on_page[0]
        block_id = block_id_for(target)
        previous = by_block.get(block_id)
        by_block[block_id] = truncate(f"{previous} / {message}" if previous else message, ERROR_MESSAGE_MAX)
    return {"response_action": "errors", "errors": by_block}


def form_again_block(lead_id: str | None, values: Mapping[str, str]) -> dict[str, Any] | None:
    """Under a message saying why a form's Lead was not saved: a button that opens the form again as it was sent
    (`values`: creating, every value filled in; editing, the changes), or None when they do not fit in its value."""
    try:
        value = FormContext(lead_id=lead_id, carried=dict(values)).encode()
    except TooMuchToCarry:
        return None
    if len(value) > BUTTON_VALUE_MAX:
        return None
    button = {"type": "button", "action_id": FORM_AGAIN, "text": plain("Open the form again"), "value": value}
    return {"type": "actions", "block_id": "lead_form_again", "elements": [button]}
