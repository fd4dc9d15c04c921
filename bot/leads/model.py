"""A Lead as the rest of the bot sees it: plain strings by Zoho API name, no SDK objects."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.leads.fields import FieldKind

PER_PAGE = 10  # Leads on one page of a list


@dataclass(frozen=True)
class FieldChange:
    """What a create or an edit did to one field: its label in the org, its value before and after ("" for
    none), and its kind (how to show the values: a yes/no field's `true` is "Yes")."""

    api_name: str
    label: str
    before: str
    after: str
    kind: FieldKind = FieldKind.TEXT


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

    @property
    def status(self) -> str:
        return self.get("Lead_Status")

    @property
    def owner(self) -> str:
        """The name of the Zoho user who owns the Lead, "" when Zoho did not say."""
        return self.get("Owner")

    @property
    def version(self) -> str:
        """When Zoho last changed the Lead (its Modified_Time): a button carries it, so that a click on a message
        older than the Lead can tell."""
        return self.get("Modified_Time")


class ListScope(enum.Enum):
    """Which Leads a list shows: the person's own, every Lead they may see, or those matching words."""

    MINE = "mine"
    ALL = "all"
    WORDS = "words"


@dataclass(frozen=True)
class LeadQuery:
    """What `/lead list …` asked for: a scope, and the words (quotes removed) when searching."""

    scope: ListScope = ListScope.MINE
    words: str = ""

    @classmethod
    def search(cls, words: str) -> LeadQuery:
        """Words to search for; no words at all is the person's own Leads."""
        words = " ".join(words.split())
        return cls(ListScope.WORDS, words) if words else cls()


@dataclass(frozen=True)
class LeadPage:
    """One page of a list of Leads. `page` counts from 1; `query` says which list it is a page of.

    `total`: how many Leads the whole list has, when Zoho told (None: unknown; then `has_more` says whether a page
    follows)."""

    leads: tuple[Lead, ...]
    page: int = 1
    has_more: bool = False
    query: LeadQuery = field(default_factory=LeadQuery)
    total: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "leads", tuple(self.leads))

    @property
    def pages(self) -> int | None:
        """How many pages the list has, when known: from Zoho's count, or because this is the last page."""
        if self.total is not None:
            return max(1, math.ceil(self.total / PER_PAGE), self.page)
        return None if self.has_more else self.page

    @property
    def in_all(self) -> int | None:
        """How many Leads the whole list has, when known: Zoho's count, or worked out on a last page after the
        first (a first page with nothing after it says it all already)."""
        if self.total is not None or self.has_more or self.page == 1:
            return self.total
        return (self.page - 1) * PER_PAGE + len(self.leads)
