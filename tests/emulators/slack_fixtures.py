"""Fixtures for the Slack emulator tests: a started emulator with three members, slack_sdk clients,
and a real slack_bolt AsyncApp served by aiohttp on loopback.

Test modules take the fixtures with `from tests.emulators.slack_fixtures import *` (only the fixtures are in
`__all__`) and import the constants and helpers by name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackEmulator

__all__ = ["client", "serve_bolt", "slack"]

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-0000"
ANN, BOB, CAROL = "U0ANN", "U0BOB", "U0CAROL"  # CAROL is a workspace admin and owner


def new_emulator(**kwargs: object) -> SlackEmulator:
    emu = SlackEmulator(
        signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, team_id="T0LOCAL", team_name="Local Workspace", **kwargs
    )
    emu.add_user(ANN, name="ann", real_name="Ann Smith", email="ann@acme.test")
    emu.add_user(BOB, name="bob", real_name="Bob Jones", email="bob@globex.test")
    emu.add_user(CAROL, name="carol", real_name="Carol King", email="carol@acme.test", is_admin=True, is_owner=True)
    return emu


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    emu = new_emulator()
    await emu.start(host="127.0.0.1", port=0)
    yield emu
    await emu.stop()


@pytest.fixture
async def client(slack: SlackEmulator) -> AsyncIterator[AsyncWebClient]:
    web_client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    yield web_client


ServeBolt = Callable[[AsyncApp], Awaitable[str]]


@pytest.fixture
async def serve_bolt() -> AsyncIterator[ServeBolt]:
    """`url = await serve_bolt(app)`: serves `app.web_app()` on 127.0.0.1 (any port); returns its events URL."""
    runners: list[web.AppRunner] = []

    async def serve(app: AsyncApp) -> str:
        runner = web.AppRunner(app.web_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}/slack/events"

    yield serve
    for runner in runners:
        await runner.cleanup()


def bolt_app(slack: SlackEmulator, *, signing_secret: str = SIGNING_SECRET) -> AsyncApp:
    """An AsyncApp wired to the emulator's Web API, as the bot builds it."""
    web_client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    return AsyncApp(client=web_client, signing_secret=signing_secret)
