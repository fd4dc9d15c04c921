"""The ids and values of the buttons on Lead messages, shared by the renderer and the handlers.

Next/Previous carry the page to show and which list it is, as compact JSON: `{"p": 2}` (the person's own Leads),
`{"p": 2, "s": "all"}` (every Lead they may see) or `{"p": 2, "q": "acme"}` (a search), at most 2000 characters
(Slack's button limit). Edit and Delete carry the Lead id and when the Lead was last changed as the message shows it
(`{"id": "123", "v": "2026-12-05T10:00:00+00:00"}`), so that a click on an older message can tell the Lead changed
since; in a list both also carry its page (`"p"`, `"s"`, `"q"`), so that the list can be shown again as it is now
(without a deleted Lead). A bare id (a message sent before these values) still works, without the change check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.leads.model import LeadQuery, ListScope

LEAD_EDIT = "lead_edit"
LEAD_DELETE = "lead_delete"
LEAD_PAGE_NEXT = "lead_page_next"
LEAD_PAGE_PREV = "lead_page_prev"

BUTTON_VALUE_MAX = 2000
_QUERY_MAX = 1900


@dataclass(frozen=True)
class PageRequest:
    """Which page of which list a Next/Previous button asks for."""

    page: int
    query: LeadQuery = field(default_factory=LeadQuery)


def _encode(request: PageRequest | None, **more: str) -> str:
    if request is None:
        return json.dumps(more, ensure_ascii=False, separators=(",", ":"))
    scope = request.query.scope
    words = request.query.words[:_QUERY_MAX]
    while True:
        data: dict[str, Any] = {**more, "p": request.page}
        if scope is ListScope.ALL:
            data["s"] = "all"
        elif scope is ListScope.WORDS:
            data["q"] = words
        value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if len(value) <= BUTTON_VALUE_MAX:
            return value
        if not words:
            raise ValueError("page number too large for a button")
        # every character of the words takes at least one character of the value
        words = words[: len(words) - (len(value) - BUTTON_VALUE_MAX)]


def encode_page_request(request: PageRequest) -> str:
    """The button value for `request`; search words too long for a button are cut so the value fits."""
    return _encode(request)


def _query_of(data: dict[str, Any]) -> LeadQuery | None:
    words, scope = data.get("q", ""), data.get("s")
    if not isinstance(words, str):
        return None
    if scope == "all":
        return LeadQuery(ListScope.ALL)
    return LeadQuery.search(words)


def decode_page_request(value: str) -> PageRequest:
    """The PageRequest in a button value; a value we did not write gives page 1 of the person's own Leads."""
    try:
        data = json.loads(value)
        page = data["p"]
        query = _query_of(data)
    except (ValueError, TypeError, KeyError, AttributeError):
        return PageRequest(1)
    if not isinstance(page, int) or isinstance(page, bool) or page < 1 or query is None:
        return PageRequest(1)
    return PageRequest(page, query)


@dataclass(frozen=True)
class LeadButton:
    """Which Lead an Edit or Delete button is for, the Lead's version the message shows ("" unknown: an old
    message), and the list page it sits on (None outside a list)."""

    lead_id: str
    version: str = ""
    page: PageRequest | None = None


def encode_lead_button(lead_id: str, version: str = "", page: PageRequest | None = None) -> str:
    """The Edit/Delete button value: the id, the Lead's version, and (in a list) its page."""
    more = {"id": lead_id, "v": version} if version else {"id": lead_id}
    return _encode(page, **more)


def decode_lead_button(value: str) -> LeadButton:
    """The LeadButton in an Edit/Delete button value (a value that is not our JSON is taken as the bare id)."""
    if not value.startswith("{"):
        return LeadButton(value)
    try:
        data = json.loads(value)
        lead_id, version = data["id"], data.get("v", "")
    except (ValueError, TypeError, KeyError, AttributeError):
        return LeadButton(value)
    if not isinstance(lead_id, str) or not isinstance(version, str):
        return LeadButton(value)
    page = decode_page_request(value) if "p" in data else None
    return LeadButton(lead_id, version, page)
