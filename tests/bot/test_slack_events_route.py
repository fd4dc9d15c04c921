"""The `POST /slack/events` route in front of a real bolt AsyncApp, on a real aiohttp test server.

What an outsider without the signing secret can make the server do: nothing but a 401. The body they send is
never parsed, handed to bolt or written to the log; odd headers or bodies never end in a 500 or a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlencode

import pytest
from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.http import MAX_BODY_BYTES, slack_events_handler
from playground.slack import SlackEmulator, sign_slack_request
from store import PeeweeTokenStore

SECRET = "route-test-signing-secret"
MARKER = "MARKER-7f3a-body-content"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}
COMMAND = urlencode(
    {"command": "/lead", "text": f"list {MARKER}", "user_id": "U1", "team_id": "T1", "trigger_id": "1.2"}
).encode()
DEEP = b"[" * 100_000
BOT_TOKEN = "xoxb-route-test"


def bolt_app(verifies: bool, slack_api_url: str = "http://127.0.0.1:9/api/") -> AsyncApp:
    bolt = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=slack_api_url),
        signing_secret=SECRET,
        request_verification_enabled=verifies,
        logger=logging.getLogger("slack_bolt"),
    )

    @bolt.command("/lead")
    async def lead(ack, command) -> None:  # noqa: ANN001
        await ack(f"got {len(command['text'])} characters")

    return bolt


@pytest.fixture
async def slack():
    """bolt asks Slack who it is (auth.test) before its first listener runs."""
    emulator = SlackEmulator(signing_secret=SECRET, bot_token=BOT_TOKEN)
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
def store(tmp_path):  # noqa: ANN001
    """A real SQLite store: where accepted signatures are remembered."""
    opened = PeeweeTokenStore(f"sqlite:///{tmp_path / 'route.db'}")
    yield opened
    opened.close()


@pytest.fixture(params=[False, True], ids=["bolt-trusts-the-route", "bolt-checks-again"])
async def client(request, aiohttp_client, caplog, slack, store):  # noqa: ANN001
    caplog.set_level(logging.INFO)
    bolt = bolt_app(request.param, slack.api_url)
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    handler = slack_events_handler(bolt, SECRET, store.seen_requests.first_sighting, summary_every=0.2)
    app.router.add_post("/slack/events", handler)
    return await aiohttp_client(app)


def signed(body: bytes, secret: str = SECRET, **headers: str) -> dict[str, str]:
    return {**FORM, **sign_slack_request(secret, body), **headers}


def assert_log_is_clean(caplog: pytest.LogCaptureFixture) -> None:
    assert "Traceback" not in caplog.text
    assert MARKER not in caplog.text
    assert "[[[[" not in caplog.text


async def test_a_signed_command_reaches_bolt(client, caplog) -> None:  # noqa: ANN001
    answer = await client.post("/slack/events", data=COMMAND, headers=signed(COMMAND))
    assert answer.status == 200
    assert "characters" in await answer.text()
    assert_log_is_clean(caplog)


def now() -> str:
    return str(int(time.time()))


UNSIGNED = {  # built when the test runs, so that a signature made at import time cannot go stale first
    "no signature headers": lambda: (COMMAND, FORM),
    "wrong secret": lambda: (COMMAND, signed(COMMAND, "not-the-secret")),
    "signature of another body": lambda: (COMMAND, signed(b"text=help")),
    "stale timestamp": lambda: (COMMAND, {**FORM, **sign_slack_request(SECRET, COMMAND, int(time.time()) - 301)}),
    "timestamp but no signature": lambda: (COMMAND, {**FORM, "X-Slack-Request-Timestamp": now()}),
    "non-numeric timestamp": lambda: (COMMAND, {**signed(COMMAND), "X-Slack-Request-Timestamp": "soon"}),
    "5000-digit timestamp": lambda: (COMMAND, {**signed(COMMAND), "X-Slack-Request-Timestamp": "9" * 5000}),
    "non-ASCII signature": lambda: (COMMAND, {**FORM, "X-Slack-Request-Timestamp": now(), "X-Slack-Signature": "v0=é"}),
    "deeply nested JSON": lambda: (DEEP, JSON),
    "deeply nested JSON, wrong secret": lambda: (DEEP, {**JSON, **sign_slack_request("not-the-secret", DEEP)}),
    "nested JSON in a payload field": lambda: (b"payload=" + b"%5B" * 50_000, FORM),
    "not UTF-8": lambda: (b"text=\xff\xfe" + MARKER.encode(), FORM),
}


@pytest.mark.parametrize("forgery", UNSIGNED.values(), ids=UNSIGNED.keys())
async def test_an_unsigned_request_gets_401_and_its_body_stays_out_of_the_log(client, caplog, forgery) -> None:  # noqa: ANN001
    body, headers = forgery()
    answer = await client.post("/slack/events", data=body, headers=headers)
    assert answer.status == 401
    assert await answer.json() == {"error": "invalid request"}
    assert_log_is_clean(caplog)


SIGNED_BUT_MALFORMED = {
    "deeply nested JSON": (DEEP, JSON),
    "nested JSON in a payload field": (b"payload=" + b"%5B" * 50_000, FORM),
    "payload is not JSON": (f"payload=%7B{MARKER}".encode(), FORM),
    "not UTF-8": (b"text=\xff\xfe" + MARKER.encode(), FORM),
}


@pytest.mark.parametrize("body, headers", SIGNED_BUT_MALFORMED.values(), ids=SIGNED_BUT_MALFORMED.keys())
async def test_a_signed_but_malformed_body_gets_400_without_a_traceback(client, caplog, body, headers) -> None:  # noqa: ANN001
    answer = await client.post("/slack/events", data=body, headers={**headers, **sign_slack_request(SECRET, body)})
    assert answer.status == 400
    assert_log_is_clean(caplog)


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.slack.http" and r.levelno == logging.WARNING]


async def test_refusals_are_logged_as_a_count_at_most_once_per_period(client, caplog) -> None:  # noqa: ANN001
    await client.post("/slack/events", data=COMMAND, headers=signed(COMMAND, "not-the-secret"))
    assert len(refusal_lines(caplog)) == 1  # the first refusal is told at once
    for _ in range(3):
        await client.post("/slack/events", data=COMMAND, headers=signed(COMMAND, "not-the-secret"))
    await client.post("/slack/events", data=COMMAND, headers=FORM)
    stale = sign_slack_request(SECRET, COMMAND, int(time.time()) - 301)
    await client.post("/slack/events", data=COMMAND, headers={**FORM, **stale})
    assert len(refusal_lines(caplog)) == 1  # the rest wait for the period to end

    await asyncio.sleep(0.4)
    first, summary = refusal_lines(caplog)
    assert "1 " in first and "bad signature" in first
    assert "5 " in summary
    assert "bad signature: 3" in summary and "missing headers: 1" in summary and "stale timestamp: 1" in summary
    assert_log_is_clean(caplog)


async def test_the_same_signed_request_sent_again_gets_401_and_is_counted(client, caplog) -> None:  # noqa: ANN001
    headers = signed(COMMAND)
    first = await client.post("/slack/events", data=COMMAND, headers=headers)
    again = await client.post("/slack/events", data=COMMAND, headers=headers)

    assert first.status == 200
    assert again.status == 401 and await again.json() == {"error": "invalid request"}
    await asyncio.sleep(0.4)
    assert any("replayed: 1" in line for line in refusal_lines(caplog)), refusal_lines(caplog)
    assert_log_is_clean(caplog)


async def test_the_same_body_signed_anew_by_slack_is_not_a_replay(client) -> None:  # noqa: ANN001
    # Slack's own retry signs again with a new timestamp; only the very same signature is a replay.
    sent_at = int(time.time())
    first = await client.post(
        "/slack/events", data=COMMAND, headers={**FORM, **sign_slack_request(SECRET, COMMAND, sent_at)}
    )
    retried = await client.post(
        "/slack/events", data=COMMAND, headers={**FORM, **sign_slack_request(SECRET, COMMAND, sent_at + 1)}
    )
    assert (first.status, retried.status) == (200, 200)


def test_the_route_needs_a_signing_secret(store) -> None:  # noqa: ANN001
    with pytest.raises(ValueError):
        slack_events_handler(bolt_app(False), "", store.seen_requests.first_sighting)
