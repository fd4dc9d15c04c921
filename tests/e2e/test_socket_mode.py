"""With SLACK_APP_TOKEN set the bot takes Slack's requests over Socket Mode; the Zoho login still comes over HTTP."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.slack.reply import WORKING_TEXT
from tests.stack import ANN, TEAM_ID, start_stack

APP_TOKEN = "xapp-fake-socket-mode-test"


@pytest.fixture
async def socket_stack(tmp_path):
    running = await start_stack(tmp_path, env={"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": ""})
    # Nothing may come over HTTP: were the emulator to fall back to posting events, they would go nowhere.
    running.slack.bot_events_url = "http://127.0.0.1:9/nowhere"
    for _ in range(100):
        if any(c.method == "apps.connections.open" for c in running.slack.calls):
            break
        await asyncio.sleep(0.05)
    yield running
    await running.stop()
    await running.slack.stop()
    await running.zoho.stop()


async def test_commands_arrive_over_the_socket_and_the_login_over_http(socket_stack) -> None:
    stack = socket_stack
    opened = [c for c in stack.slack.calls if c.method == "apps.connections.open"]
    assert opened and opened[0].token == APP_TOKEN

    helped = await stack.command(ANN, "help")
    page = await stack.connect(ANN, "ann@acme.test")  # the DM's link, the consent page and our callback: HTTP
    seq = stack.slack.seq
    await stack.command(ANN, "whoami")
    answer = await stack.slack.wait_for_message(  # the answer, not the "Working on it…" a slow machine shows first
        lambda m: m.seq > seq and m.user == ANN and m.kind == "response_url" and m.text != WORKING_TEXT, timeout=15
    )

    assert helped.status == 200 and "/lead create" in json.dumps(helped.ack_body)
    assert "You can close this tab" in page
    assert "Connected to Zoho CRM as ann@acme.test" in answer.text


async def test_in_socket_mode_nothing_is_taken_over_http(socket_stack) -> None:
    stack = socket_stack
    await stack.connect(ANN, "ann@acme.test")
    sink = f"{stack.slack.api_url.rsplit('/api', 1)[0]}/response/forged"
    forged = urlencode({"command": "/lead", "text": "whoami", "team_id": TEAM_ID, "user_id": ANN, "response_url": sink})
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{stack.url}/slack/events",
            data=forged,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as answer,
    ):
        status = answer.status
    await asyncio.sleep(0.3)

    assert status == 404
    assert not [m for m in stack.slack.messages() if "Connected since" in m.text]  # whoami's answer, never sent
