"""LoginService with plain arguments (no web framework, no Slack): which callbacks it refuses before any request
leaves the process. A real TCP listener stands where a forged accounts server would be and counts connections."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest

from oauth.accounts_client import ZohoAccountsClient
from oauth.datacentres import ZohoHosts
from oauth.login import CallbackParams, Failure, LoginFailed, LoginService
from store import ChatIdentity, PeeweeTokenStore
from tests.oauth.http_browser import Listener, query_of

ANN = ChatIdentity("T0TEST", "U0ANN")
REDIRECT_URI = "http://127.0.0.1:3000/zoho/callback"


class FakeClock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class Kit:
    store: PeeweeTokenStore
    clock: FakeClock
    listener: Listener
    accounts: ZohoAccountsClient

    def service(self, hosts: ZohoHosts) -> LoginService:
        return LoginService(
            store=self.store,
            accounts=self.accounts,
            hosts=hosts,
            client_id="1000.TESTCLIENT",
            client_secret="test-client-secret",
            public_url="http://127.0.0.1:3000",
            redirect_uri=REDIRECT_URI,
        )

    @property
    def listener_url(self) -> str:
        return f"http://127.0.0.1:{self.listener.port}"


@pytest.fixture
async def kit(tmp_path) -> AsyncIterator[Kit]:
    clock = FakeClock()
    store = PeeweeTokenStore(f"sqlite:///{tmp_path / 'login.db'}", clock=clock)
    listener = await Listener().start()
    accounts = ZohoAccountsClient("1000.TESTCLIENT", "test-client-secret", timeout=5)
    yield Kit(store=store, clock=clock, listener=listener, accounts=accounts)
    await accounts.close()
    await listener.stop()
    store.close()


async def fresh_state(service: LoginService) -> str:
    link = await service.login_link(ANN)
    return query_of(link.url)["state"]


async def refused(service: LoginService, params: CallbackParams, *, browser_bound: bool = True) -> Failure:
    with pytest.raises(LoginFailed) as caught:
        await service.complete(params, browser_bound=browser_bound)
    return caught.value.failure


FORGED = [
    ("us", "http://127.0.0.1:{port}"),
    ("us", "https://accounts.zoho.com@127.0.0.1:{port}"),
    ("us", "http://accounts.zoho.com@127.0.0.1:{port}"),
    ("us", "https://127.0.0.1:{port}#@accounts.zoho.com"),
    ("us", "https://accounts.zoho.com.evil.test"),
    ("us", "https://accounts.zoho.com:{port}"),
    ("us", "https://evil.test/accounts.zoho.com"),
    ("eu", "https://accounts.zoho.com"),
    ("evil.test", None),
    (None, None),
]


async def test_with_the_real_data_centres_a_forged_accounts_server_gets_no_request(kit, caplog):
    caplog.set_level(logging.INFO, logger="oauth")
    service = kit.service(ZohoHosts())  # no ZOHO_ACCOUNTS_URL: the real data-centre list
    for location, server in FORGED:
        state = await fresh_state(service)
        params = CallbackParams(
            state=state,
            code="1000.0123456789abcdef",
            location=location,
            accounts_server=server.format(port=kit.listener.port) if server else None,
        )
        assert await refused(service, params) is Failure.UNTRUSTED_HOST, (location, server)
        assert await refused(service, params) is Failure.USED_LINK  # the state is used up, not left for a retry
    assert kit.listener.connections == 0
    assert kit.store.connections.list(ANN.team_id) == []
    # The operator sees each refusal, with whose login it was; never the code.
    assert caplog.text.count("login callback refused identity=") == len(FORGED)
    assert "1000.0123456789abcdef" not in caplog.text


async def test_the_listener_would_have_seen_a_request_to_a_trusted_server(kit):
    """The control for the test above: trust the listener, and the code exchange does reach it."""
    service = kit.service(ZohoHosts(accounts_override=kit.listener_url, api_override=kit.listener_url))
    params = CallbackParams(state=await fresh_state(service), code="1000.abc", location="us")
    assert await refused(service, params) is Failure.ZOHO_UNREACHABLE
    assert kit.listener.connections == 1
    assert kit.listener.received.startswith(b"POST /oauth/v2/token")


async def test_a_state_that_expires_between_the_link_and_zohos_redirect_is_refused(kit):
    service = kit.service(ZohoHosts(accounts_override=kit.listener_url, api_override=kit.listener_url))
    state = await fresh_state(service)
    assert "state=" in await service.authorize_url(state)  # fine when the link is opened

    kit.clock.now += 601  # Zoho's consent page took more than ten minutes
    params = CallbackParams(state=state, code="1000.abc", location="us", accounts_server=kit.listener_url)
    assert await refused(service, params) is Failure.EXPIRED_LINK
    with pytest.raises(LoginFailed) as caught:
        await service.authorize_url(state)
    assert caught.value.failure is Failure.EXPIRED_LINK
    assert kit.listener.connections == 0


async def test_a_callback_from_another_browser_is_refused_and_leaves_the_state_alone(kit):
    service = kit.service(ZohoHosts(accounts_override=kit.listener_url, api_override=kit.listener_url))
    state = await fresh_state(service)
    params = CallbackParams(state=state, code="1000.abc", location="us")
    assert await refused(service, params, browser_bound=False) is Failure.OTHER_BROWSER
    assert kit.store.login_states.peek(state) == ANN  # still usable by the browser that opened the link
    assert kit.listener.connections == 0


@pytest.mark.parametrize(
    ("params", "failure", "used_up"),
    [
        (CallbackParams(error="access_denied"), Failure.DENIED, True),
        (CallbackParams(error="no_org"), Failure.NO_ORG, True),
        (CallbackParams(error="temporarily_unavailable"), Failure.ZOHO_ERROR, True),
        (CallbackParams(location="us"), Failure.BAD_LINK, False),
        (CallbackParams(code="", location="us"), Failure.BAD_LINK, False),
    ],
)
async def test_zoho_errors_and_a_missing_code(kit, params, failure, used_up):
    service = kit.service(ZohoHosts(accounts_override=kit.listener_url, api_override=kit.listener_url))
    state = await fresh_state(service)
    with_state = replace(params, state=state)
    assert await refused(service, with_state) is failure
    if used_up:
        assert await refused(service, with_state) is Failure.USED_LINK
    else:
        assert kit.store.login_states.peek(state) == ANN
    assert kit.listener.connections == 0
    assert kit.store.connections.list(ANN.team_id) == []
