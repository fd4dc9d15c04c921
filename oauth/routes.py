"""aiohttp routes of the login: `GET /zoho/login`, `GET /zoho/callback`, and `POST /zoho/undo` (the success page's
"Disconnect" button, offered when the Zoho account's e-mail is not the chat user's: see LoginCheck).

The login route sets a short-lived cookie that binds the browser to the state; the callback refuses a state that
comes back in a browser without it, so a callback URL that leaks or is planted in someone else's browser cannot
finish a login there.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from aiohttp import web

from oauth.datacentres import data_centre_name
from oauth.login import CallbackParams, Failure, LoginFailed, LoginService
from oauth.pages import FAILURE_STATUS, error_page, failure_page, success_page, undone_page

log = logging.getLogger(__name__)

COOKIE = "zoho_login"
_NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=_NO_STORE)


def _browser_binding(state: str) -> str:
    # A digest of the state (not the state itself) in the cookie, so the cookie is useless alone.
    return hashlib.sha256(b"zoho-login-binding:" + state.encode()).hexdigest()


def login_routes(service: LoginService, *, secure_cookies: bool) -> list[web.RouteDef]:
    """The two routes, bound to `service`."""

    async def login(request: web.Request) -> web.Response:
        state = request.query.get("state", "")
        if not state or len(state) > 200:
            return _html(failure_page(Failure.BAD_LINK), FAILURE_STATUS[Failure.BAD_LINK])
        try:
            url = await service.authorize_url(state)
        except LoginFailed as exc:
            return _html(failure_page(exc.failure), FAILURE_STATUS[exc.failure])
        response = web.HTTPFound(url, headers=_NO_STORE)
        response.set_cookie(
            COOKIE,
            _browser_binding(state),
            max_age=900,
            path="/zoho/",
            httponly=True,
            secure=secure_cookies,
            samesite="Lax",
        )
        raise response

    async def callback(request: web.Request) -> web.Response:
        q = request.query
        params = CallbackParams(
            state=q.get("state"),
            code=q.get("code"),
            error=q.get("error"),
            location=q.get("location"),
            accounts_server=q.get("accounts-server"),
        )
        bound = bool(params.state) and hmac.compare_digest(
            request.cookies.get(COOKIE, "").encode(), _browser_binding(params.state or "").encode()
        )
        try:
            connection = await service.complete(params, browser_bound=bound)
        except LoginFailed as exc:
            log.info("login callback failed: %s", exc.failure.value)
            return _html(failure_page(exc.failure), FAILURE_STATUS[exc.failure])
        except Exception:
            log.exception("login callback crashed")
            return _html(error_page(), 500)
        check = await service.check(connection)
        person = check.person
        response = _html(
            success_page(
                connection.zoho_email,
                connection.org_name,
                data_centre_name(connection.location),
                chat_user=person.name if person else None,
                chat_email=person.email if person else None,
                undo_token=check.undo_token,
                connection_id=connection.id,
            )
        )
        response.del_cookie(COOKIE, path="/zoho/")
        return response

    async def undo(request: web.Request) -> web.Response:
        form = await request.post()
        try:
            connection = await service.undo(str(form.get("token", "")), str(form.get("connection", "")))
        except LoginFailed as exc:
            return _html(failure_page(exc.failure), FAILURE_STATUS[exc.failure])
        except Exception:
            log.exception("login undo crashed")
            return _html(error_page(), 500)
        return _html(undone_page(connection.zoho_email or ""))

    return [web.get("/zoho/login", login), web.get("/zoho/callback", callback), web.post("/zoho/undo", undo)]
