"""Properties of the two places where outside text enters: the `/lead` argument parser and Zoho's redirect to
`/zoho/callback` (tests/bot/test_lead_arguments.py has the parser's basic "any text" property; these add
edit/quote round trips and the callback).

- `parse_edit_arguments(f"{id} {pairs}")` gives back the id and the values, for any quoting style;
- unquoted single-word values come back as typed; the echo of bad input is one bounded line;
- any query string on `/zoho/callback` (random keys, broken percent escapes, invalid UTF-8, a real state with
  any code / location / accounts-server / error) is answered with an HTML page and a deliberate status, never a
  crash page, and nothing is stored.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.leads.fields import FIELDS
from bot.leads.validation import echo
from bot.slack.commands.lead_syntax import ArgumentError, parse_edit_arguments, parse_lead_values
from oauth.accounts_client import ZohoAccountsClient
from oauth.datacentres import ZohoHosts
from oauth.login import CallbackParams, LoginFailed, LoginService
from oauth.pages import FAILURE_STATUS
from oauth.routes import CONTINUED, COOKIE, login_routes
from store import ChatIdentity, PeeweeTokenStore

_KEYS = [f.key for f in FIELDS if f.key]
_BY_KEY = {f.key: f.api_name for f in FIELDS}
_VALUE = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs")), min_size=1, max_size=30)
_LEAD_ID = st.from_regex(r"[1-9][0-9]{0,18}", fullmatch=True)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ----- the argument parser -------------------------------------------------------------------------------------


@settings(max_examples=150)
@given(_LEAD_ID, st.dictionaries(st.sampled_from(_KEYS), _VALUE, min_size=1, max_size=5))
def test_edit_gives_back_the_id_and_double_quoted_values(lead_id: str, pairs: dict[str, str]) -> None:
    typed = " ".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in pairs.items()
    )

    got_id, values = parse_edit_arguments(_slack_escape(f"{lead_id} {typed}"))

    assert got_id == lead_id
    assert values == {_BY_KEY[k]: v for k, v in pairs.items()}


_PLAIN = _VALUE.filter(lambda v: not any(q in v for q in "\"'“”„‘’«»=\\") and v[0] not in "<")


@settings(max_examples=150)
@given(st.dictionaries(st.sampled_from(_KEYS), _PLAIN, min_size=1, max_size=5), st.sampled_from(["'", "“", "‘", ""]))
def test_values_without_quotes_inside_round_trip_in_any_quoting(pairs: dict[str, str], quote_mark: str) -> None:
    closing = {"'": "'", "“": "”", "‘": "’", "": ""}[quote_mark]
    typed = " ".join(f"{k}={quote_mark}{v}{closing}" for k, v in pairs.items())

    assert parse_lead_values(_slack_escape(typed)) == {_BY_KEY[k]: v for k, v in pairs.items()}


@settings(max_examples=150)
@given(st.text(max_size=400))
def test_every_problem_echoes_a_bounded_single_line(text: str) -> None:
    try:
        parse_lead_values(text)
    except ArgumentError as error:
        for problem in error.problems:
            assert "\n" not in problem.message and "\r" not in problem.message
            assert len(problem.message) < 1200
    shown = echo(text)
    assert len(shown) <= 80 and "\n" not in shown


# ----- the OAuth callback --------------------------------------------------------------------------------------

IDENTITY = ChatIdentity("T0EDGE", "U0EDGE")
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: any code exchange fails as "Zoho unreachable"


def _service(store: PeeweeTokenStore) -> LoginService:
    return LoginService(
        store=store,
        accounts=ZohoAccountsClient("1000.EDGE", "edge-secret", timeout=2),
        hosts=ZohoHosts(CLOSED_PORT, CLOSED_PORT),
        client_id="1000.EDGE",
        client_secret="edge-secret",
        public_url="http://127.0.0.1:1",
        redirect_uri="http://127.0.0.1:1/zoho/callback",
    )


class CallbackServer:
    """The real login routes on a loopback port, served from an event loop in a thread of their own."""

    def __init__(self, store: PeeweeTokenStore) -> None:
        self.store = store
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> None:
        app = web.Application()
        service = _service(self.store)
        app.on_cleanup.append(lambda _app: service._accounts.close())
        app.add_routes(login_routes(service, https=False))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def get(self, path_and_query: str, cookie: str | None = None) -> tuple[int, str, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path_and_query, headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {})
            answer = conn.getresponse()
            return answer.status, answer.getheader("Content-Type", ""), answer.read().decode("utf-8", "replace")
        finally:
            conn.close()


@pytest.fixture(scope="module")
def callback_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallbackServer]:
    directory: Path = tmp_path_factory.mktemp("callback")
    store = PeeweeTokenStore(f"sqlite:///{directory / 'edge.db'}")
    server = CallbackServer(store)
    server.start()
    yield server
    server.stop()
    store.close()


_ALLOWED = set(FAILURE_STATUS.values())
_RAW_QUERY = st.text(alphabet="abcdefz0123456789%&=;+?/_-.~!$'()*,:@[]ÿ", max_size=120).map(
    lambda text: quote(text, safe="%&=;+?/_-.~!$'()*,:@[]")
)
_FIELD = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.sampled_from(["eu", "us", "xx", "", "https://accounts.zoho.eu", "http://evil.test", CLOSED_PORT, "%00", "\x00"]),
)


def _assert_page(status: int, content_type: str, body: str) -> None:
    assert status in _ALLOWED, (status, body[:300])
    assert content_type.startswith("text/html")
    assert "Something went wrong" not in body  # the crash page


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_RAW_QUERY)
def test_any_raw_query_string_gets_a_page_never_a_crash(callback_server: CallbackServer, raw: str) -> None:
    _assert_page(*callback_server.get("/zoho/callback?" + raw))
    _assert_page(*callback_server.get("/zoho/login?" + raw))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=_FIELD, error=_FIELD, location=_FIELD, server=_FIELD, bound=st.booleans())
def test_a_real_state_with_any_other_parameters_gets_a_page_and_stores_nothing(
    callback_server: CallbackServer, code, error, location, server, bound: bool
) -> None:
    store = callback_server.store
    state = store.login_states.issue(IDENTITY, 600)
    query = {"state": state, "code": code, "error": error, "location": location, "accounts-server": server}
    encoded = urlencode({k: v for k, v in query.items() if v is not None})

    cookie = store.login_states.browser_binding(state, CONTINUED) if bound else None
    _assert_page(*callback_server.get("/zoho/callback?" + encoded, cookie))

    assert store.connections.get(IDENTITY) is None
    assert store.connections.list(IDENTITY.team_id) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=_FIELD, code=_FIELD, error=_FIELD, location=_FIELD, server=_FIELD, bound=st.booleans())
def test_the_login_service_refuses_any_callback_with_login_failed_only(
    callback_server: CallbackServer, state, code, error, location, server, bound: bool
) -> None:
    store = callback_server.store
    real_state = store.login_states.issue(IDENTITY, 600)
    params = CallbackParams(
        state=real_state if state == "eu" else state,  # sometimes a real one, to reach the code exchange
        code=code,
        error=error,
        location=location,
        accounts_server=server,
    )

    async def complete() -> None:
        service = _service(store)
        try:
            await service.complete(params, browser_bound=bound)
        finally:
            await service._accounts.close()

    with pytest.raises(LoginFailed):
        asyncio.run(complete())
    assert store.connections.get(IDENTITY) is None
