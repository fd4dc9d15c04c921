"""bot.slack.views.form_inputs: a field as an input element, and a submitted element read back as canonical text."""

from __future__ import annotations

from typing import Any

import pytest

from bot.leads.fields import FieldKind, LeadField
from bot.slack.views.form_inputs import initial_text, input_element, state_text
from playground.slack.block_limits import view_problems
from playground.slack.modal_state import state_values

K = FieldKind


def field(kind: FieldKind, choices: tuple[str, ...] = ()) -> LeadField:
    return LeadField("X__c", "X", kind, 255, custom=True, choices=choices)


def modal(element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    """A form with one input, block `b`, holding `element`."""
    block = {"type": "input", "block_id": "b", "label": {"type": "plain_text", "text": "X"}, "element": element}
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "t"},
        "submit": {"type": "plain_text", "text": "s"},
        "blocks": [block | ({"optional": True} if optional else {})],
    }


def untouched_state(element: dict[str, Any]) -> dict[str, Any]:
    """The state Slack sends for `element` when the person left it as it was shown."""
    view = modal(element)
    assert view_problems(view) == []
    values, _ = state_values(view, {})
    return values["b"]["value"]


SHOWN = {
    "picklist": (field(K.PICKLIST, ("A", "B")), "B"),
    "stale picklist value": (field(K.PICKLIST, ("A", "B")), "Gone"),
    "multi-select": (field(K.MULTISELECT, ("A", "B", "C")), "C;A"),
    "date": (field(K.DATE), "2026-12-24"),
    "date-time with an offset": (field(K.DATETIME), "2026-12-24T16:00:00+01:00"),
    "currency": (field(K.CURRENCY), "900.00"),
    "integer": (field(K.INTEGER), "12"),
    "boolean": (field(K.BOOLEAN), "false"),
    "e-mail": (field(K.EMAIL), "jane@acme.test"),
    "text": (field(K.TEXT), "Oslo"),
    "empty date": (field(K.DATE), ""),
    "empty menu": (field(K.PICKLIST, ("A",)), ""),
}


@pytest.mark.parametrize(("lead_field", "stored"), SHOWN.values(), ids=SHOWN.keys())
def test_a_field_left_alone_reads_back_as_it_was_shown(lead_field: LeadField, stored: str) -> None:
    """What makes an edit form write only what the person changed."""
    element = input_element(lead_field, stored)
    assert state_text(untouched_state(element)) == initial_text(element)
    assert bool(initial_text(element)) == bool(stored)


CANNOT_SHOW = {
    "text in a number field": (field(K.CURRENCY), "n/a"),
    "a word in a boolean field": (field(K.BOOLEAN), "maybe"),
    "text in a date field": (field(K.DATE), "someday"),
    "text in a date-time field": (field(K.DATETIME), "soon"),
    "a stored e-mail Slack would refuse": (field(K.EMAIL), "not-an-email"),
}


@pytest.mark.parametrize(("lead_field", "stored"), CANNOT_SHOW.values(), ids=CANNOT_SHOW.keys())
def test_a_stored_value_the_element_cannot_hold_is_shown_as_text(lead_field: LeadField, stored: str) -> None:
    element = input_element(lead_field, stored)
    assert element["type"] == "plain_text_input" and element["initial_value"] == stored


def test_a_date_time_is_read_back_in_utc_with_its_offset() -> None:
    state = {"type": "datetimepicker", "selected_date_time": 1798124400}
    assert state_text(state) == "2026-12-24T15:00:00+00:00"


@pytest.mark.parametrize(
    "state",
    [
        None,
        "text",
        {"type": "datetimepicker", "selected_date_time": "soon"},
        {"type": "datetimepicker", "selected_date_time": True},
        {"type": "static_select", "selected_option": "A"},
        {"type": "multi_static_select", "selected_options": [None, {"value": 3}, {"value": "B"}]},
        {"type": "number_input", "value": 12},
    ],
)
def test_malformed_state_reads_as_empty_or_what_is_readable_and_never_raises(state: Any) -> None:
    assert state_text(state) in ("", "B")


@pytest.mark.parametrize("stored", ["1e+16", "1.2345678901234568e+16", "-1e+17", "9999999999999999.0", "12.5", ""])
def test_a_number_input_holds_the_orgs_digits_unless_the_stored_value_is_beyond_them(stored: str) -> None:
    revenue = LeadField("Annual_Revenue", "Annual Revenue", K.CURRENCY, 16)
    element = input_element(revenue, stored)
    view = modal(element, optional=True)

    _, refused = state_values(view, {})  # the person changed nothing here: Slack must let the form go

    assert refused == {}
    beyond = stored not in ("9999999999999999.0", "12.5", "")
    assert ("max_value" in element) is not beyond


@pytest.mark.parametrize("stored", ["NaN", "Infinity", "-inf", "1,000", "1e999999999"])
def test_a_stored_number_no_number_input_can_hold_is_shown_as_text(stored: str) -> None:
    element = input_element(LeadField("Annual_Revenue", "Annual Revenue", K.CURRENCY, 16), stored)
    assert element["type"] == "plain_text_input" and element["initial_value"] == stored
