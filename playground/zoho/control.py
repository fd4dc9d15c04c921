"""The JSON control API under `/_emulator/`: the same knobs as the Python API, for tests in other processes.

| route | body / query | answer |
|---|---|---|
| GET  /_emulator/state | | url, counters, crm_calls, revoked_refresh_tokens, config, users, orgs |
| POST /_emulator/config | any of the knob names | the new config |
| POST /_emulator/expire | {"email": optional} | {"expired": n} |
| POST /_emulator/users | add_user's keyword arguments | the user |
| POST /_emulator/clients | {"client_id","client_secret","redirect_uri"} | the client |
| POST /_emulator/permissions | {"email", "create"?, "read"?, "update"?, "delete"?} | {"status":"ok"} |
| POST /_emulator/leads | {"email", "n" or "records"} | {"ids": [...]} |
| GET  /_emulator/leads | ?org_id= or ?email= | {"leads": [...]} |
| GET  /_emulator/tokens | | {"issued": [...], "revoked_refresh_tokens": [...]} |
| POST /_emulator/reset_counters | | {"status":"ok"} |
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .context import EMULATOR

if TYPE_CHECKING:
    from .server import ZohoEmulator

SETTABLE = (
    "auto_approve_as", "token_lifetime", "latency", "fail_with", "fail_accounts_with", "fail_fields_of", "hang",
    "retry_after", "enforce_scopes", "refresh_limit", "refresh_window", "code_lifetime", "org_concurrency",
)  # fmt: skip


def _emu(request: web.Request) -> ZohoEmulator:
    return request.app[EMULATOR]


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    body = json.loads(raw) if raw else {}
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": "body must be a JSON object"}', content_type="application/json")
    return body


async def get_state(request: web.Request) -> web.Response:
    return web.json_response(_emu(request).state())


async def post_config(request: web.Request) -> web.Response:
    emu, body = _emu(request), await _body(request)
    unknown = sorted(set(body) - set(SETTABLE))
    if unknown:
        return _bad(f"unknown settings: {', '.join(unknown)}")
    for name in SETTABLE:
        if name in body:
            setattr(emu, name, body[name])
    return web.json_response(emu.config())


async def post_expire(request: web.Request) -> web.Response:
    body = await _body(request)
    return web.json_response({"expired": _emu(request).expire_access_tokens(body.get("email"))})


async def post_users(request: web.Request) -> web.Response:
    body = await _body(request)
    try:
        user = _emu(request).add_user(**body)
    except (TypeError, ValueError) as error:
        return _bad(str(error))
    return web.json_response(asdict(user))


async def post_clients(request: web.Request) -> web.Response:
    body = await _body(request)
    try:
        client = _emu(request).register_client(body["client_id"], body["client_secret"], body["redirect_uri"])
    except KeyError as error:
        return _bad(f"missing {error}")
    return web.json_response(asdict(client))


async def post_permissions(request: web.Request) -> web.Response:
    body = await _body(request)
    try:
        _emu(request).set_permissions(**body)
    except (TypeError, KeyError) as error:
        return _bad(str(error))
    return web.json_response({"status": "ok"})


async def post_leads(request: web.Request) -> web.Response:
    body = await _body(request)
    try:
        ids = _emu(request).seed_leads(body["email"], body.get("records", body.get("n", 1)))
    except KeyError as error:
        return _bad(str(error))
    return web.json_response({"ids": ids})


async def get_leads(request: web.Request) -> web.Response:
    emu = _emu(request)
    org_id = request.query.get("org_id")
    if org_id is None and "email" in request.query:
        user = emu.user(request.query["email"])
        org_id = user.org_id if user else None
    if org_id is None:
        return _bad("give org_id or the email of a known user")
    return web.json_response({"leads": emu.leads(org_id)})


async def get_tokens(request: web.Request) -> web.Response:
    emu = _emu(request)
    return web.json_response({"issued": emu.issued_tokens(), "revoked_refresh_tokens": emu.revoked_refresh_tokens})


async def post_reset_counters(request: web.Request) -> web.Response:
    _emu(request).reset_counters()
    return web.json_response({"status": "ok"})


def add_routes(app: web.Application) -> None:
    """Mount the control API."""
    app.router.add_get("/_emulator/state", get_state)
    app.router.add_post("/_emulator/config", post_config)
    app.router.add_post("/_emulator/expire", post_expire)
    app.router.add_post("/_emulator/users", post_users)
    app.router.add_post("/_emulator/clients", post_clients)
    app.router.add_post("/_emulator/permissions", post_permissions)
    app.router.add_post("/_emulator/leads", post_leads)
    app.router.add_get("/_emulator/leads", get_leads)
    app.router.add_get("/_emulator/tokens", get_tokens)
    app.router.add_post("/_emulator/reset_counters", post_reset_counters)
