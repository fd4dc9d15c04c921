"""The accounts server: `/oauth/v2/auth` (consent), `/oauth/v2/token`, `/oauth/v2/token/revoke` (zoho.md §1–§3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlencode

from aiohttp import web

from .consent import CARRIED_PARAMS, consent_page, error_page
from .context import EMULATOR
from .directory import OAuthClient, ZohoUser
from .envelopes import json_response
from .scopes import parse_scopes
from .tokens import TokenError

if TYPE_CHECKING:
    from .server import ZohoEmulator


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _redirect(redirect_uri: str, pairs: list[tuple[str, str]]) -> NoReturn:
    separator = "&" if "?" in redirect_uri else "?"
    raise web.HTTPFound(redirect_uri + separator + urlencode(pairs))


def _check_request(emu: ZohoEmulator, params: dict[str, str]) -> OAuthClient | web.Response:
    """The client of a valid authorize request, or the 400 error page to show instead (nothing redirected)."""
    client = emu.directory.clients.get(params.get("client_id", ""))
    if client is None:
        return _html(error_page("Invalid Client", "The client_id is not registered (invalid_client)."), 400)
    if params.get("redirect_uri") not in client.redirect_uris:
        return _html(error_page("Invalid Redirect Uri", "The redirect_uri is not registered for this client."), 400)
    if params.get("response_type") != "code":
        return _html(error_page("Invalid Response Type", "response_type must be code."), 400)
    if not parse_scopes(params.get("scope", "")):
        return _html(error_page("Invalid OAuth Scope", "The scope parameter is missing."), 400)
    return client


def _with_state(params: dict[str, str], pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return pairs + ([("state", params["state"])] if "state" in params else [])


def _approve(emu: ZohoEmulator, params: dict[str, str], user: ZohoUser) -> web.Response:
    redirect_uri = params["redirect_uri"]
    if not user.has_crm:
        return _redirect(redirect_uri, _with_state(params, [("error", "no_org")]))
    code = emu.ledger.issue_code(
        client_id=params["client_id"],
        redirect_uri=redirect_uri,
        email=user.email,
        org_id=user.org_id,
        scopes=parse_scopes(params.get("scope", "")),
        offline=params.get("access_type") == "offline",
    )
    pairs = [("code", code), ("location", user.location), ("accounts-server", emu.url)]
    return _redirect(redirect_uri, _with_state(params, pairs))


async def authorize_page(request: web.Request) -> web.Response:
    """GET /oauth/v2/auth: the consent page, or an immediate redirect when `auto_approve_as` is set."""
    emu: ZohoEmulator = request.app[EMULATOR]
    emu.counters["authorize"] += 1
    params = dict(request.query)
    checked = _check_request(emu, params)
    if isinstance(checked, web.Response):
        return checked
    if emu.auto_approve_as is not None:
        user = emu.directory.user(emu.auto_approve_as)
        if user is None:
            return _html(error_page("Unknown Account", "auto_approve_as names no Zoho user."), 400)
        return _approve(emu, params, user)
    return _html(consent_page(checked, params, list(emu.directory.users.values())))


async def authorize_decision(request: web.Request) -> web.Response:
    """POST /oauth/v2/auth: the person pressed Accept (with an account) or Deny."""
    emu: ZohoEmulator = request.app[EMULATOR]
    form = await request.post()
    params = {name: str(form[name]) for name in CARRIED_PARAMS if name in form}
    checked = _check_request(emu, params)
    if isinstance(checked, web.Response):
        return checked
    action = form.get("action")
    if action == "deny":
        return _redirect(params["redirect_uri"], _with_state(params, [("error", "access_denied")]))
    if action != "accept":
        return _html(error_page("Bad Request", "Choose Accept or Deny."), 400)
    user = emu.directory.user(str(form.get("email", "")).strip())
    if user is None:
        users = list(emu.directory.users.values())
        return _html(consent_page(checked, params, users, error="No Zoho account with that email."), 400)
    return _approve(emu, params, user)


async def _params(request: web.Request) -> dict[str, str]:
    """Query string and form body together (Zoho accepts either; the body wins)."""
    params = dict(request.query)
    form = await request.post()
    params.update({k: str(v) for k, v in form.items()})
    return params


def _failure_page(status: int) -> web.Response:
    return _html(error_page("Server Error", f"The accounts server answered {status}."), status)


async def token(request: web.Request) -> web.Response:
    """POST /oauth/v2/token: code exchange or refresh; every error is HTTP 200 `{"error": …}`."""
    emu: ZohoEmulator = request.app[EMULATOR]
    params = await _params(request)
    grant_type = params.get("grant_type")
    if grant_type == "authorization_code":
        emu.counters["code_exchange"] += 1
    elif grant_type == "refresh_token":
        emu.counters["refresh"] += 1
    if emu.fail_accounts_with:
        return _failure_page(emu.fail_accounts_with)
    if grant_type not in ("authorization_code", "refresh_token"):
        return json_response({"error": "unsupported_grant_type"})
    client = emu.directory.clients.get(params.get("client_id", ""))
    if client is None:
        return json_response({"error": "invalid_client"})
    if params.get("client_secret") != client.client_secret:
        return json_response({"error": "invalid_client_secret"})
    try:
        if grant_type == "authorization_code":
            grant = emu.ledger.exchange_code(
                client.client_id, params.get("code", ""), params.get("redirect_uri"), emu.token_lifetime
            )
        else:
            grant = emu.ledger.refresh(client.client_id, params.get("refresh_token", ""), emu.token_lifetime)
    except TokenError as error:
        body = {"error": error.code}
        if error.description:
            body = {"error_description": error.description, "error": error.code}
        return json_response(body)
    answer: dict[str, object] = {"access_token": grant.access_token.value}
    if grant.refresh_token is not None:
        answer["refresh_token"] = grant.refresh_token
    answer.update({"api_domain": emu.url, "token_type": "Bearer", "expires_in": int(emu.token_lifetime)})
    return json_response(answer)


async def revoke(request: web.Request) -> web.Response:
    """POST /oauth/v2/token/revoke: `token` in the query or the form body."""
    emu: ZohoEmulator = request.app[EMULATOR]
    params = await _params(request)
    emu.counters["revoke"] += 1
    if emu.fail_accounts_with:
        return _failure_page(emu.fail_accounts_with)
    if emu.ledger.revoke(params.get("token", "")):
        return json_response({"status": "success"})
    return json_response({"status": "failure", "error": "invalid_token"}, status=400)


def add_routes(app: web.Application) -> None:
    """Mount the accounts endpoints."""
    app.router.add_get("/oauth/v2/auth", authorize_page)
    app.router.add_post("/oauth/v2/auth", authorize_decision)
    app.router.add_post("/oauth/v2/token", token)
    app.router.add_post("/oauth/v2/token/revoke", revoke)
