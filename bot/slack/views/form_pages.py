"""Which Lead fields the form shows, in what order, and how they are split into pages of at most 100 blocks.

With the org's layout (`OrgFields.from_org`): every field a person may set, the required ones first under
"Required", then the layout's sections in order, each under its name (fields in no section come last, under
"Other fields"). Read-only fields and kinds a form cannot hold (lookups, owners, formulas…) are not shown.
Without it (`OrgFields.standard()`): the contract's fields, one page, no headings, as the form always was.

A modal holds at most 100 blocks. When the fields do not fit, the first page holds the required fields and the
most used ones (the contract's standard fields), and "More fields" pages hold the rest in the layout's order;
each page keeps two blocks for the page turner. A required field is never left out: all come first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.leads.fields import LeadField, OrgFields

MAX_VIEW_BLOCKS = 100
TURNER_BLOCKS = 2  # the "page 1 of 3" line and the Back / More fields buttons
REQUIRED_HEADING = "Required"
MOST_USED_HEADING = "Most used"
OTHER_HEADING = "Other fields"


@dataclass(frozen=True)
class FieldGroup:
    """Fields shown together, under `heading` ("" for none)."""

    heading: str
    fields: tuple[LeadField, ...]

    @property
    def blocks(self) -> int:
        return len(self.fields) + (1 if self.heading else 0)


@dataclass(frozen=True)
class FormPage:
    groups: tuple[FieldGroup, ...]

    @property
    def fields(self) -> tuple[LeadField, ...]:
        return tuple(f for g in self.groups for f in g.fields)


def form_pages(org: OrgFields) -> tuple[FormPage, ...]:
    """The form's pages for this org: one when everything fits in a modal, else the first page and the rest."""
    if not org.from_org:
        return (FormPage((FieldGroup("", tuple(f for f in org.fields if f.key)),)),)
    groups = _layout_groups(org)
    if sum(g.blocks for g in groups) <= MAX_VIEW_BLOCKS:
        return (FormPage(tuple(groups)),)
    budget = MAX_VIEW_BLOCKS - TURNER_BLOCKS
    required = tuple(f for f in org.settable() if f.required)
    most_used = tuple(f for f in org.settable() if f.key and not f.required)
    first = [FieldGroup(REQUIRED_HEADING, required), FieldGroup(MOST_USED_HEADING, most_used)]
    on_first = {f.api_name for g in first for f in g.fields}
    rest = [FieldGroup(g.heading, tuple(f for f in g.fields if f.api_name not in on_first)) for g in groups]
    return tuple(_pack(first, budget) + _pack(rest, budget))


def _layout_groups(org: OrgFields) -> list[FieldGroup]:
    """Required first, then each section's settable fields, then those in no section; each field once."""
    shown = {f.api_name: f for f in org.settable()}
    placed: set[str] = set()

    def take(api_names: Iterable[str]) -> tuple[LeadField, ...]:
        taken = []
        for name in api_names:
            if name in shown and name not in placed:
                placed.add(name)
                taken.append(shown[name])
        return tuple(taken)

    groups = [FieldGroup(REQUIRED_HEADING, take(f.api_name for f in org.required()))]
    groups += [FieldGroup(s.name or OTHER_HEADING, take(s.api_names)) for s in org.sections]
    groups.append(FieldGroup(OTHER_HEADING if org.sections else "", take(shown)))
    return [g for g in groups if g.fields]


def _pack(groups: Iterable[FieldGroup], budget: int) -> list[FormPage]:
    """Fill pages of `budget` blocks with the groups in order; a group split across pages repeats its heading."""
    pages: list[list[FieldGroup]] = []
    room = 0
    for group in groups:
        remaining = group.fields
        while remaining:
            heading_cost = 1 if group.heading else 0
            if room < heading_cost + 1:
                pages.append([])
                room = budget
            chunk, remaining = remaining[: room - heading_cost], remaining[room - heading_cost :]
            pages[-1].append(FieldGroup(group.heading, chunk))
            room -= heading_cost + len(chunk)
    return [FormPage(tuple(page)) for page in pages]
