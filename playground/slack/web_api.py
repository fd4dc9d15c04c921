"""The Web API edge: `GET|POST /api/<method>` as slack_sdk really calls it (docs/reference/slack.md §4).

Reads args from the query string, a form body and a JSON body; checks the token; applies scripted faults
(429 with Retry-After, 5xx); always answers `application/json` with Slack's envelope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from playground.slack.api_args import ApiError
from playground.slack.api_methods import Method
from playground.slack.records import ApiCall
from playground.slack.workspace import Workspace


@dataclass(frozen=True)
class ApiAccess:
    """Which tokens the emulated app holds and the scopes it was granted."""

    bot_token: str
    app_token: str | None
    scopes: frozenset[str]


async def read_args(request: web.Request) -> dict[str, Any]:
    """All the call's arguments: query string, then form fields, then JSON body keys (later ones win)."""
    args: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args


def _token(request: web.Request, args: dict[str, Any]) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    token = args.pop("token", None)
    return str(token) if token else None


def _answer(body: dict[str, Any], access: ApiAccess, *, status: int = 200, headers: dict[str, str] | None = None):
    all_headers = {"X-OAuth-Scopes": ",".join(sorted(access.scopes)), **(headers or {})}
    return web.json_response(body, status=status, headers=all_headers, dumps=json.dumps)


class WebApi:
    """The handler for `/api/{method}` over one workspace and method table."""

    def __init__(self, workspace: Workspace, methods: dict[str, Method], access: ApiAccess, base_url: str) -> None:
        self._ws = workspace
        self._methods = methods
        self._access = access
        self._base_url = base_url

    def set_base_url(self, base_url: str) -> None:
        self._base_url = base_url

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            args = await read_args(request)
        except ValueError:
            args = {}
        token = _token(request, args)
        status, body, headers = self._call(method, args, token)
        error = None if body.get("ok") else str(body.get("error"))
        self._ws.calls.append(ApiCall(method=method, args=args, token=token, status=status, error=error))
        return _answer(body, self._access, status=status, headers=headers)

    def _call(self, method: str, args: dict[str, Any], token: str | None):
        fault = self._ws.take_fault(method)
        if fault is not None:
            if fault.status == 429:
                retry = {"Retry-After": str(fault.retry_after or 0)}
                return 429, {"ok": False, "error": "ratelimited"}, retry
            return fault.status, {"ok": False, "error": "fatal_error"}, None
        if method == "apps.connections.open":
            return self._connections_open(token)
        if method not in self._methods:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, None
        if token is None:
            return 200, {"ok": False, "error": "not_authed"}, None
        if token != self._access.bot_token:
            return 200, {"ok": False, "error": "invalid_auth"}, None
        try:
            return 200, {"ok": True, **self._methods[method](self._ws, args)}, None
        except ApiError as exc:
            return 200, {"ok": False, "error": exc.code, **exc.extra}, None

    def _connections_open(self, token: str | None):
        if token is None:
            return 200, {"ok": False, "error": "not_authed"}, None
        if not token.startswith("xapp-"):
            return 200, {"ok": False, "error": "not_allowed_token_type"}, None
        if self._access.app_token is not None and token != self._access.app_token:
            return 200, {"ok": False, "error": "invalid_auth"}, None
        ws_url = self._base_url.replace("http://", "ws://", 1) + "/socket-mode"
        return 200, {"ok": True, "url": ws_url}, None
