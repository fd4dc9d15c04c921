"""Lead record writes and single reads: `POST/PUT/DELETE /crm/v8/Leads`, `GET/PUT/DELETE /crm/v8/Leads/{id}`.

Bodies are parsed as JSON whatever the Content-Type (the SDK sends none, docs/reference/zoho.md §5).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web

from .context import EMULATOR
from .crm import USER, guard
from .envelopes import batch_response, crm_error, json_response, missing_param, no_content
from .fields import module_api_name
from .leads import project

if TYPE_CHECKING:
    from .server import ZohoEmulator

MAX_RECORDS = 100
LEADS_SCOPE = "ZohoCRM.modules.leads."


def check_module(request: web.Request) -> web.Response | None:
    """400 INVALID_MODULE unless the URL names Leads (the only module with records here)."""
    name = request.match_info["module"]
    if module_api_name(name) != "Leads":
        details: dict[str, object] = {"resource_path_index": 0}
        return crm_error(400, "INVALID_MODULE", "the module name given seems to be invalid", details)
    return None


def refusal(request: web.Request, operation: str) -> web.Response | None:
    """The error answer if the URL is not Leads or the token/profile may not do `operation`, else None."""
    scope = LEADS_SCOPE + {"read": "READ", "create": "CREATE", "update": "UPDATE", "delete": "DELETE"}[operation]
    return check_module(request) or guard(request, scope, operation)


async def _data_items(request: web.Request) -> list[object] | web.Response:
    """The `data` array of the body, or the top-level error Zoho answers for a bad body."""
    raw = await request.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        return crm_error(400, "INVALID_DATA", "body is not a valid JSON", {})
    if not isinstance(body, dict) or not isinstance(body.get("data"), list) or not body["data"]:
        return crm_error(400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "data"})
    if len(body["data"]) > MAX_RECORDS:
        return crm_error(400, "LIMIT_EXCEEDED", "Maximum record count exceeded", {"limit": MAX_RECORDS})
    return list(body["data"])


async def create_records(request: web.Request) -> web.Response:
    """POST /crm/v8/Leads: up to 100 records, each created or refused on its own (201 when all succeed)."""
    if refused := refusal(request, "create"):
        return refused
    items = await _data_items(request)
    if isinstance(items, web.Response):
        return items
    emu: ZohoEmulator = request.app[EMULATOR]
    user = request[USER]
    results = emu.lead_store.create(user, emu.directory.org_users(user.org_id), items)
    return batch_response(results, all_ok_status=201)


async def update_records(request: web.Request) -> web.Response:
    """PUT /crm/v8/Leads (ids in the items) or PUT /crm/v8/Leads/{id}: only the given fields change."""
    if refused := refusal(request, "update"):
        return refused
    items = await _data_items(request)
    if isinstance(items, web.Response):
        return items
    emu: ZohoEmulator = request.app[EMULATOR]
    user = request[USER]
    url_id = request.match_info.get("record_id")
    results = emu.lead_store.update(user, emu.directory.org_users(user.org_id), items, url_id=url_id)
    return batch_response(results, all_ok_status=200)


async def delete_records(request: web.Request) -> web.Response:
    """DELETE /crm/v8/Leads?ids=1,2 or DELETE /crm/v8/Leads/{id}."""
    if refused := refusal(request, "delete"):
        return refused
    url_id = request.match_info.get("record_id")
    if url_id is not None:
        ids = [url_id]
    else:
        ids = [i.strip() for i in ",".join(request.query.getall("ids", [])).split(",") if i.strip()]
        if not ids:
            return missing_param("ids")
        if len(ids) > MAX_RECORDS:
            return crm_error(400, "LIMIT_EXCEEDED", "Maximum record count exceeded", {"limit": MAX_RECORDS})
    emu: ZohoEmulator = request.app[EMULATOR]
    return batch_response(emu.lead_store.delete(request[USER].org_id, ids), all_ok_status=200)


async def get_record(request: web.Request) -> web.Response:
    """GET /crm/v8/Leads/{id}: 200 `{"data":[record]}`, 204 if the caller's org has no such record."""
    if refused := refusal(request, "read"):
        return refused
    emu: ZohoEmulator = request.app[EMULATOR]
    record = emu.lead_store.get(request[USER].org_id, request.match_info["record_id"])
    if record is None:
        return no_content()
    fields = [f.strip() for f in ",".join(request.query.getall("fields", [])).split(",") if f.strip()]
    return json_response({"data": [project(record, fields)]})


def add_routes(app: web.Application) -> None:
    """Mount the record routes (after /search, which crm_listing mounts first)."""
    app.router.add_post("/crm/v8/{module}", create_records)
    app.router.add_put("/crm/v8/{module}", update_records)
    app.router.add_delete("/crm/v8/{module}", delete_records)
    app.router.add_get("/crm/v8/{module}/{record_id}", get_record)
    app.router.add_put("/crm/v8/{module}/{record_id}", update_records)
    app.router.add_delete("/crm/v8/{module}/{record_id}", delete_records)
