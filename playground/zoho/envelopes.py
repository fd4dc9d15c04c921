"""Zoho's response shapes: the CRM JSON envelope, empty 204s and the accounts server's JSON."""

from __future__ import annotations

import json

from aiohttp import web

JSON_TYPE = "application/json;charset=UTF-8"


def json_response(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer with Zoho's content type (`application/json;charset=UTF-8`)."""
    return web.Response(
        status=status,
        body=json.dumps(payload).encode(),
        headers={"Content-Type": JSON_TYPE, **(headers or {})},
    )


def crm_error(
    status: int, code: str, message: str, details: dict[str, object] | None = None, **headers: str
) -> web.Response:
    """A request-level CRM error: `{"code","details","message","status":"error"}` at top level."""
    body = {"code": code, "details": details or {}, "message": message, "status": "error"}
    return json_response(body, status=status, headers=headers or None)


def invalid_token() -> web.Response:
    """401 INVALID_TOKEN: missing, unknown, expired, revoked or evicted access token."""
    return crm_error(401, "INVALID_TOKEN", "invalid oauth token")


def no_content() -> web.Response:
    """204 with an empty body and no Content-Type (the SDK then returns an APIResponse with no object)."""
    return web.Response(status=204)


def batch_response(items: list[dict[str, object]], all_ok_status: int) -> web.Response:
    """A `{"data": [...]}` answer of per-record results: all ok → `all_ok_status`, none → 400, mixed → 207."""
    ok = sum(1 for item in items if item.get("status") == "success")
    status = all_ok_status if ok == len(items) else 400 if ok == 0 else 207
    return json_response({"data": items}, status=status)


def missing_param(name: str) -> web.Response:
    """400 REQUIRED_PARAM_MISSING naming the parameter (e.g. `fields` on a list call, `ids` on a bulk delete)."""
    return crm_error(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param_name": name})
