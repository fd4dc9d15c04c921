"""Checking one `data[i]` of a create/update body against the Leads fields, the way Zoho answers it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from .directory import ZohoUser
from .fields import LEADS_BY_NAME, FieldSpec

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_TEXT_TYPES = ("text", "textarea", "phone", "website", "picklist", "email")


@dataclass(frozen=True)
class RecordError:
    """A per-record failure, rendered as one item of the `data` array."""

    code: str
    message: str
    details: dict[str, object]

    def as_json(self) -> dict[str, object]:
        return {"code": self.code, "details": self.details, "message": self.message, "status": "error"}


def _where(api_name: str, index: int) -> dict[str, object]:
    return {"api_name": api_name, "json_path": f"$.data[{index}].{api_name}"}


def mandatory_missing(api_name: str, index: int) -> RecordError:
    return RecordError("MANDATORY_NOT_FOUND", "required field not found", _where(api_name, index))


def invalid(api_name: str, index: int, **extra: object) -> RecordError:
    return RecordError("INVALID_DATA", "invalid data", {**extra, **_where(api_name, index)})


def clean_values(
    item: object, index: int, creating: bool, org_users: list[ZohoUser], required: Iterable[str] = ()
) -> tuple[dict[str, object], RecordError | None]:
    """The writable Lead values of one body item, converted; or the first error Zoho would report.

    Unknown keys and read-only fields are ignored as Zoho does; "" and null clear a field. `required`: the
    fields the layout makes mandatory besides Last_Name (missing on create, or emptied: MANDATORY_NOT_FOUND).
    """
    if not isinstance(item, dict):
        return {}, RecordError("INVALID_DATA", "invalid data", {"json_path": f"$.data[{index}]"})
    clean: dict[str, object] = {}
    for key, value in item.items():
        spec = LEADS_BY_NAME.get(key)
        if spec is None or spec.read_only:
            continue
        converted, error = _convert(spec, value, index, org_users)
        if error is not None:
            return {}, error
        clean[key] = converted
    for name in ("Last_Name", *sorted(required)):
        if (creating or name in clean) and clean.get(name) in (None, "", []):
            return {}, mandatory_missing(name, index)
    return clean, None


def _convert(
    spec: FieldSpec, value: object, index: int, org_users: list[ZohoUser]
) -> tuple[object, RecordError | None]:
    name = spec.api_name
    if value is None or value == "":
        return (False if spec.data_type == "boolean" else None), None
    kind = spec.data_type
    if kind in ("picklist", "multiselectpicklist"):
        return _choices(spec, value, index)
    if kind in _TEXT_TYPES:
        if not isinstance(value, str):
            return None, invalid(name, index, expected_data_type=kind)
        if spec.length is not None and len(value) > spec.length:
            return None, invalid(name, index, maximum_length=spec.length)
        if kind == "email" and not _EMAIL.match(value):
            return None, invalid(name, index, expected_data_type="email")
        return value, None
    if kind == "integer":
        number = _as_int(value)
        if number is None or (spec.length is not None and len(str(abs(number))) > spec.length):
            return None, invalid(name, index, expected_data_type="integer")
        return number, None
    if kind in ("currency", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None, invalid(name, index, expected_data_type="double")
        try:
            return float(value), None
        except ValueError:
            return None, invalid(name, index, expected_data_type="double")
    if kind == "boolean":
        if not isinstance(value, bool):
            return None, invalid(name, index, expected_data_type="boolean")
        return value, None
    if kind == "datetime":
        return _parsed(value, datetime.fromisoformat, name, index, "datetime")
    if kind == "date":
        return _parsed(value, date.fromisoformat, name, index, "date")
    if kind == "ownerlookup":
        owner_id = str(value.get("id")) if isinstance(value, dict) else None
        for user in org_users:
            if user.crm_user_id == owner_id:
                return owner_of(user), None
        return None, invalid(name, index, expected_data_type="ownerlookup")
    return value, None


def _choices(spec: FieldSpec, value: object, index: int) -> tuple[object, RecordError | None]:
    """A picklist value must be one of the field's values exactly, as Zoho checks a restricted picklist; a
    multi-select takes a list of them."""
    many = spec.data_type == "multiselectpicklist"
    items = value if many and isinstance(value, list) else [value]
    if (many and not isinstance(value, list)) or not all(isinstance(v, str) and v in spec.picklist for v in items):
        return None, invalid(spec.api_name, index, expected_data_type=spec.data_type)
    return (list(items) if many else value), None


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def _parsed(value: object, parse: object, name: str, index: int, kind: str) -> tuple[object, RecordError | None]:
    if not isinstance(value, str):
        return None, invalid(name, index, expected_data_type=kind)
    try:
        parse(value)  # type: ignore[operator]
    except ValueError:
        return None, invalid(name, index, expected_data_type=kind)
    return value, None


def owner_of(user: ZohoUser) -> dict[str, object]:
    """The `{name, id, email}` object Zoho writes for Owner/Created_By/Modified_By."""
    return {"name": user.full_name, "id": user.crm_user_id, "email": user.email}
