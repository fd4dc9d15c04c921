"""The CRM side's front door and its metadata calls: token check, call recording, failure knobs,
`/users`, `/org`, `/settings/fields`, `/settings/modules` (docs/reference/zoho.md §5, §6)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from .context import EMULATOR
from .directory import ZohoUser
from .envelopes import crm_error, invalid_token, json_response, missing_param
from .fields import fields_payload, layouts_payload, module_api_name, modules_payload
from .scopes import covers
from .tokens import AccessToken

if TYPE_CHECKING:
    from .server import ZohoEmulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TOKEN = web.RequestKey("zoho_access_token", AccessToken)
USER = web.RequestKey("zoho_user", ZohoUser)
OVER_ORG_LIMIT = web.RequestKey("zoho_over_org_limit", bool)  # beyond the org_concurrency knob: answered 429

_PERMISSION_NAMES = {
    "create": "Crm_Implied_Create_Leads",
    "read": "Crm_Implied_View_Leads",
    "update": "Crm_Implied_Edit_Leads",
    "delete": "Crm_Implied_Delete_Leads",
}
_KNOWN_PATHS = re.compile(r"^/crm/v8/(users|org|settings/fields|settings/layouts|settings/modules|[^/]+(/[^/]+)?)$")


@dataclass(frozen=True)
class CrmCall:
    """One CRM request as the emulator saw it: who sent it, with which token, and what it answered."""

    method: str
    path: str
    query: dict[str, str]
    access_token: str | None
    email: str | None
    org_id: str | None
    status: int
    client_port: int | None = None  # the sender's TCP port: calls on one kept-alive connection share it


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    prefix = "Zoho-oauthtoken "
    return header[len(prefix) :].strip() if header.startswith(prefix) else None


async def crm_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and record the call, apply `fail_with`, then let only a live access token through."""
    emu: ZohoEmulator = request.app[EMULATOR]
    emu.counters["crm"] += 1
    value = _bearer(request)
    known = emu.ledger.lookup_access(value) if value else None
    response = await _answer(emu, request, handler, value)
    emu.crm_calls.append(
        CrmCall(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            access_token=value,
            email=known.email if known else None,
            org_id=known.org_id if known else None,
            status=response.status,
            client_port=_client_port(request),
        )
    )
    return response


def _client_port(request: web.Request) -> int | None:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return peer[1] if isinstance(peer, tuple) and len(peer) >= 2 else None


async def _answer(emu: ZohoEmulator, request: web.Request, handler: Handler, value: str | None) -> web.StreamResponse:
    if request.get(OVER_ORG_LIMIT):  # Zoho says nothing about when to try again for this one
        return crm_error(429, "TOO_MANY_REQUESTS", "You have exceeded the maximum number of concurrent API calls.")
    if emu.fail_with == 429:
        return crm_error(
            429,
            "TOO_MANY_REQUESTS",
            "You have exceeded the maximum number of concurrent API calls or API credits.",
            **{"Retry-After": str(emu.retry_after)},
        )
    if emu.fail_with:
        return crm_error(emu.fail_with, "INTERNAL_ERROR", "Internal Server Error")
    token = emu.ledger.authenticate(value) if value else None
    user = emu.directory.user(token.email) if token else None
    if token is None or user is None:
        return invalid_token()
    request[TOKEN] = token
    request[USER] = user
    return await handler(request)


def guard(request: web.Request, scope: str, operation: str | None = None) -> web.Response | None:
    """The 401/403 answer if the token's scopes or the user's profile do not allow this call, else None."""
    emu: ZohoEmulator = request.app[EMULATOR]
    if emu.enforce_scopes and not covers(request[TOKEN].scopes, scope):
        return crm_error(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")
    if operation is not None and not emu.directory.permissions_of(request[USER].email).allows(operation):
        details: dict[str, object] = {"permissions": [_PERMISSION_NAMES[operation]]}
        return crm_error(403, "NO_PERMISSION", "permission denied", details)
    return None


def _user_json(user: ZohoUser, org_created: str) -> dict[str, object]:
    first, _, last = user.full_name.rpartition(" ")
    return {
        "id": user.crm_user_id,
        "zuid": user.zuid,
        "email": user.email,
        "full_name": user.full_name,
        "first_name": first or None,
        "last_name": last,
        "name": user.full_name,
        "status": "active",
        "confirm": True,
        "role": {"name": "CEO", "id": "5725767000000026005"},
        "profile": {"name": "Administrator", "id": "5725767000000026011"},
        "locale": "en_US",
        "language": "en_US",
        "country_locale": "en_US",
        "time_zone": "UTC",
        "date_format": "MMM d, yyyy",
        "time_format": "hh:mm a",
        "created_time": org_created,
    }


async def users(request: web.Request) -> web.Response:
    """GET /crm/v8/users?type=CurrentUser|AllUsers|ActiveUsers."""
    if denied := guard(request, "ZohoCRM.users.READ"):
        return denied
    emu: ZohoEmulator = request.app[EMULATOR]
    me = request[USER]
    org = emu.directory.orgs[me.org_id]
    kind = request.query.get("type", "AllUsers")
    chosen = [me] if kind == "CurrentUser" else emu.directory.org_users(me.org_id)
    info = {"per_page": 200, "count": len(chosen), "page": 1, "more_records": False}
    return json_response({"users": [_user_json(u, org.created_time) for u in chosen], "info": info})


async def org(request: web.Request) -> web.Response:
    """GET /crm/v8/org: the caller's organisation."""
    if denied := guard(request, "ZohoCRM.org.READ"):
        return denied
    emu: ZohoEmulator = request.app[EMULATOR]
    me = request[USER]
    found = emu.directory.orgs[me.org_id]
    primary = emu.directory.org_users(me.org_id)[0]
    body = {
        "id": found.org_id,
        "zgid": found.zgid,
        "company_name": found.name,
        "domain_name": "org" + found.zgid,
        "primary_email": primary.email,
        "primary_zuid": primary.zuid,
        "type": "Production",
        "country_code": me.location.upper(),
        "time_zone": "UTC",
        "currency": "US Dollar - USD",
        "currency_symbol": "$",
        "iso_code": "USD",
        "currency_locale": "en_US",
        "mc_status": False,
        "gapps_enabled": False,
        "max_per_page": 200,
        "created_time": found.created_time,
    }
    return json_response({"org": [body]})


async def settings_fields(request: web.Request) -> web.Response:
    """GET /crm/v8/settings/fields?module=Leads: field metadata (what the SDK's converter reads)."""
    if denied := guard(request, "ZohoCRM.settings.fields.READ"):
        return denied
    module = _settings_module(request)
    if isinstance(module, web.Response):
        return module
    if module in request.app[EMULATOR].fail_fields_of:
        return crm_error(500, "INTERNAL_ERROR", "Internal Server Error")
    return json_response(fields_payload(module))


def _settings_module(request: web.Request, only: str | None = None) -> str | web.Response:
    """The module a settings call names (`?module=`), or Zoho's answer when it names none, or none it has (or not
    `only`, for a call the emulator serves for one module)."""
    name = request.query.get("module")
    if not name:
        return missing_param("module")
    module = module_api_name(name)
    if module is None or only not in (None, module):
        return crm_error(400, "INVALID_MODULE", "the module name given seems to be invalid", {"param_name": "module"})
    return module


async def settings_layouts(request: web.Request) -> web.Response:
    """GET /crm/v8/settings/layouts?module=Leads: the Leads layout, its sections and which fields it requires."""
    if denied := guard(request, "ZohoCRM.settings.layouts.READ"):
        return denied
    if isinstance(refused := _settings_module(request, only="Leads"), web.Response):
        return refused
    emu: ZohoEmulator = request.app[EMULATOR]
    return json_response(layouts_payload(frozenset(emu.lead_store.required)))


async def settings_modules(request: web.Request) -> web.Response:
    """GET /crm/v8/settings/modules."""
    if denied := guard(request, "ZohoCRM.settings.modules.READ"):
        return denied
    return json_response(modules_payload())


async def unknown_url(request: web.Request) -> web.Response:
    """Any other /crm path: 400 INVALID_REQUEST_METHOD for a known URL with the wrong verb, else 404."""
    if _KNOWN_PATHS.match(request.path):
        return crm_error(400, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one")
    return crm_error(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")


def add_routes(app: web.Application) -> None:
    """Mount the metadata endpoints (record routes are added by crm_records)."""
    app.router.add_get("/crm/v8/users", users)
    app.router.add_get("/crm/v8/org", org)
    app.router.add_get("/crm/v8/settings/fields", settings_fields)
    app.router.add_get("/crm/v8/settings/layouts", settings_layouts)
    app.router.add_get("/crm/v8/settings/modules", settings_modules)


def add_fallback_route(app: web.Application) -> None:
    """Mount the catch-all last, after every real CRM route."""
    app.router.add_route("*", "/crm/{tail:.*}", unknown_url)
