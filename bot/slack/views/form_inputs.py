"""One Lead field as a Block Kit input element, and an element's submitted state read back as canonical text.

Which element a field gets, by its kind (docs/reference/slack.md §3):

| kind | element | canonical text |
|---|---|---|
| picklist with the org's values (≤ 100) | `static_select` | the org's value exactly (`Contacted`) |
| multi-select picklist (≤ 100 values) | `multi_static_select` | the values joined by "; " (`Email; Phone`) |
| boolean | `static_select` Yes / No | `true` / `false` (left empty: not set) |
| date | `datepicker` | `YYYY-MM-DD` |
| date-time | `datetimepicker` | ISO 8601 in UTC (`2026-12-24T15:00:00+00:00`) |
| integer / decimal, currency, percent | `number_input` (decimals but for integers; min, max) | the number as typed |
| e-mail | `email_text_input` | the address |
| everything else | `plain_text_input` (multiline for long text) | the text |

A picklist with more than 100 values (Slack's most for a menu), or none known (the standard fields before the org's
metadata is read), is a text input: the Lead service checks the typed value against the org's picklist and names
the allowed ones (before the form closes when the store holds the org's fields, else after). Websites and other
URLs stay plain text inputs: Slack's URL input refuses `acme.com`, which Zoho and `/lead create` accept. A
stored value that an element could not show (an e-mail Slack's input would refuse, a number input holding text,
a picklist value the org has since removed) is shown as it is: a text input, or an extra option in the menu. A
number input's min and max allow the org's digits before the point, so Slack refuses a longer number under its
field, the form open (Zoho would refuse it after the ack, the form closed).

Reading back never needs the org's fields: each input is read by its element type, so a form submitted after
the org changed its layout is still read as the person filled it in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.leads.fields import FieldKind, LeadField
from bot.leads.validation import is_email
from bot.slack.text import truncate

ACTION_ID = "value"
INPUT_MAX_LENGTH = 3000  # Slack's most for a plain_text_input
MAX_OPTIONS = 100
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
MOST_DIGITS = 38  # a number field whose length is more than this has no real limit to show (Zoho: 9 to 18 digits)
FRACTION_DIGITS = 9  # the decimals a limit allows after the point: Zoho rounds them to the field's own
MULTI_SEPARATOR = "; "
NO_VALUE = "-None-"  # Zoho's picklist entry for "nothing chosen": an empty menu says that already
BOOLEAN_OPTIONS = (("Yes", "true"), ("No", "false"))
_NUMBERS = (FieldKind.INTEGER, FieldKind.DECIMAL, FieldKind.CURRENCY, FieldKind.PERCENT)
_TRUE_WORDS = frozenset({"true", "yes"})
_FALSE_WORDS = frozenset({"false", "no"})


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _option(value: str, note: str = "") -> dict[str, Any]:
    return {"text": plain(truncate(value + note, OPTION_TEXT_MAX)), "value": value}


def menu_choices(field: LeadField) -> tuple[str, ...]:
    """The values a menu offers for a picklist field; empty when it is a text input instead (no known values,
    more than Slack shows, or a value too long for an option)."""
    choices = tuple(c for c in field.choices if c and c != NO_VALUE)
    if not choices or len(choices) > MAX_OPTIONS or any(len(c) > OPTION_VALUE_MAX for c in choices):
        return ()
    return choices


def split_multi(value: str) -> list[str]:
    """`Email; Phone` (or Zoho's `Email;Phone`) → ["Email", "Phone"]."""
    return [part.strip() for part in value.split(";") if part.strip()]


def _select(field: LeadField, choices: tuple[str, ...], initial: str, multi: bool) -> dict[str, Any]:
    wanted = split_multi(initial) if multi else ([initial] if initial else [])
    # A stored value the org has since removed from the picklist: shown, so the form tells the truth about the Lead.
    stale = [value for value in wanted if value not in choices][: MAX_OPTIONS - len(choices)]
    options = [_option(c) for c in choices] + [_option(v, " (not in the picklist)") for v in stale]
    element: dict[str, Any] = {"type": "multi_static_select" if multi else "static_select", "options": options}
    picked = [o for o in options if o["value"] in wanted]
    if picked and multi:
        element["initial_options"] = picked
    elif picked:
        element["initial_option"] = picked[0]
    return element


def _boolean(initial: str) -> dict[str, Any]:
    options = [_option(text) | {"value": value} for text, value in BOOLEAN_OPTIONS]
    element: dict[str, Any] = {"type": "static_select", "options": options}
    lowered = initial.lower()
    if lowered in _TRUE_WORDS | _FALSE_WORDS:
        element["initial_option"] = options[0] if lowered in _TRUE_WORDS else options[1]
    return element


def _date(initial: str) -> dict[str, Any] | None:
    try:
        day = datetime.strptime(initial[:10], "%Y-%m-%d").date() if initial else None
    except ValueError:
        return None
    return {"type": "datepicker"} | ({"initial_date": day.isoformat()} if day else {})


def _date_time(initial: str) -> dict[str, Any] | None:
    try:
        moment = datetime.fromisoformat(initial) if initial else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return {"type": "datetimepicker"} | ({"initial_date_time": int(moment.timestamp())} if moment else {})


def _number(field: LeadField, initial: str) -> dict[str, Any] | None:
    decimals = field.kind is not FieldKind.INTEGER
    largest = "9" * field.max_length + ("." + "9" * FRACTION_DIGITS if decimals else "")
    try:
        stored = Decimal(initial) if initial else None
        if stored is not None and not stored.is_finite():  # "NaN", "Infinity": no number input can hold them
            return None
        within = stored is None or abs(stored) <= Decimal(largest)
    except ArithmeticError:  # not a number ("1,000"), or one beyond any arithmetic ("1e999999999")
        return None
    element: dict[str, Any] = {"type": "number_input", "is_decimal_allowed": decimals}
    # The org's digits before the point, held by Slack itself: a number too long is refused under its field, the
    # form open, as Zoho would refuse it after. Not when the stored value is beyond them already (Zoho hands
    # currencies back as floats, 1e+16 among them): Slack would refuse the whole edit form over a field left alone.
    if field.max_length <= MOST_DIGITS and within:
        element |= {"min_value": f"-{largest}", "max_value": largest}
    return element | ({"initial_value": initial} if initial else {})


def _text(field: LeadField, initial: str) -> dict[str, Any]:
    if field.kind is FieldKind.EMAIL and (not initial or is_email(initial)):
        return {"type": "email_text_input"} | ({"initial_value": initial} if initial else {})
    max_length = min(INPUT_MAX_LENGTH, max(field.max_length, len(initial), 1))
    element: dict[str, Any] = {"type": "plain_text_input", "max_length": max_length}
    if field.multiline:
        element["multiline"] = True
    return element | ({"initial_value": initial} if initial else {})


def _typed(field: LeadField, initial: str) -> dict[str, Any] | None:
    """The element a field's kind asks for, or None when only a text input can show `initial`."""
    kind = field.kind
    choices = menu_choices(field)
    if kind in (FieldKind.PICKLIST, FieldKind.MULTISELECT) and choices:
        return _select(field, choices, initial, multi=kind is FieldKind.MULTISELECT)
    if kind is FieldKind.BOOLEAN:
        return _boolean(initial) if not initial or initial.lower() in _TRUE_WORDS | _FALSE_WORDS else None
    if kind is FieldKind.DATE:
        return _date(initial)
    if kind is FieldKind.DATETIME:
        return _date_time(initial)
    if kind in _NUMBERS:
        return _number(field, initial)
    return None


def input_element(field: LeadField, initial: str, placeholder: str = "") -> dict[str, Any]:
    """The input element for `field`, showing `initial` (canonical text; "" for none)."""
    element = _typed(field, initial) or _text(field, initial)
    element["action_id"] = ACTION_ID
    if placeholder and element["type"] in ("plain_text_input", "email_text_input", "static_select"):
        element["placeholder"] = plain(placeholder)
    return element


# ----- reading back --------------------------------------------------------------------------------------------


def _option_value(option: Any) -> str:
    value = option.get("value") if isinstance(option, Mapping) else None
    return value if isinstance(value, str) else ""


def _options_text(options: Any) -> str:
    values = [_option_value(o) for o in options] if isinstance(options, list) else []
    return MULTI_SEPARATOR.join(v for v in values if v)


def _unix_to_iso(seconds: Any) -> str:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float | str):
        return ""
    try:
        return datetime.fromtimestamp(int(seconds), UTC).isoformat()
    except (ValueError, OverflowError, OSError):
        return ""


def _text_of(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


_SUBMITTED = ("selected_option", "selected_options", "selected_date", "selected_date_time", "value")
_SHOWN = ("initial_option", "initial_options", "initial_date", "initial_date_time", "initial_value")


def _canonical(found: Any, keys: tuple[str, str, str, str, str]) -> str:
    """The canonical text of an input's state or element, read under `keys` (what it is called there)."""
    if not isinstance(found, Mapping):
        return ""
    option, options, date, date_time, value = keys
    kind = found.get("type")
    if kind in ("static_select", "radio_buttons"):
        return _option_value(found.get(option))
    if kind in ("multi_static_select", "checkboxes"):
        return _options_text(found.get(options))
    if kind == "datepicker":
        return _text_of(found.get(date))
    if kind == "datetimepicker":
        return _unix_to_iso(found.get(date_time))
    return _text_of(found.get(value))


def state_text(state: Any) -> str:
    """The canonical text of one input's submitted state (`view.state.values[block][action]`); "" when empty or
    malformed. Never raises."""
    return _canonical(state, _SUBMITTED)


def initial_text(element: Any) -> str:
    """The canonical text an element showed when the form opened; the same reading as `state_text`, so a field
    the person left alone compares equal. Never raises."""
    return _canonical(element, _SHOWN)
