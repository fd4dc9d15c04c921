"""The authorization request at the accounts server: `GET/POST /oauth/v2/auth` and the redirect back
(docs/reference/zoho.md §1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlencode

from aiohttp import web

from .consent import CARRIED_PARAMS, consent_page, error_response, html_response
from .context import EMULATOR
from .directory import OAuthClient, ZohoUser
from .scopes import parse_scopes

if TYPE_CHECKING:
    from .server import ZohoEmulator


def _redirect(redirect_uri: str, pairs: list[tuple[str, str]]) -> NoReturn:
    separator = "&" if "?" in redirect_uri else "?"
    raise web.HTTPFound(redirect_uri + separator + urlencode(pairs))


def _check_request(emu: ZohoEmulator, params: dict[str, str]) -> OAuthClient | web.Response:
    """The client of a valid authorize request, or the 400 error page to show instead (nothing redirected)."""
    client = emu.directory.clients.get(params.get("client_id", ""))
    if client is None:
        return error_response("Invalid Client", "The client_id is not registered (invalid_client).")
    if params.get("redirect_uri") not in client.redirect_uris:
        return error_response("Invalid Redirect Uri", "The redirect_uri is not registered for this client.")
    if params.get("response_type") != "code":
        return error_response("Invalid Response Type", "response_type must be code.")
    if not parse_scopes(params.get("scope", "")):
        return error_response("Invalid OAuth Scope", "The scope parameter is missing.")
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
            return error_response("Unknown Account", "auto_approve_as names no Zoho user.")
        return _approve(emu, params, user)
    return html_response(consent_page(checked, params, list(emu.directory.users.values())))


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
        return error_response("Bad Request", "Choose Accept or Deny.")
    user = emu.directory.user(str(form.get("email", "")).strip())
    if user is None:
        users = list(emu.directory.users.values())
        return html_response(consent_page(checked, params, users, error="No Zoho account with that email."), 400)
    return _approve(emu, params, user)


def add_routes(app: web.Application) -> None:
    """Mount the authorize endpoints."""
    app.router.add_get("/oauth/v2/auth", authorize_page)
    app.router.add_post("/oauth/v2/auth", authorize_decision)
