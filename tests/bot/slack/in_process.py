"""The product's bolt app, built by `bot.app.build_bolt_app` over the fakes, and Slack's requests, signed like Slack.

Requests go straight to `AsyncApp.async_dispatch`, the way bolt-python tests its own listeners: no server, no
port, no emulator. `auth.test` is answered in advance, so bolt never calls Slack either.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.admission import Admission
from bot.app import build_bolt_app
from bot.limits import AdmissionLimits
from bot.settings import Settings
from bot.slack.front_door import FrontDoor
from bot.slack.installation import Installation
from bot.slack.people import PersonZones
from bot.slack.services import SlackServices
from bot.tasks import BackgroundTasks
from store import ChatIdentity
from tests.bot.slack.fakes import (
    FakeAdminCheck,
    FakeLeadServices,
    FakeLogin,
    FakeMessenger,
    FakeResponseUrls,
    FakeRevocation,
    FakeStore,
)

TEAM = "T0TEST"
SECRET = "in-process-signing-secret"
BOT_TOKEN = "xoxb-in-process"
NOWHERE = "http://127.0.0.1:9/api/"  # port 9 (discard): a call to Slack that slipped through fails at once
AUTH_TEST = {"ok": True, "team_id": TEAM, "team": "Test", "user_id": "UBOT", "bot_id": "BBOT", "url": "https://t/"}


class AnsweredInstallation(Installation):
    """The bot's identity, known in advance: bolt's `authorize` never asks Slack."""

    async def auth_test(self) -> Any:
        return AUTH_TEST


def settings() -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET,
        slack_app_token=None,
        slack_api_url=NOWHERE,
        zoho_client_id="zoho-client",
        zoho_client_secret="zoho-secret",
        public_url="https://bot.test",
        host="127.0.0.1",
        port=0,
        database_url="sqlite:///unused.db",
        token_encryption_key=None,
        zoho_admin_user_ids=frozenset(),
        zoho_accounts_url=None,
        zoho_api_url=None,
        log_level="INFO",
    )


@dataclass
class InProcessBot:
    """The real bolt app, front door, admission and listeners, with every service a fake."""

    limits: AdmissionLimits = field(default_factory=AdmissionLimits)
    store: FakeStore = field(default_factory=FakeStore)
    leads: Any = field(default_factory=FakeLeadServices)  # or the real bot.leads.service.LeadServices
    messenger: FakeMessenger = field(default_factory=FakeMessenger)
    response_urls: FakeResponseUrls = field(default_factory=FakeResponseUrls)
    admin: FakeAdminCheck = field(default_factory=FakeAdminCheck)
    revocation: FakeRevocation = field(default_factory=FakeRevocation)

    slack: AsyncWebClient | None = None  # e.g. a fakes.ViewsRecorder; by default every Web API call fails at once

    def __post_init__(self) -> None:
        client = self.slack or AsyncWebClient(token=BOT_TOKEN, base_url=NOWHERE, timeout=1)
        self.services = SlackServices(
            store=self.store,  # type: ignore[arg-type]
            slack=client,
            messenger=self.messenger,  # type: ignore[arg-type]
            login=FakeLogin(),  # type: ignore[arg-type]
            leads=self.leads,  # type: ignore[arg-type]
            admin=self.admin,  # type: ignore[arg-type]
            revocation=self.revocation,  # type: ignore[arg-type]
            response_urls=self.response_urls,  # type: ignore[arg-type]
            working_notice_after_s=30.0,  # no "Working on it…" line in the way of the answer
            zones=PersonZones(client),  # by default Slack cannot say: UTC
        )
        self.tasks = BackgroundTasks()
        self.admission = Admission(self.tasks, self.limits)
        self.bolt: AsyncApp
        self.door: FrontDoor
        self.bolt, self.door = build_bolt_app(
            settings(), AnsweredInstallation(client), self.services, self.admission, self.tasks
        )

    async def dispatch(self, body: str, content_type: str, arrived: float | None = None) -> BoltResponse:
        """`arrived`: when the Slack route took the request in (time.monotonic()), as it tells the front door."""
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
        headers = {
            "content-type": content_type,
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": signature,
        }
        context = {"arrived": arrived} if arrived is not None else None
        return await self.bolt.async_dispatch(AsyncBoltRequest(body=body, headers=headers, context=context))

    async def command(
        self, user: str, command: str, text: str, response_url: str, arrived: float | None = None
    ) -> BoltResponse:
        form = {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "test",
            "channel_id": "C1",
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": "1.2.trigger",
        }
        return await self.dispatch(urlencode(form), "application/x-www-form-urlencoded", arrived)

    async def interaction(self, payload: dict[str, Any]) -> BoltResponse:
        return await self.dispatch(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def _as_user(self, kind: str, user: str, **rest: Any) -> BoltResponse:
        """An interaction payload of `kind` from `user`, as Slack sends it."""
        return await self.interaction(
            {
                "type": kind,
                "team": {"id": TEAM, "domain": "test"},
                "user": {"id": user, "team_id": TEAM},
                "api_app_id": "A1",
                "trigger_id": "1.2.trigger",
                **rest,
            }
        )

    async def click(self, user: str, action_id: str, value: str, response_url: str) -> BoltResponse:
        return await self._as_user(
            "block_actions",
            user,
            container={"type": "message", "message_ts": "1.1", "channel_id": "C1", "is_ephemeral": True},
            channel={"id": "C1", "name": "general"},
            response_url=response_url,
            actions=[{"type": "button", "action_id": action_id, "block_id": "b1", "value": value, "action_ts": "1.3"}],
        )

    async def submit(self, user: str, callback_id: str, values: dict[str, str], private_metadata: str) -> BoltResponse:
        state = {f"lead_{name}": {"value": {"type": "plain_text_input", "value": v}} for name, v in values.items()}
        view = {"id": "V1", "type": "modal", "callback_id": callback_id, "private_metadata": private_metadata}
        return await self.submit_view(user, {**view, "blocks": []}, state)

    async def submit_view(self, user: str, view: dict[str, Any], state: dict[str, Any]) -> BoltResponse:
        """`user` submits `view` (as the bot sent it, with its id and hash) holding `state` (`view.state.values`)."""
        return await self._as_user(
            "view_submission", user, view={**view, "state": {"values": state}, "team_id": TEAM}, response_urls=[]
        )

    async def click_in_view(
        self, user: str, view: dict[str, Any], action_id: str, value: str, state: dict[str, Any]
    ) -> BoltResponse:
        """`user` presses the button `action_id` in the modal `view` while it holds `state`: Slack sends the view
        with what was typed so far, and no response_url."""
        return await self._as_user(
            "block_actions",
            user,
            container={"type": "view", "view_id": view.get("id", "")},
            view={**view, "state": {"values": state}, "team_id": TEAM},
            actions=[{"type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": "1.4"}],
        )

    async def event(self, event: dict[str, Any]) -> BoltResponse:
        body = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": "Ev1",
            "event_time": int(time.time()),
            "event": event,
        }
        return await self.dispatch(json.dumps(body), "application/json")

    async def settle(self, timeout: float = 5.0) -> None:
        """Wait until nothing waits for a turn and every admitted piece of work has finished."""
        deadline = time.monotonic() + timeout
        while self.admission.waiting or self.tasks.running:
            if time.monotonic() > deadline:
                raise AssertionError(f"still busy after {timeout} s")
            await self.tasks.drain(timeout)
            await asyncio.sleep(0.01)


def me(user: str) -> ChatIdentity:
    return ChatIdentity(TEAM, user)


def ack_json(response: BoltResponse) -> dict[str, Any]:
    return json.loads(response.body) if response.body else {}


def words(message: dict[str, Any]) -> str:
    """All the text a person sees in a message: its text and every text in its blocks."""
    found: list[str] = [str(message.get("text") or "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(found)


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
