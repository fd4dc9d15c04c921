"""The token endpoints of the accounts server: `POST /oauth/v2/token` (code exchange, refresh) and
`POST /oauth/v2/token/revoke` (docs/reference/zoho.md §2, §3). Parameters come from the form body or the
query string."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from .consent import error_response
from .context import EMULATOR
from .envelopes import json_response
from .tokens import TokenError

if TYPE_CHECKING:
    from .server import ZohoEmulator


@dataclass(frozen=True)
class AccountsCall:
    """One token or revoke request: what it carried, whose it was, and how it ended.

    `token` is the code, refresh token or revoked token sent; `outcome` is "ok", the error code Zoho
    answers ("invalid_code", "Access Denied", "invalid_token", …) or "http 500" under `fail_accounts_with`.
    """

    path: str
    grant_type: str | None
    client_id: str | None
    token: str | None
    email: str | None
    outcome: str


async def _params(request: web.Request) -> dict[str, str]:
    """Query string and form body together (Zoho accepts either; the body wins)."""
    params = dict(request.query)
    form = await request.post()
    params.update({k: str(v) for k, v in form.items()})
    return params


def _failure(status: int) -> tuple[web.Response, str]:
    return error_response("Server Error", f"The accounts server answered {status}.", status), f"http {status}"


def _error(code: str, description: str | None = None) -> tuple[web.Response, str]:
    body = {"error_description": description, "error": code} if description else {"error": code}
    return json_response(body), code


def _grant(emu: ZohoEmulator, params: dict[str, str]) -> tuple[web.Response, str]:
    grant_type = params.get("grant_type")
    if emu.fail_accounts_with:
        return _failure(emu.fail_accounts_with)
    if grant_type not in ("authorization_code", "refresh_token"):
        return _error("unsupported_grant_type")
    client = emu.directory.clients.get(params.get("client_id", ""))
    if client is None:
        return _error("invalid_client")
    if params.get("client_secret") != client.client_secret:
        return _error("invalid_client_secret")
    try:
        if grant_type == "authorization_code":
            grant = emu.ledger.exchange_code(
                client.client_id, params.get("code", ""), params.get("redirect_uri"), emu.token_lifetime
            )
        else:
            grant = emu.ledger.refresh(client.client_id, params.get("refresh_token", ""), emu.token_lifetime)
    except TokenError as error:
        return _error(error.code, error.description)
    answer: dict[str, object] = {"access_token": grant.access_token.value}
    if grant.refresh_token is not None:
        answer["refresh_token"] = grant.refresh_token
    answer.update({"api_domain": emu.url, "token_type": "Bearer", "expires_in": int(emu.token_lifetime)})
    return json_response(answer), "ok"


def _owner(emu: ZohoEmulator, value: str | None) -> str | None:
    """Whose code or refresh token `value` is, if the emulator issued it."""
    if not value:
        return None
    code = emu.ledger.codes.get(value)
    refresh = emu.ledger.refresh_tokens.get(value)
    return code.email if code else refresh.email if refresh else None


async def token(request: web.Request) -> web.Response:
    """POST /oauth/v2/token: code exchange or refresh; every error is HTTP 200 `{"error": …}`."""
    emu: ZohoEmulator = request.app[EMULATOR]
    params = await _params(request)
    grant_type = params.get("grant_type")
    if grant_type == "authorization_code":
        emu.counters["code_exchange"] += 1
    elif grant_type == "refresh_token":
        emu.counters["refresh"] += 1
    sent = params.get("code") if grant_type == "authorization_code" else params.get("refresh_token")
    response, outcome = _grant(emu, params)
    emu.accounts_calls.append(
        AccountsCall(request.path, grant_type, params.get("client_id"), sent, _owner(emu, sent), outcome)
    )
    return response


async def revoke(request: web.Request) -> web.Response:
    """POST /oauth/v2/token/revoke: `token` in the query or the form body; unknown → HTTP 400."""
    emu: ZohoEmulator = request.app[EMULATOR]
    params = await _params(request)
    emu.counters["revoke"] += 1
    value = params.get("token")
    if emu.fail_accounts_with:
        response, outcome = _failure(emu.fail_accounts_with)
    elif emu.ledger.revoke(value or ""):
        response, outcome = json_response({"status": "success"}), "ok"
    else:
        response = json_response({"status": "failure", "error": "invalid_token"}, status=400)
        outcome = "invalid_token"
    emu.accounts_calls.append(AccountsCall(request.path, None, None, value, _owner(emu, value), outcome))
    return response


def add_routes(app: web.Application) -> None:
    """Mount the token endpoints."""
    app.router.add_post("/oauth/v2/token", token)
    app.router.add_post("/oauth/v2/token/revoke", revoke)
