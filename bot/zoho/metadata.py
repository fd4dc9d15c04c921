"""The Leads field metadata and layout of an org, read through the SDK into plain values.

Two calls: `FieldsOperations.get_fields(module=Leads)` (every field: API name, label, data type, length,
read-only, custom, picklist values) and `LayoutsOperations.get_layouts(module=Leads)` (the sections of the
first active layout, their fields in order, and which ones the layout requires). Nothing above bot.zoho sees
an SDK object: what comes back is `LeadMetadata`, which also round-trips through JSON for the shared cache.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.fields import FieldsOperations, GetFieldsParam
from zohocrmsdk.src.com.zoho.crm.api.layouts import GetLayoutsParam, LayoutsOperations

from bot.zoho import outcomes
from bot.zoho.errors import ReconnectNeeded

log = logging.getLogger(__name__)

MODULE = "Leads"


@dataclass(frozen=True)
class ZohoField:
    """One Leads field as Zoho describes it (`data_type` as Zoho names it: text, picklist, currency, …)."""

    api_name: str
    label: str
    data_type: str
    length: int = 0
    read_only: bool = False
    custom: bool = False
    mandatory: bool = False  # required by Zoho itself (system_mandatory), whatever the layout says
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ZohoSection:
    """One section of the Leads layout: its label, its fields' API names in order, and those it requires."""

    name: str
    api_names: tuple[str, ...]
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class LeadMetadata:
    """The Leads fields of one org and the sections of its layout."""

    fields: tuple[ZohoField, ...]
    sections: tuple[ZohoSection, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LeadMetadata:
        fields = tuple(ZohoField(**{**f, "choices": tuple(f.get("choices", ()))}) for f in data.get("fields", ()))
        sections = tuple(
            ZohoSection(s["name"], tuple(s["api_names"]), tuple(s.get("required", ())))
            for s in data.get("sections", ())
        )
        return cls(fields, sections)


def _choices(sdk_field: Any) -> tuple[str, ...]:
    """The picklist's values as Zoho stores them (`actual_value`), without Zoho's "-None-" placeholder."""
    values = []
    for item in sdk_field.get_pick_list_values() or []:
        value = item.get_actual_value() or item.get_display_value()
        if value and value != "-None-":
            values.append(str(value))
    return tuple(values)


def _text(value: Any) -> str:
    value = value.get_value() if hasattr(value, "get_value") else value
    return "" if value is None else str(value)


def read_fields() -> tuple[ZohoField, ...]:
    """The Leads fields (runs in a job, as the connection's user)."""
    params = ParameterMap()
    params.add(GetFieldsParam.module, MODULE)
    answer = outcomes.check_response(FieldsOperations().get_fields(params), operation="read")
    found = []
    for f in (answer.get_fields() if answer is not None else None) or []:
        name = f.get_api_name()
        if not name:
            continue
        found.append(
            ZohoField(
                api_name=name,
                label=str(f.get_display_label() or f.get_field_label() or name),
                data_type=_text(f.get_data_type()),
                length=int(f.get_length() or 0),
                read_only=bool(f.get_read_only() or f.get_field_read_only()),
                custom=bool(f.get_custom_field()),
                mandatory=bool(f.get_system_mandatory()),
                choices=_choices(f),
            )
        )
    return tuple(found)


def read_sections() -> tuple[ZohoSection, ...]:
    """The sections of the org's first Leads layout (runs in a job); empty when Zoho shows none, or when the
    connection was made before the bot asked for the layouts scope (then Zoho's own mandatory fields count)."""
    params = ParameterMap()
    params.add(GetLayoutsParam.module, MODULE)
    try:
        answer = outcomes.check_response(LayoutsOperations().get_layouts(params), operation="read")
    except ReconnectNeeded as refused:
        if refused.code != "OAUTH_SCOPE_MISMATCH":
            raise
        log.info("Leads layout not readable with this connection's scopes; using the fields' own mandatory flags")
        return ()
    layouts = (answer.get_layouts() if answer is not None and hasattr(answer, "get_layouts") else None) or []
    if not layouts:
        return ()
    sections = []
    for section in layouts[0].get_sections() or []:
        items = [f for f in section.get_fields() or [] if f.get_api_name()]
        sections.append(
            ZohoSection(
                name=str(section.get_display_label() or section.get_name() or ""),
                api_names=tuple(f.get_api_name() for f in items),
                required=tuple(f.get_api_name() for f in items if f.get_required() or f.get_system_mandatory()),
            )
        )
    return tuple(sections)


def read_lead_metadata() -> LeadMetadata:
    """Fields and layout together (runs in a job)."""
    return LeadMetadata(read_fields(), read_sections())
