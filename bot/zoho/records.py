"""Converting between plain records (an id and text values by API name) and the SDK's `Record` objects.

Out: text values become the JSON type Zoho expects for the field's data type (picklists as the SDK's `Choice`,
multi-selects ("A; B") as a list of them, dates and date-times as `datetime` values, integer, number, boolean,
else string); an empty value clears the field on update (JSON null) and is left out
on create.
In: every value Zoho returns becomes text — ids, numbers, booleans ("true"/"false"), picklist choices (their
value), multi-selects (their values joined by "; "), users and lookups (their name), dates and date-times
(ISO 8601); empty and structured values are left out.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from zohocrmsdk.src.com.zoho.crm.api.record import Record
from zohocrmsdk.src.com.zoho.crm.api.util import Choice

# Zoho data types the SDK sends as a `Choice` (a plain string there fails the SDK's type check).
PICKLIST_TYPES = frozenset({"picklist"})
MULTISELECT_TYPES = frozenset({"multiselectpicklist"})
MULTISELECT_SEPARATOR = "; "  # how a multi-select's values travel as one text
INTEGER_TYPES = frozenset({"integer", "bigint"})
NUMBER_TYPES = frozenset({"currency", "double", "decimal"})
BOOLEAN_TYPES = frozenset({"boolean"})
BOOLEAN_WORDS: dict[str, bool] = {"true": True, "yes": True, "false": False, "no": False}

DataTypes = Mapping[str, str]  # {API name: Zoho data type} of the fields a write sets


@dataclass(frozen=True)
class CrmRecord:
    """One record as Zoho returned it: its id and its non-empty values as text, by API name."""

    id: str
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordPage:
    """One page of records, whether Zoho has more after it, and (when Zoho counted them) how many in all."""

    records: tuple[CrmRecord, ...]
    has_more: bool = False
    total: int | None = None


# What a list or search row needs (Zoho requires `fields` when listing, at most 50 names): the status and owner
# a row shows, and Modified_Time, which the row's buttons carry to notice a Lead changed since.
LIST_FIELDS: tuple[str, ...] = (
    "First_Name",
    "Last_Name",
    "Full_Name",
    "Company",
    "Email",
    "Phone",
    "Mobile",
    "Lead_Status",
    "Owner",
    "Modified_Time",
)


def zoho_value(text: str, data_type: str) -> Any:
    """`text` as the value the SDK expects for a field of Zoho `data_type` (what does not convert stays text)."""
    if data_type in PICKLIST_TYPES:
        return Choice(text)
    if data_type in MULTISELECT_TYPES:
        return [Choice(part.strip()) for part in text.split(";") if part.strip()]
    try:
        if data_type == "date":
            return datetime.date.fromisoformat(text)
        if data_type == "datetime":
            return datetime.datetime.fromisoformat(text)
        if data_type in INTEGER_TYPES:
            return int(text)
        if data_type in NUMBER_TYPES:
            return float(text)
    except ValueError:
        return text
    if data_type in BOOLEAN_TYPES and text.lower() in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[text.lower()]
    return text


def to_record(values: Mapping[str, str], data_types: DataTypes, *, creating: bool) -> Record:
    """A Record with these values: empty values left out when creating, sent as null (clear) when updating."""
    record = Record()
    for api_name, text in values.items():
        if text == "":
            if not creating:
                record.add_key_value(api_name, None)
            continue
        record.add_key_value(api_name, zoho_value(text, data_types.get(api_name, "text")))
    return record


def text_of(value: Any) -> str | None:
    """A value from Zoho as text, or None when it is empty or has no sensible text form."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, (str, int, Decimal)):
        text = str(value)
        return text if text else None
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, list):
        parts = [text for text in map(text_of, value) if text]
        return MULTISELECT_SEPARATOR.join(parts) if parts else None
    for getter in ("get_value", "get_name"):
        method = getattr(value, getter, None)
        if callable(method):
            inner = method()
            return inner if isinstance(inner, str) and inner else None
    return None


def _number_text(value: float) -> str:
    """A number Zoho sent as a float, written as a person would: `12500`, not `12500.0`; `1250.5`; `10000000000000000`,
    not `1e+16` (the same number as the one typed, whatever JSON made of it)."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"  # -0.0 too
    exact = Decimal(repr(value))
    return format(exact.normalize() if exact == exact.to_integral() else exact, "f")


def from_record(record: Record) -> CrmRecord:
    """The plain record in a Record returned by Zoho."""
    values: dict[str, str] = {}
    for api_name, value in (record.get_key_values() or {}).items():
        if api_name == "id" or api_name.startswith("$"):
            continue
        text = text_of(value)
        if text is not None:
            values[api_name] = text
    return CrmRecord(id=str(record.get_id()), values=values)
