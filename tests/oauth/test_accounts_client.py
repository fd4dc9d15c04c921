"""The accounts client carries nothing from one user's call to the next, and never follows a redirect with secrets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from oauth.accounts_client import ZohoAccountsClient, ZohoUnreachable


class Recorder:
    """A loopback server that remembers the Cookie header and path of every request it gets."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.url = ""

    async def start(self, routes: web.RouteTableDef) -> web.AppRunner:
        @web.middleware
        async def record(request: web.Request, handler):
            self.seen.append((request.path, request.headers.get("Cookie")))
            return await handler(request)

        app = web.Application(middlewares=[record])
        app.add_routes(routes)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://localhost:{runner.addresses[0][1]}"  # cookies are kept for names, not IPs
        return runner


@pytest.fixture
async def elsewhere() -> AsyncIterator[Recorder]:
    recorder, routes = Recorder(), web.RouteTableDef()

    @routes.post("/oauth/v2/token")
    async def token(request: web.Request) -> web.Response:
        return web.json_response({"access_token": "stolen"})

    runner = await recorder.start(routes)
    yield recorder
    await runner.cleanup()


@pytest.fixture
async def zoho(elsewhere: Recorder) -> AsyncIterator[Recorder]:
    recorder, routes = Recorder(), web.RouteTableDef()

    @routes.get("/crm/v8/users")
    async def users(request: web.Request) -> web.Response:
        email = "ann@acme.test" if "ann" in request.headers.get("Authorization", "") else "bob@globex.test"
        answer = web.json_response({"users": [{"email": email, "id": "1", "full_name": email}]})
        answer.set_cookie("zalb", f"sticky-{email}")  # what a load balancer in front of Zoho might do
        return answer

    @routes.get("/crm/v8/org")
    async def org(request: web.Request) -> web.Response:
        return web.json_response({"org": [{"id": "9", "company_name": "Acme"}]})

    @routes.post("/oauth/v2/token")
    async def token(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(elsewhere.url + "/oauth/v2/token")

    runner = await recorder.start(routes)
    yield recorder
    await runner.cleanup()


async def test_a_cookie_set_on_one_users_call_is_not_sent_with_the_next_users(zoho: Recorder) -> None:
    client = ZohoAccountsClient("1000.CLIENT", "client-secret")
    try:
        ann = await client.identify(zoho.url, "token-of-ann")
        bob = await client.identify(zoho.url, "token-of-bob")
    finally:
        await client.close()

    assert (ann.email, bob.email) == ("ann@acme.test", "bob@globex.test")
    assert [cookie for _, cookie in zoho.seen] == [None] * 4


async def test_a_redirect_from_the_token_endpoint_is_not_followed(zoho: Recorder, elsewhere: Recorder) -> None:
    client = ZohoAccountsClient("1000.CLIENT", "client-secret")
    try:
        with pytest.raises(ZohoUnreachable):
            await client.refresh(zoho.url, "1000.refresh-token")
    finally:
        await client.close()

    assert elsewhere.seen == []  # neither the client secret nor the refresh token went anywhere else
