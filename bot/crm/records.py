"""Converting between our plain Lead values and the SDK's `Record` objects.

Out: text values become the JSON type Zoho expects for the field (integer, number, boolean, else string); an
empty value clears the field on update (JSON null) and is left out on create.
In: every value Zoho returns becomes text — ids, numbers, booleans ("true"/"false"), picklist choices (their
value), users and lookups (their name), date-times (ISO 8601); empty and structured values are left out.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from zohocrmsdk.src.com.zoho.crm.api.record import Record
from zohocrmsdk.src.com.zoho.crm.api.util import Choice

from bot.leads.fields import FieldKind, kind_for
from bot.leads.model import Lead
from bot.leads.validation import BOOLEAN_WORDS

# Zoho data types the SDK sends as a `Choice` (a plain string there fails the SDK's type check).
PICKLIST_TYPES = frozenset({"picklist"})

# What a list or search row needs (Zoho requires `fields` when listing, at most 50 names).
LIST_FIELDS: tuple[str, ...] = ("First_Name", "Last_Name", "Full_Name", "Company", "Email", "Phone", "Mobile")


def zoho_value(api_name: str, text: str, *, picklist: bool = False) -> Any:
    """`text` as the value the SDK expects for this field (validated values convert; others stay text).

    `picklist`: a custom field the org's metadata says is a picklist (the contract's own are known here).
    """
    kind = kind_for(api_name)
    if picklist or kind is FieldKind.PICKLIST:
        return Choice(text)
    try:
        if kind is FieldKind.INTEGER:
            return int(text)
        if kind is FieldKind.CURRENCY:
            return float(text)
    except ValueError:
        return text
    if kind is FieldKind.BOOLEAN and text.lower() in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[text.lower()]
    return text


def to_record(values: Mapping[str, str], *, creating: bool, picklists: frozenset[str] = frozenset()) -> Record:
    """A Record with these values: empty values left out when creating, sent as null (clear) when updating.

    `picklists`: custom fields among `values` that are picklists in the org."""
    record = Record()
    for api_name, text in values.items():
        if text == "":
            if not creating:
                record.add_key_value(api_name, None)
            continue
        record.add_key_value(api_name, zoho_value(api_name, text, picklist=api_name in picklists))
    return record


def text_of(value: Any) -> str | None:
    """A value from Zoho as text, or None when it is empty or has no sensible text form."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float, Decimal)):
        text = str(value)
        return text if text else None
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    for getter in ("get_value", "get_name"):
        method = getattr(value, getter, None)
        if callable(method):
            inner = method()
            return inner if isinstance(inner, str) and inner else None
    return None


def lead_from_record(record: Record) -> Lead:
    """The Lead in a Record returned by Zoho."""
    values: dict[str, str] = {}
    for api_name, value in (record.get_key_values() or {}).items():
        if api_name == "id" or api_name.startswith("$"):
            continue
        text = text_of(value)
        if text is not None:
            values[api_name] = text
    return Lead(id=str(record.get_id()), values=values)
