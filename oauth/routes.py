"""aiohttp routes of the login: `GET /zoho/login` (whose link is this? Continue?), `POST /zoho/login` (Continue: on
to Zoho), `GET /zoho/callback`, and `POST /zoho/undo` (the success page's "Disconnect" button, offered when the
Zoho account's e-mail is not the chat user's: see LoginCheck).

A cookie binds the login to one browser, in two stages: opening the link sets it to "seen"; Continue needs that
(a form submitted from another site carries no SameSite=Lax cookie) and moves it to "continued"; the callback
needs "continued". So an authorize URL built by hand, or a callback URL that leaks or is planted in someone else's
browser, cannot finish a login there. The cookie is a keyed hash (store.login_states.browser_binding): nobody
can compute it from the state.
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from oauth.datacentres import data_centre_name
from oauth.login import CallbackParams, Failure, LoginFailed, LoginService
from oauth.pages import (
    FAILURE_STATUS,
    confirm_page,
    error_page,
    failure_page,
    security_headers,
    success_page,
    undone_page,
)

log = logging.getLogger(__name__)

COOKIE = "zoho_login"
SEEN, CONTINUED = "seen", "continued"
_MAX_STATE = 200


def login_routes(service: LoginService, *, https: bool) -> list[web.RouteDef]:
    """The login's routes, bound to `service`; `https`: PUBLIC_URL is https (secure cookies, HSTS)."""
    headers = security_headers(https=https)
    onward_headers = security_headers(https=https, form_targets=(service.authorize_origin,))

    def html(text: str, status: int = 200, extra: dict[str, str] | None = None) -> web.Response:
        return web.Response(
            text=text, status=status, content_type="text/html", charset="utf-8", headers=extra or headers
        )

    def refused(failure: Failure) -> web.Response:
        return html(failure_page(failure), FAILURE_STATUS[failure])

    def bind(response: web.StreamResponse, state: str, stage: str) -> None:
        response.set_cookie(
            COOKIE,
            service.browser_binding(state, stage),
            max_age=900,
            path="/zoho/",
            httponly=True,
            secure=https,
            samesite="Lax",
        )

    def bound(request: web.Request, state: str, stage: str) -> bool:
        expected = service.browser_binding(state, stage)
        return hmac.compare_digest(request.cookies.get(COOKIE, "").encode(), expected.encode())

    def from_our_page(request: web.Request) -> bool:
        # The cookie is what counts (a SameSite=Lax cookie is not sent with a form posted from another site);
        # these headers refuse such a post earlier where browsers send them. Our pages' no-referrer policy
        # makes a browser send `Origin: null` with their own forms.
        site = request.headers.get("Sec-Fetch-Site")
        origin = request.headers.get("Origin")
        return site in (None, "same-origin") and origin in (None, "null", service.public_origin)

    async def ask(request: web.Request) -> web.Response:
        state = request.query.get("state", "")
        if not state or len(state) > _MAX_STATE:
            return refused(Failure.BAD_LINK)
        try:
            person = await service.confirmation(state)
        except LoginFailed as exc:
            return refused(exc.failure)
        response = html(confirm_page(state, person), extra=onward_headers)
        bind(response, state, SEEN)
        return response

    async def go_on(request: web.Request) -> web.Response:
        state = str((await request.post()).get("state", ""))
        if not state or len(state) > _MAX_STATE:
            return refused(Failure.BAD_LINK)
        if not from_our_page(request) or not bound(request, state, SEEN):
            log.info("login Continue refused: not from the page this browser opened")
            return refused(Failure.OTHER_BROWSER)
        try:
            url = await service.authorize_url(state)
        except LoginFailed as exc:
            return refused(exc.failure)
        response = web.HTTPSeeOther(url, headers=headers)
        bind(response, state, CONTINUED)
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
        browser_bound = bool(params.state) and bound(request, params.state or "", CONTINUED)
        try:
            connection = await service.complete(params, browser_bound=browser_bound)
        except LoginFailed as exc:
            log.info("login callback failed: %s", exc.failure.value)
            return refused(exc.failure)
        except Exception:
            log.exception("login callback crashed")
            return html(error_page(), 500)
        check = await service.check(connection)
        person = check.person
        response = html(
            success_page(
                connection.zoho_email,
                connection.org_name,
                data_centre_name(connection.location),
                chat_user=person.name if person else None,
                chat_email=person.email if person else None,
                undo_token=check.undo_token,
            )
        )
        response.del_cookie(COOKIE, path="/zoho/")
        return response

    async def undo(request: web.Request) -> web.Response:
        form = await request.post()
        try:
            connection = await service.undo(str(form.get("token", "")))
        except LoginFailed as exc:
            return refused(exc.failure)
        except Exception:
            log.exception("login undo crashed")
            return html(error_page(), 500)
        return html(undone_page(connection.zoho_email or ""))

    return [
        web.get("/zoho/login", ask),
        web.post("/zoho/login", go_on),
        web.get("/zoho/callback", callback),
        web.post("/zoho/undo", undo),
    ]
