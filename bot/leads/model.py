"""A Lead as the rest of the bot sees it: plain strings by Zoho API name, no SDK objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class FieldChange:
    """What a create or an edit did to one field: its label in the org, and its value before and after
    ("" for none)."""

    api_name: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Lead:
    """One Zoho Lead: its record id and its field values as text, keyed by API name (`Last_Name`, …).

    Fields Zoho left empty are absent from `values`. `values` is read-only. `changes`: on the Lead a create
    or an edit returns, what it did to each field it was given that changed, in the order typed (empty else).
    """

    id: str
    values: Mapping[str, str] = field(default_factory=dict)
    changes: tuple[FieldChange, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))
        object.__setattr__(self, "changes", tuple(self.changes))

    def __hash__(self) -> int:
        return hash((self.id, tuple(sorted(self.values.items()))))

    def get(self, api_name: str) -> str:
        """The value of a field, or "" when Zoho has none."""
        return self.values.get(api_name, "")

    @property
    def name(self) -> str:
        """First and last name ("Jane Doe"), else Zoho's Full_Name, else ""."""
        joined = " ".join(part for part in (self.get("First_Name"), self.get("Last_Name")) if part)
        return joined or self.get("Full_Name")

    @property
    def company(self) -> str:
        return self.get("Company")

    @property
    def email(self) -> str:
        return self.get("Email")

    @property
    def phone(self) -> str:
        """The Phone field, else the Mobile field."""
        return self.get("Phone") or self.get("Mobile")


@dataclass(frozen=True)
class LeadPage:
    """One page of a list of Leads. `page` counts from 1; `query` is "" for a plain list, else the words."""

    leads: tuple[Lead, ...]
    page: int = 1
    has_more: bool = False
    query: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "leads", tuple(self.leads))
