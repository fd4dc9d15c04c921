"""The whole product running on loopback for a test: Zoho emulator, Slack emulator and the bot server."""

from __future__ import annotations

import asyncio
import base64
import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import COMPONENTS, build_application
from bot.server import serve
from bot.settings import Settings, load_settings
from bot.zoho import sdk_runtime
from playground.slack import SlackEmulator
from playground.slack.manifest import unfurl_domains
from playground.zoho import ZohoEmulator
from tests.oauth.http_browser import HttpBrowser

CLIENT_ID = "1000.TESTCLIENT"
CLIENT_SECRET = "test-client-secret"
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-0000"
TEAM_ID = "T0TEST"
ANN, BOB, ADA = "U0ANN", "U0BOB", "U0ADA"  # ADA is a workspace admin

CLEAR_OF_PERIOD_ENDS_S = 300.0  # longer than any test runs with one set of emulators
_REAL_FIELD_PERIOD = sdk_runtime.field_period  # taken before tests/conftest.py moves every test's boundaries


@dataclass
class Stack:
    """Everything a whole-flow test needs, all real, on 127.0.0.1."""

    zoho: ZohoEmulator
    slack: SlackEmulator
    app: web.Application
    settings: Settings
    url: str
    _stop: asyncio.Event
    _task: asyncio.Task[None]

    @property
    def store(self) -> Any:
        return self.app[COMPONENTS].store

    @property
    def components(self) -> Any:
        return self.app[COMPONENTS]

    async def command(self, user_id: str, text: str, command: str = "/lead") -> Any:
        return await self.slack.send_command(user_id, command, text)

    async def login_link(self, user_id: str) -> str:
        """Ask for a login link with `/lead login` and return the URL of the DM's button."""
        before = len(self.slack.dms(user_id))
        await self.command(user_id, "login")
        message = await _wait_for_new_dm(self.slack, user_id, before)
        return button_url(message.blocks)

    async def connect(self, user_id: str, zoho_email: str) -> str:
        """Log `user_id` in as `zoho_email` through the real flow; returns the final page's HTML."""
        self.zoho.auto_approve_as = zoho_email
        link = await self.login_link(user_id)
        async with HttpBrowser() as browser:
            page = await browser.log_in(link)
        assert page.status == 200, page.html
        await self.settled()  # the login's read of the org's fields runs behind the page: its Zoho calls end first
        return page.html

    async def settled(self, timeout: float = 15.0) -> None:
        """Wait until the bot's background work (commands answered after their ack, the read of the org's fields
        after a login) has ended, so a test's next Zoho call and what it counts are its own."""
        deadline = asyncio.get_running_loop().time() + timeout
        components = self.components
        while components.tasks.running or components.admission.waiting:  # held work is not a task yet
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{components.tasks.running} background tasks still running after {timeout} s")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.wait_for(self._task, 30)


async def _wait_for_new_dm(slack: SlackEmulator, user_id: str, before: int, timeout: float = 5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        dms = slack.dms(user_id)
        if len(dms) > before:
            return dms[-1]
        await asyncio.sleep(0.02)
    raise TimeoutError(f"no new DM for {user_id}; DMs so far: {[m.text for m in slack.dms(user_id)]}")


def button_url(blocks: list[dict[str, Any]] | None) -> str:
    for block in blocks or []:
        for element in block.get("elements", []):
            if element.get("url"):
                return element["url"]
    raise AssertionError(f"no link button in {blocks}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def emulator_settings(slack: SlackEmulator, zoho: Any) -> dict[str, str]:
    """The settings that point the bot at both emulators, as the test users' app."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "ZOHO_CLIENT_ID": CLIENT_ID,
        "ZOHO_CLIENT_SECRET": CLIENT_SECRET,
        "ZOHO_ACCOUNTS_URL": zoho.url,
        "ZOHO_API_URL": zoho.url,
    }


async def start_emulators(zoho: Any = None) -> tuple[Any, SlackEmulator]:
    """Both emulators with the test users (ANN, BOB, ADA and their Zoho accounts); `zoho`: one already running."""
    if zoho is None:
        zoho = await _zoho_clear_of_field_period_ends()
    else:
        _add_zoho_users(zoho)
    slack = SlackEmulator(
        signing_secret=SIGNING_SECRET,
        bot_token=BOT_TOKEN,
        team_id=TEAM_ID,
        escaped_commands=("/lead", "/zoho-revoke"),  # as app.yaml's should_escape: true
        unfurl_domains=unfurl_domains(),
    )
    slack.add_user(ANN, name="ann", real_name="Ann Smith", email="ann@acme.test")
    slack.add_user(BOB, name="bob", real_name="Bob Jones", email="bob@globex.test")
    slack.add_user(ADA, name="ada", real_name="Ada Admin", email="ada@acme.test", is_admin=True)
    await slack.start(host="127.0.0.1", port=0)
    return zoho, slack


def _add_zoho_users(zoho: Any) -> None:
    zoho.add_user(email="ann@acme.test", full_name="Ann Smith", org_name="Acme Ltd")
    zoho.add_user(email="bob@globex.test", full_name="Bob Jones", org_name="Globex", location="eu")
    zoho.add_user(email="ada@acme.test", full_name="Ada Admin", org_name="Acme Ltd")


async def _zoho_clear_of_field_period_ends() -> ZohoEmulator:
    """A Zoho emulator on a port where no org's field-metadata period ends in the next `CLEAR_OF_PERIOD_ENDS_S`.

    Each org's period ends at a second of the hour set by a hash of its API domain, which holds the emulator's
    random port; a bot that crosses one fetches the org's fields again behind the calls that noticed, adding Zoho
    calls a test did not ask for. In-process bots get their boundaries moved out of the way (tests/conftest.py);
    a bot started as a process of its own keeps the real ones, so the port is chosen instead."""
    while True:
        zoho = ZohoEmulator()
        _add_zoho_users(zoho)
        await zoho.start(host="127.0.0.1", port=0)
        now = time.time()
        if all(
            _REAL_FIELD_PERIOD(key, now) == _REAL_FIELD_PERIOD(key, now + CLEAR_OF_PERIOD_ENDS_S)
            for key in map(functools.partial(_org_file_key, zoho.url), zoho.directory.orgs)
        ):
            return zoho
        await zoho.stop()


def _org_file_key(api_domain: str, org_id: str) -> str:
    """The org's key in its field-metadata file name, as `sdk_runtime.org_cache_file` makes it."""
    return base64.urlsafe_b64encode(f"{api_domain}|{org_id}".encode()).decode().rstrip("=")


async def start_stack(
    tmp_path: Path, env: dict[str, str] | None = None, *, zoho: Any = None, **build_options: Any
) -> Stack:
    """Start both emulators and the bot (a fresh SQLite database under tmp_path unless env says otherwise).

    `zoho`: an emulator already running (e.g. a RemoteZohoEmulator in its own process) instead of a new one.
    `build_options` go to `build_application` (e.g. `revocation_retry=RetryPolicy(...)`).
    """
    zoho, slack = await start_emulators(zoho)

    port = free_port()
    settings = load_settings(
        {
            **emulator_settings(slack, zoho),
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PORT": str(port),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            **(env or {}),
        },
        dotenv_path=None,
    )
    zoho.register_client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=settings.redirect_uri)
    app = await build_application(settings, **build_options)
    stop = asyncio.Event()
    ready = asyncio.Event()
    task = asyncio.get_running_loop().create_task(
        serve(app, settings.host, settings.port, stop=stop, on_ready=lambda _port: ready.set())
    )
    await asyncio.wait_for(ready.wait(), 10)
    url = f"http://127.0.0.1:{port}"
    slack.bot_events_url = f"{url}/slack/events"
    return Stack(zoho=zoho, slack=slack, app=app, settings=settings, url=url, _stop=stop, _task=task)
