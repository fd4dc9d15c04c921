"""The ids and values of the buttons on Lead messages, shared by the renderer and the handlers.

Edit buttons carry the Lead id as their `value`. Next/Previous carry the page to show and the search words as
compact JSON, `{"p": 2, "q": "acme"}`, at most 2000 characters (Slack's button limit). A Delete button carries
the Lead id, and in a list also the page it sits on (`{"id": "123", "p": 2, "q": "acme"}`), so that the list can
be shown again without the deleted Lead; a bare id (a Lead's own message, or a message sent before) still works.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

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
    query: str = ""


def _encode(request: PageRequest, **more: str) -> str:
    query = request.query[:_QUERY_MAX]
    while True:
        value = json.dumps({**more, "p": request.page, "q": query}, ensure_ascii=False, separators=(",", ":"))
        if len(value) <= BUTTON_VALUE_MAX:
            return value
        if not query:
            raise ValueError("page number too large for a button")
        # every character of the query takes at least one character of the value
        query = query[: len(query) - (len(value) - BUTTON_VALUE_MAX)]


def encode_page_request(request: PageRequest) -> str:
    """The button value for `request`; a query too long for a button is cut so the value fits."""
    return _encode(request)


def decode_page_request(value: str) -> PageRequest:
    """The PageRequest in a button value; a value we did not write gives page 1 of the plain list."""
    try:
        data = json.loads(value)
        page, query = data["p"], data.get("q", "")
    except (ValueError, TypeError, KeyError, AttributeError):
        return PageRequest(1, "")
    if not isinstance(page, int) or isinstance(page, bool) or page < 1 or not isinstance(query, str):
        return PageRequest(1, "")
    return PageRequest(page, query)


@dataclass(frozen=True)
class DeleteRequest:
    """Which Lead a Delete button deletes, and the list page it sits on (None outside a list)."""

    lead_id: str
    page: PageRequest | None = None


def encode_delete_request(lead_id: str, page: PageRequest | None) -> str:
    """The Delete button value: the bare id, or (in a list) the id and its page."""
    return lead_id if page is None else _encode(page, id=lead_id)


def decode_delete_request(value: str) -> DeleteRequest:
    """The DeleteRequest in a Delete button value (a value that is not our JSON is taken as the bare id)."""
    if not value.startswith("{"):
        return DeleteRequest(value)
    try:
        data = json.loads(value)
        lead_id = data["id"]
    except (ValueError, TypeError, KeyError):
        return DeleteRequest(value)
    if not isinstance(lead_id, str):
        return DeleteRequest(value)
    return DeleteRequest(lead_id, decode_page_request(value))
