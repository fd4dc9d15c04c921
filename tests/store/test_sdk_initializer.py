"""The real zohocrmsdk8-0 drives the store through Initializer, against the Zoho emulator over loopback HTTP.

Initializer is process-global: each test initialises it afresh with its own grant code and resource path,
and every SDK call runs in one dedicated thread of the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.parameter_map import ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.record import GetRecordsParam, RecordOperations
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig
from zohocrmsdk.src.com.zoho.crm.api.user_signature import UserSignature

from playground.zoho import ZohoEmulator
from store import ChatIdentity, NewConnection, PeeweeTokenStore

from .conftest import Backend

CLIENT_ID = "1000.STORETEST"
CLIENT_SECRET = "store-test-client-secret"
REDIRECT_URI = "http://127.0.0.1:3000/zoho/callback"
ANN = "ann@acme.test"
SCOPES = "ZohoCRM.modules.leads.ALL,ZohoCRM.settings.fields.READ,ZohoCRM.users.READ,ZohoCRM.org.READ"

SdkThread = Callable[..., Awaitable[Any]]


@pytest.fixture
async def zoho() -> AsyncIterator[ZohoEmulator]:
    emu = ZohoEmulator()
    emu.register_client(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    emu.add_user(email=ANN, full_name="Ann O'Brien", org_name="Acme")
    emu.auto_approve_as = ANN
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
async def sdk_thread() -> AsyncIterator[SdkThread]:
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-sdk-test")

    async def run(fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    yield run
    pool.shutdown(wait=True)


async def grant_code(zoho: ZohoEmulator) -> str:
    """A code from the authorize endpoint (auto-approved), read from the redirect's Location."""
    query = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPES,
        "access_type": "offline",
        "prompt": "consent",
        "state": "s1",
    }
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{zoho.url}/oauth/v2/auth?{urlencode(query)}", allow_redirects=False) as answer,
    ):
        assert answer.status == 302
        return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def environment(base: str) -> DataCenter.Environment:
    return DataCenter.Environment(base, f"{base}/oauth/v2/token", base)


def initialize(base: str, code: str, store: PeeweeTokenStore, folder: Path) -> None:
    Initializer.initialize(
        environment=environment(base),
        token=OAuthToken(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, grant_token=code, redirect_url=REDIRECT_URI),
        store=store,
        sdk_config=SDKConfig(auto_refresh_fields=False),
        resource_path=str(folder),
    )


def list_leads() -> int:
    params = ParameterMap()
    params.add(GetRecordsParam.fields, "Last_Name")
    return RecordOperations("Leads").get_records(params).get_status_code()


def as_user(base: str, token: OAuthToken) -> int:
    """Switch this thread to `token` (as the bot does per job) and list Leads."""
    Initializer.switch_user(environment=environment(base), token=token)
    return list_leads()


async def test_the_sdk_keeps_its_tokens_encrypted_in_the_store_and_finds_them_again(
    backend: Backend, zoho: ZohoEmulator, sdk_thread: SdkThread, tmp_path: Path
) -> None:
    store = backend.open()
    zoho.token_lifetime = 4  # "near expiry" for the SDK (< 5 s) from the start
    code = await grant_code(zoho)

    await sdk_thread(initialize, zoho.url, code, store, tmp_path)
    assert await sdk_thread(list_leads) == 204

    ann = zoho.user(ANN)
    [saved] = store.get_tokens()
    signature = f"{ANN}:{ann.zgid}"
    assert saved.get_user_signature().get_name() == signature
    assert saved.get_refresh_token() in zoho.issued_tokens()
    assert saved.get_client_secret() == CLIENT_SECRET and saved.get_api_domain() == zoho.url
    raw = repr(list(store._database.models.connection.select().dicts()))  # the raw row is the point here
    for secret in (saved.get_refresh_token(), saved.get_access_token(), CLIENT_SECRET, code):
        assert secret not in raw
    assert ANN in raw, "the SDK's user signature gives the row its Zoho user"

    # Found again by the SDK, by id and by user signature; the near expiry makes it refresh once.
    zoho.token_lifetime = 3600
    zoho.expire_access_tokens()
    refreshes = zoho.counters["refresh"]
    assert await sdk_thread(as_user, zoho.url, OAuthToken(id=saved.get_id())) == 204
    assert zoho.counters["refresh"] == refreshes + 1
    assert await sdk_thread(as_user, zoho.url, OAuthToken(user_signature=UserSignature(signature))) == 204
    assert zoho.counters["refresh"] == refreshes + 1, "the refreshed token was saved and found again"

    [after] = store.get_tokens()
    assert after.get_id() == saved.get_id()
    assert after.get_access_token() == zoho.crm_calls[-1].access_token != saved.get_access_token()
    assert int(after.get_expires_in()) > int(saved.get_expires_in())
    assert after.get_refresh_token() == saved.get_refresh_token()


async def test_initializing_again_with_a_new_code_updates_the_same_row(
    backend: Backend, zoho: ZohoEmulator, sdk_thread: SdkThread, tmp_path: Path
) -> None:
    store = backend.open()

    await sdk_thread(initialize, zoho.url, await grant_code(zoho), store, tmp_path)
    [first] = store.get_tokens()
    await sdk_thread(initialize, zoho.url, await grant_code(zoho), store, tmp_path)

    [again] = store.get_tokens()
    assert again.get_id() == first.get_id()
    assert again.get_refresh_token() != first.get_refresh_token()


async def test_a_connection_saved_by_the_bot_serves_the_sdk_and_takes_its_refresh(
    backend: Backend, zoho: ZohoEmulator, sdk_thread: SdkThread, tmp_path: Path
) -> None:
    store = backend.open()
    await sdk_thread(initialize, zoho.url, await grant_code(zoho), store, tmp_path)
    store.delete_tokens()  # only the process-wide init used the SDK's own row
    identity = ChatIdentity("T0001", "U0001")
    code = await grant_code(zoho)
    async with aiohttp.ClientSession() as http:
        form = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": REDIRECT_URI,
            "grant_type": "authorization_code",
            "code": code,
        }
        async with http.post(f"{zoho.url}/oauth/v2/token", data=form) as answer:
            tokens = await answer.json(content_type=None)
    ann = zoho.user(ANN)
    new = NewConnection(
        zoho_email=ANN,
        zoho_user_id=ann.crm_user_id,
        org_id=ann.org_id,
        org_name=ann.org_name,
        location=ann.location,
        accounts_server=zoho.url,
        api_domain=tokens["api_domain"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=tokens["refresh_token"],
        access_token=tokens["access_token"],
        expires_at_ms=0,  # already expired: the SDK refreshes on the next call
        redirect_uri=REDIRECT_URI,
    )
    connection, _ = store.connections.save(identity, new)

    assert await sdk_thread(as_user, zoho.url, OAuthToken(id=connection.id)) == 204
    assert zoho.crm_calls[-1].email == ANN

    after = store.connections.get(identity)
    secrets = store.connections.secrets(connection.id)
    assert (after.id, after.org_name, after.zoho_email) == (connection.id, "Acme", ANN)
    assert secrets.access_token == zoho.crm_calls[-1].access_token != tokens["access_token"]
    assert secrets.refresh_token == tokens["refresh_token"]
    assert after.access_expires_at > connection.updated_at
    assert len(store.get_tokens()) == 1
