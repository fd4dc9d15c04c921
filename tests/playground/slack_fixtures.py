"""Fixtures for the Slack emulator tests: a started emulator with three members, slack_sdk clients,
and a real slack_bolt AsyncApp served by aiohttp on loopback.

Test modules take the fixtures with `from tests.playground.slack_fixtures import *` (only the fixtures are in
`__all__`) and import the constants and helpers by name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from playground.slack import SlackEmulator

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


LEAD_FORM = {
    "type": "modal",
    "callback_id": "lead_form",
    "title": {"type": "plain_text", "text": "New lead"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "last",
            "label": {"type": "plain_text", "text": "Last name"},
            "element": {"type": "plain_text_input", "action_id": "value", "initial_value": "Doe"},
        },
        {
            "type": "input",
            "block_id": "email",
            "label": {"type": "plain_text", "text": "Email"},
            "element": {"type": "email_text_input", "action_id": "value"},
            "optional": True,
        },
        {
            "type": "input",
            "block_id": "employees",
            "label": {"type": "plain_text", "text": "Employees"},
            "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": False},
            "optional": True,
        },
        {
            "type": "input",
            "block_id": "status",
            "label": {"type": "plain_text", "text": "Status"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": [
                    {"text": {"type": "plain_text", "text": "New"}, "value": "new"},
                    {"text": {"type": "plain_text", "text": "Contacted"}, "value": "contacted"},
                ],
            },
            "optional": True,
        },
    ],
}


def lead_list_blocks(words: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Leads matching* `{words}`"}},
        *(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Edit"}, "action_id": "edit", "value": v}
                ],
            }
            for v in ("42", "43")
        ),
    ]


def wire_lead_app(app: AsyncApp, seen: dict[str, Any]) -> AsyncApp:
    """A tiny /lead: acks, answers through respond(), opens a modal on `create`, handles a click and a submit."""

    @app.command("/lead")
    async def lead(ack, respond, command, client) -> None:
        seen["command"] = command
        if command["text"] == "create":
            await ack()
            await client.views_open(trigger_id=command["trigger_id"], view=LEAD_FORM)
            return
        await ack(f"Looking for {command['text']}…")
        seen["respond"] = await respond(text="Leads", blocks=lead_list_blocks(command["text"]), replace_original=False)

    @app.action("edit")
    async def edit(ack, respond, action, body) -> None:
        seen["action_body"] = body
        await ack()
        await respond(text=f"Editing lead {action['value']}", replace_original=True)

    @app.view("lead_form")
    async def submit(ack, view, body, client) -> None:
        values = view["state"]["values"]
        seen["values"] = values
        if values["last"]["value"]["value"] == "Nobody":
            await ack(response_action="errors", errors={"last": "No such person"})
            return
        await ack()
        await client.chat_postMessage(channel=body["user"]["id"], text=f"Created {values['last']['value']['value']}")

    @app.event("app_uninstalled")
    async def uninstalled(event) -> None:
        seen["event"] = event
        seen["event_seen"].set()

    return app
