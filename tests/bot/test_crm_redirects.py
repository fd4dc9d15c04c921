"""No request of the Zoho SDK follows a redirect: a 307 from a "Zoho" host must not carry the access token, the
client secret or a refresh token to the host it names. A redirect answer is Zoho being unavailable.

Two loopback servers: one answers every request with a 307 to the other, which only records what reaches it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.crm.api.exception.sdk_exception import SDKException

from bot.zoho import CrmConnection, ZohoCrm, ZohoUnavailable, http_bounds
from playground.zoho import ZohoEmulator
from tests.bot.leads_fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    MemoryTokenStore,
    ZohoAccount,
    connect_account,
)

ANN = "ann@alpha.test"


@dataclass
class Recorder:
    """The host a redirect points to: it records every request that reaches it."""

    received: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(f"{request.method} {request.path} {await request.text()}")
        return web.json_response({"access_token": "stolen", "expires_in": 3600, "status": "success"})


@dataclass
class Redirects:
    url: str
    recorder: Recorder


@pytest.fixture
async def redirects() -> AsyncIterator[Redirects]:
    recorder = Recorder()
    elsewhere = web.Application()
    elsewhere.router.add_route("*", "/{tail:.*}", recorder.handle)

    async def redirect(request: web.Request) -> web.Response:
        # A body the SDK would take for a token answer, were it to read a redirect's body as one.
        body = '{"access_token": "from-the-redirect", "expires_in": 3600}'
        target = f"{recorder_server.make_url(request.path)}?{request.query_string}"
        return web.Response(status=307, headers={"Location": target}, text=body, content_type="application/json")

    redirecting = web.Application()
    redirecting.router.add_route("*", "/{tail:.*}", redirect)
    async with (
        TestServer(elsewhere, host="127.0.0.1") as recorder_server,
        TestServer(redirecting, host="127.0.0.1") as redirect_server,
    ):
        yield Redirects(str(redirect_server.make_url("")).rstrip("/"), recorder)


@pytest.fixture
async def emu() -> AsyncIterator[ZohoEmulator]:
    emulator = ZohoEmulator()
    emulator.register_client(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    emulator.add_user(email=ANN, full_name="Ann Alpha", org_name="Alpha Inc")
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore()


@pytest.fixture
async def ann(emu: ZohoEmulator, store: MemoryTokenStore) -> ZohoAccount:
    async with aiohttp.ClientSession() as http:
        return await connect_account(http, emu, store, ANN)


@pytest.fixture
async def crm(store: MemoryTokenStore, tmp_path: Path) -> AsyncIterator[ZohoCrm]:
    adapter = ZohoCrm(store, str(tmp_path / "zoho-resources"), max_workers=2, read_timeout=5, call_timeout=8)
    yield adapter
    await adapter.close()


async def test_a_crm_call_answered_with_a_redirect_is_not_followed(
    crm: ZohoCrm, ann: ZohoAccount, redirects: Redirects
) -> None:
    moved = CrmConnection(ann.connection.token_id, ann.connection.user_signature, redirects.url, redirects.url)
    with pytest.raises(ZohoUnavailable):
        await crm.list_leads(moved)
    with pytest.raises(ZohoUnavailable):
        await crm.create_lead(
            moved, {"Last_Name": "Doe", "Company": "Acme"}, {"Last_Name": "text", "Company": "text"}
        )  # a POST: requests follows its 307
    assert redirects.recorder.received == []


async def test_a_token_refresh_answered_with_a_redirect_is_not_followed_nor_believed(
    crm: ZohoCrm, ann: ZohoAccount, store: MemoryTokenStore, redirects: Redirects
) -> None:
    token = store.find_token_by_id(ann.connection.token_id)
    token.set_expires_in(str(int(time.time() * 1000)))  # expired: the SDK refreshes first
    store.save_token(token)
    moved = CrmConnection(
        ann.connection.token_id, ann.connection.user_signature, ann.connection.api_domain, redirects.url
    )
    with pytest.raises(ZohoUnavailable):
        await crm.list_leads(moved)
    assert redirects.recorder.received == []
    assert store.access_token_of(ann.connection.token_id) == ann.access_token  # the redirect's body was no token


async def test_the_sdks_own_revocation_and_code_exchange_do_not_follow_redirects(redirects: Redirects) -> None:
    http_bounds.install()
    grant = OAuthToken(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, grant_token="1000.grant", redirect_url=REDIRECT_URI
    )

    def revoke() -> object:
        return OAuthToken.revoke_refresh_token("1000.refresh-token", f"{redirects.url}/oauth/v2/token/revoke")

    def exchange() -> object:
        return grant.generate_access_token(grant, f"{redirects.url}/oauth/v2/token")

    for call in (revoke, exchange):
        with pytest.raises(SDKException):
            await asyncio.to_thread(call)
    assert redirects.recorder.received == []
