"""bolt's Socket Mode handler against the emulator: `apps.connections.open`, hello, envelopes and acks."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from playground.slack import SlackEmulator
from tests.playground.slack_fixtures import *  # noqa: F403 (pytest fixtures)
from tests.playground.slack_fixtures import ANN, bolt_app


async def test_commands_travel_over_the_socket_when_the_app_is_connected(slack: SlackEmulator) -> None:
    app = bolt_app(slack)

    @app.command("/lead")
    async def lead(ack, respond, command) -> None:
        await ack(f"socket got {command['text']}")
        await respond(text="answered over HTTP", replace_original=False)

    handler = AsyncSocketModeHandler(app, app_token="xapp-local-1")
    await handler.connect_async()
    try:
        result = await slack.send_command(ANN, "/lead", "list payload")  # no bolt form-parsing bug here
        assert (result.status, result.ack_body, result.error) == (200, "socket got list payload", None)
        reply = await slack.wait_for_message(lambda m: m.kind == "response_url")
        assert reply.text == "answered over HTTP"
        assert [c.method for c in slack.calls][:1] == ["apps.connections.open"]
        assert slack.calls[0].token == "xapp-local-1"
    finally:
        await handler.close_async()
