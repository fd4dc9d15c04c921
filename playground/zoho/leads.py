"""The Leads of every org and the record operations on them, answering in Zoho's per-record item format."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

from .directory import ZohoUser
from .fields import LEADS
from .validation import RecordError, clean_values, owner_of

Record = dict[str, object]

SORTABLE = ("id", "Created_Time", "Modified_Time")
LAYOUT = {"name": "Standard", "id": "5725767000000091055"}


def _full_name(record: Record) -> str:
    return " ".join(str(record[k]) for k in ("First_Name", "Last_Name") if record.get(k))


class LeadStore:
    """Lead records per org id. Every method is synchronous and does no I/O."""

    def __init__(self, now_iso: Callable[[], str]) -> None:
        self.now_iso = now_iso
        self.by_org: dict[str, dict[str, Record]] = {}
        self._ids = itertools.count(1)
        self.required: set[str] = set()  # fields the Leads layout makes mandatory besides Last_Name

    def records(self, org_id: str) -> list[Record]:
        """The org's records, oldest first."""
        return list(self.by_org.get(org_id, {}).values())

    def get(self, org_id: str, record_id: str) -> Record | None:
        """One record of that org, or None."""
        return self.by_org.get(org_id, {}).get(str(record_id))

    def create(self, user: ZohoUser, org_users: list[ZohoUser], items: list[object]) -> list[Record]:
        """Create each item on its own; one result item (success or error) per input item."""
        results: list[Record] = []
        for index, item in enumerate(items):
            values, error = clean_values(item, index, creating=True, org_users=org_users, required=self.required)
            if error is not None:
                results.append(error.as_json())
                continue
            record = self._new_record(user, values)
            results.append(_success("record added", record, approval=True))
        return results

    def update(
        self, user: ZohoUser, org_users: list[ZohoUser], items: list[object], url_id: str | None = None
    ) -> list[Record]:
        """Update only the given fields of each item; `url_id` is the id of `PUT /Leads/{id}`."""
        results: list[Record] = []
        for index, item in enumerate(items):
            record_id = url_id if url_id is not None and index == 0 else _item_id(item)
            if record_id is None:
                results.append(
                    RecordError(
                        "MANDATORY_NOT_FOUND",
                        "required field not found",
                        {"api_name": "id", "json_path": f"$.data[{index}].id"},
                    ).as_json()
                )
                continue
            record = self.get(user.org_id, record_id)
            if record is None:
                results.append(
                    RecordError(
                        "INVALID_DATA",
                        "the id given seems to be invalid",
                        {"api_name": "id", "json_path": f"$.data[{index}].id"},
                    ).as_json()
                )
                continue
            values, error = clean_values(item, index, creating=False, org_users=org_users, required=self.required)
            if error is not None:
                results.append(error.as_json())
                continue
            record.update(values)
            record["Full_Name"] = _full_name(record)
            record["Modified_By"] = owner_of(user)
            record["Modified_Time"] = record["Last_Activity_Time"] = self.now_iso()
            results.append(_success("record updated", record, approval=False))
        return results

    def delete(self, org_id: str, ids: Iterable[str]) -> list[Record]:
        """Delete each id of the org; unknown ids get an INVALID_DATA item."""
        results: list[Record] = []
        book = self.by_org.get(org_id, {})
        for record_id in ids:
            if book.pop(record_id, None) is None:
                results.append(
                    RecordError("INVALID_DATA", "the id given seems to be invalid", {"id": record_id}).as_json()
                )
            else:
                results.append(
                    {"code": "SUCCESS", "details": {"id": record_id}, "message": "record deleted", "status": "success"}
                )
        return results

    def seed(self, user: ZohoUser, values: Record) -> str:
        """Store a record directly (no validation beyond Last_Name); returns its id."""
        return str(self._new_record(user, dict(values))["id"])

    def _new_record(self, user: ZohoUser, values: Record) -> Record:
        now = self.now_iso()
        record: Record = {spec.api_name: None for spec in LEADS}
        record.update(
            {
                "id": str(5725767000000400000 + next(self._ids)),
                "Owner": owner_of(user),
                "Email_Opt_Out": False,
                "Converted__s": False,
                "Tag": [],
                "Layout": dict(LAYOUT),
                "Record_Status__s": "Available",
                "Created_By": owner_of(user),
                "Modified_By": owner_of(user),
                "Created_Time": now,
                "Modified_Time": now,
                "Last_Activity_Time": now,
                "$approval_state": "approved",
            }
        )
        record.update(values)
        record["Full_Name"] = _full_name(record)
        self.by_org.setdefault(user.org_id, {})[str(record["id"])] = record
        return record


def _item_id(item: object) -> str | None:
    if isinstance(item, dict) and item.get("id") not in (None, ""):
        return str(item["id"])
    return None


def _success(message: str, record: Record, approval: bool) -> Record:
    details: Record = {
        "Modified_Time": record["Modified_Time"],
        "Modified_By": _minified(record["Modified_By"]),
        "Created_Time": record["Created_Time"],
        "id": record["id"],
        "Created_By": _minified(record["Created_By"]),
    }
    if approval:
        details["$approval_state"] = "approved"
    return {"code": "SUCCESS", "details": details, "message": message, "status": "success"}


def _minified(owner: object) -> object:
    if isinstance(owner, dict):
        return {"name": owner.get("name"), "id": owner.get("id")}
    return owner


def project(record: Record, fields: list[str] | None) -> Record:
    """The record as the API returns it: all fields, or `id` plus the requested ones."""
    if not fields:
        return dict(record)
    out: Record = {"id": record["id"]}
    for name in fields:
        if name in record:
            out[name] = record[name]
    return out


def sort_records(records: list[Record], sort_by: str, descending: bool) -> list[Record]:
    """Records ordered like Zoho's list call (ties broken by id)."""

    def key(record: Record) -> tuple[str, int]:
        value = "" if sort_by == "id" else str(record.get(sort_by) or "")
        return value, int(str(record["id"]))

    return sorted(records, key=key, reverse=descending)


def matches_word(record: Record, word: str) -> bool:
    """Zoho's `word` search: case-insensitive contains over names, company, emails and phones."""
    needle = word.lower()
    keys = ("First_Name", "Last_Name", "Full_Name", "Company", "Email", "Secondary_Email", "Phone", "Mobile")
    return any(needle in str(record.get(k) or "").lower() for k in keys)


def matches_email(record: Record, email: str) -> bool:
    """Zoho's `email` search: the Email or Secondary_Email equals it (case-insensitive)."""
    return email.lower() in (str(record.get("Email") or "").lower(), str(record.get("Secondary_Email") or "").lower())


def matches_phone(record: Record, phone: str) -> bool:
    """Zoho's `phone` search: the digits given appear in Phone or Mobile."""
    digits = "".join(c for c in phone if c.isdigit())
    if not digits:
        return False
    return any(digits in "".join(c for c in str(record.get(k) or "") if c.isdigit()) for k in ("Phone", "Mobile"))
