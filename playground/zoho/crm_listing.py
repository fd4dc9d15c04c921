"""Lead lists and search: `GET /crm/v8/Leads?fields=…` and `GET /crm/v8/Leads/search` with Zoho's paging
rules (docs/reference/zoho.md §5: `fields` mandatory, `page` up to 2000 rows then `page_token`, 204 when empty)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web

from .context import EMULATOR
from .criteria import CriteriaError, parse_criteria, unescape
from .crm import USER
from .crm_records import refusal
from .envelopes import crm_error, json_response, missing_param, no_content
from .fields import LEADS_BY_NAME
from .leads import SORTABLE, Record, matches_email, matches_phone, matches_word, project, sort_records

if TYPE_CHECKING:
    from .server import ZohoEmulator

MAX_PER_PAGE = 200
MAX_FIELDS = 50
DISCRETE_LIMIT = 2000
PAGE_TOKEN_LIFETIME = 24 * 3600.0


@dataclass(frozen=True)
class PageCursor:
    """Where a `next_page_token` continues: bound to the user and the sort it was issued for."""

    email: str
    sort_by: str
    sort_order: str
    per_page: int
    offset: int
    page: int
    expires_at: float


def _csv(request: web.Request, name: str) -> list[str]:
    return [v.strip() for v in ",".join(request.query.getall(name, [])).split(",") if v.strip()]


def _bad_param(name: str, code: str = "INVALID_DATA", message: str = "invalid data") -> web.Response:
    return crm_error(400, code, message, {"param_name": name})


def _positive_int(request: web.Request, name: str, default: int) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


async def list_records(request: web.Request) -> web.Response:
    """GET /crm/v8/Leads?fields=…&page=&per_page=&sort_by=&sort_order=&page_token=&ids=."""
    if refused := refusal(request, "read"):
        return refused
    emu: ZohoEmulator = request.app[EMULATOR]
    user = request[USER]
    fields = _csv(request, "fields")
    if not fields:
        return missing_param("fields")
    if len(fields) > MAX_FIELDS:
        return crm_error(400, "LIMIT_EXCEEDED", "fields limit exceeded", {"limit": MAX_FIELDS, "param_name": "fields"})
    per_page = _positive_int(request, "per_page", MAX_PER_PAGE)
    if per_page is None:
        return _bad_param("per_page")
    per_page = min(per_page, MAX_PER_PAGE)
    sort_by = request.query.get("sort_by", "id")
    sort_order = request.query.get("sort_order", "desc")
    if sort_by not in SORTABLE:
        return _bad_param("sort_by")
    if sort_order not in ("asc", "desc"):
        return _bad_param("sort_order")

    token_value = request.query.get("page_token")
    if token_value is not None:
        if "page" in request.query:
            details: dict[str, object] = {"ambiguity_due_to": ["page", "page_token"]}
            return crm_error(400, "AMBIGUITY_DURING_PROCESSING", "ambiguity during processing", details)
        cursor = emu.page_tokens.get(token_value)
        if cursor is None:
            return _bad_param("page_token")
        if emu.clock() >= cursor.expires_at:
            return _bad_param("page_token", "EXPIRED_VALUE", "the page_token has expired")
        if (cursor.email, cursor.sort_by, cursor.sort_order) != (user.email, sort_by, sort_order):
            return _bad_param("page_token", "TOKEN_BOUND_DATA_MISMATCH", "the page_token does not belong to this query")
        offset, page = cursor.offset, cursor.page
    else:
        page_number = _positive_int(request, "page", 1)
        if page_number is None:
            return _bad_param("page")
        page = page_number
        offset = (page - 1) * per_page
        if offset + per_page > DISCRETE_LIMIT:
            details = {"limit": DISCRETE_LIMIT}
            return crm_error(
                400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED", "use page_token to fetch records beyond 2000", details
            )

    records = emu.lead_store.records(user.org_id)
    wanted_ids = set(_csv(request, "ids"))
    if wanted_ids:
        records = [r for r in records if r["id"] in wanted_ids]
    if request.query.get("converted") == "true":
        records = []
    ordered = sort_records(records, sort_by, descending=sort_order == "desc")
    chunk = ordered[offset : offset + per_page]
    if not chunk:
        return no_content()
    more = len(ordered) > offset + per_page
    next_token, expiry = None, None
    if more:
        next_token = secrets.token_hex(16)
        expires_at = emu.clock() + PAGE_TOKEN_LIFETIME
        emu.page_tokens[next_token] = PageCursor(
            user.email, sort_by, sort_order, per_page, offset + per_page, page + 1, expires_at
        )
        expiry = datetime.fromtimestamp(expires_at, UTC).replace(microsecond=0).isoformat()
    info = {
        "call": False,
        "per_page": per_page,
        "next_page_token": next_token,
        "count": len(chunk),
        "sort_by": sort_by,
        "page": page,
        "previous_page_token": None,
        "page_token_expiry": expiry,
        "sort_order": sort_order,
        "email": False,
        "more_records": more,
    }
    return json_response({"data": [project(r, fields) for r in chunk], "info": info})


async def search_records(request: web.Request) -> web.Response:
    """GET /crm/v8/Leads/search?criteria=|email=|phone=|word= (that precedence); 204 when nothing matches."""
    if refused := refusal(request, "read"):
        return refused
    emu: ZohoEmulator = request.app[EMULATOR]
    matches = _search_matcher(request.query)
    if isinstance(matches, web.Response):
        return matches
    per_page = _positive_int(request, "per_page", MAX_PER_PAGE)
    page = _positive_int(request, "page", 1)
    if per_page is None:
        return _bad_param("per_page")
    if page is None:
        return _bad_param("page")
    per_page = min(per_page, MAX_PER_PAGE)
    found = sort_records([r for r in emu.lead_store.records(request[USER].org_id) if matches(r)], "id", True)
    found = found[:DISCRETE_LIMIT]
    chunk = found[(page - 1) * per_page : page * per_page]
    if not chunk:
        return no_content()
    info = {
        "per_page": per_page,
        "count": len(chunk),
        "sort_by": "id",
        "page": page,
        "sort_order": "desc",
        "more_records": len(found) > page * per_page,
    }
    fields = _csv(request, "fields")
    return json_response({"data": [project(r, fields) for r in chunk], "info": info})


def _search_matcher(query: Mapping[str, str]) -> Callable[[Record], bool] | web.Response:
    """What `criteria`, `email`, `phone` or `word` (that precedence) asks for, or Zoho's 400 answer."""
    if "criteria" in query:
        try:
            return parse_criteria(query["criteria"], set(LEADS_BY_NAME) | {"id"})
        except CriteriaError as error:
            return crm_error(400, "INVALID_QUERY", "Invalid query formed", dict(error.details))
    if "email" in query:
        email = query["email"]
        return lambda r: matches_email(r, email)
    if "phone" in query:
        phone = query["phone"]
        return lambda r: matches_phone(r, phone)
    if "word" in query:
        word = unescape(query["word"]).strip()  # commas and parentheses come escaped, as in criteria
        if len(word) < 2:
            return crm_error(400, "INVALID_DATA", "the word must have at least 2 characters", {"param_name": "word"})
        return lambda r: matches_word(r, word)
    details = {"param_names": ["criteria", "email", "phone", "word"]}
    return crm_error(400, "EXPECTED_PARAM_MISSING", "One of the expected parameter is missing", details)


async def count_records(request: web.Request) -> web.Response:
    """GET /crm/v8/Leads/actions/count[?criteria=|email=|phone=|word=]: `{"count": N}` of the Leads the caller may
    see, all of them or those a search would find."""
    if refused := refusal(request, "read"):
        return refused
    emu: ZohoEmulator = request.app[EMULATOR]
    records = emu.lead_store.records(request[USER].org_id)
    if any(name in request.query for name in ("criteria", "email", "phone", "word")):
        matches = _search_matcher(request.query)
        if isinstance(matches, web.Response):
            return matches
        records = [r for r in records if matches(r)]
    return json_response({"count": len(records)})


def add_routes(app: web.Application) -> None:
    """Mount list, search and count (before `/{module}/{record_id}` so neither is taken for an id)."""
    app.router.add_get("/crm/v8/{module}/actions/count", count_records)
    app.router.add_get("/crm/v8/{module}/search", search_records)
    app.router.add_get("/crm/v8/{module}", list_records)
