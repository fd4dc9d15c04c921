"""A real slack_bolt AsyncApp on loopback, driven by the emulator exactly as Slack would drive it:
signed slash commands, response_url replies, button clicks, modal submissions, events."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from playground.slack import SlackEmulator, sign_slack_request
from tests.playground.slack_fixtures import *  # noqa: F403 (pytest fixtures)
from tests.playground.slack_fixtures import (
    ANN,
    BOB,
    BOT_TOKEN,
    LEAD_FORM,
    ServeBolt,
    bolt_app,
    lead_list_blocks,
    new_emulator,
    wire_lead_app,
)


@pytest.fixture
async def lead_app(slack: SlackEmulator, serve_bolt: ServeBolt) -> dict[str, Any]:
    seen: dict[str, Any] = {"event_seen": asyncio.Event()}
    slack.bot_events_url = await serve_bolt(wire_lead_app(bolt_app(slack), seen))
    return seen


async def test_slash_command_is_acked_and_respond_lands_as_ephemeral(slack: SlackEmulator, lead_app: dict) -> None:
    result = await slack.send_command(ANN, "/lead", "list acme & co", channel_id="C0GENERAL")

    assert (result.status, result.error) == (200, None)
    assert result.ack_body == "Looking for list acme &amp; co…"  # Slack escapes & < > in typed text
    reply = await slack.wait_for_message(lambda m: m.kind == "response_url" and m.user == ANN)
    assert reply.text == "Leads" and reply.is_ephemeral and reply.channel == "C0GENERAL"
    assert reply.response_url == result.response_url
    ack = await slack.wait_for_message(lambda m: m.kind == "ack")  # Slack shows the reply body to the user
    assert (ack.text, ack.user, ack.is_ephemeral) == ("Looking for list acme &amp; co…", ANN, True)
    assert lead_app["respond"].status_code == 200
    command = lead_app["command"]
    assert (command["user_id"], command["user_name"], command["team_id"]) == (ANN, "ann", "T0LOCAL")
    assert (command["channel_name"], command["trigger_id"]) == ("general", result.trigger_id)


async def test_wrong_signing_secret_gets_401_and_nothing_runs(slack: SlackEmulator, serve_bolt: ServeBolt) -> None:
    seen: dict[str, Any] = {}
    slack.bot_events_url = await serve_bolt(wire_lead_app(bolt_app(slack, signing_secret="another-secret"), seen))
    result = await slack.send_command(ANN, "/lead", "list")
    assert (result.status, result.ack_body, result.error) == (401, {"error": "invalid request"}, "http_client_error")
    assert seen == {} and slack.messages() == []


async def test_should_escape_commands_get_mentions_and_links_escaped(serve_bolt: ServeBolt) -> None:
    emu = new_emulator(escaped_commands=("/zoho-revoke",))
    await emu.start()
    texts: dict[str, str] = {}
    app = bolt_app(emu)

    @app.command(re.compile(r"/(lead|zoho-revoke)"))
    async def capture(ack, command) -> None:
        texts[command["command"]] = command["text"]
        await ack()

    try:
        emu.bot_events_url = await serve_bolt(app)
        typed = "@bob email=jo@acme.test site=https://acme.test/?a=1&b=2 #general"
        await emu.send_command(ANN, "/zoho-revoke", typed)
        await emu.send_command(ANN, "/lead", typed)
    finally:
        await emu.stop()
    assert texts["/zoho-revoke"] == (
        "<@U0BOB|bob> email=<mailto:jo@acme.test|jo@acme.test> site=<https://acme.test/?a=1&amp;b=2> "
        "<#C0GENERAL|general>"
    )
    assert texts["/lead"] == "@bob email=jo@acme.test site=https://acme.test/?a=1&amp;b=2 #general"


async def test_send_raw_bad_and_stale_signatures_are_401(slack: SlackEmulator, lead_app: dict) -> None:
    body = b"token=x&team_id=T0LOCAL&user_id=U0ANN&command=%2Flead&text=list"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    stale = sign_slack_request("test-signing-secret", body, timestamp=1_000_000_000)
    forged = sign_slack_request("not-the-secret", body)
    assert (await slack.send_raw(body, {**form, **stale})).status == 401
    assert (await slack.send_raw(body, {**form, **forged})).status == 401
    assert (await slack.send_raw(body, form)).status == 401
    assert "command" not in lead_app


async def test_text_containing_payload_gets_404_from_bolt(slack: SlackEmulator, lead_app: dict) -> None:
    """bolt 1.30 parses any form body containing "payload" as an interaction: no listener matches → 404.
    The emulator sends the body exactly as Slack does; the bot has to work around this bug."""
    result = await slack.send_command(ANN, "/lead", "list payload")
    assert (result.status, result.error) == (404, "http_client_error")
    assert "command" not in lead_app


async def test_button_click_replaces_the_message_it_was_on(slack: SlackEmulator, lead_app: dict) -> None:
    await slack.send_command(ANN, "/lead", "list acme")
    listing = await slack.wait_for_message(lambda m: m.text == "Leads")

    clicked = await slack.click_button(ANN, listing, "edit", value="43")
    assert (clicked.status, clicked.error) == (200, None)
    edited = await slack.wait_for_message(lambda m: m.text.startswith("Editing"))

    assert edited.text == "Editing lead 43" and edited.replace_original and edited.ts == listing.ts
    assert [m.text for m in slack.messages(user_id=ANN) if m.shown and m.kind != "ack"] == ["Editing lead 43"]
    body = lead_app["action_body"]
    assert body["container"] == {
        "type": "message",
        "message_ts": listing.ts,
        "channel_id": "C0GENERAL",
        "is_ephemeral": True,
    }
    assert body["actions"][0]["block_id"] == listing.blocks[2]["block_id"]
    assert body["response_url"] == clicked.response_url != listing.response_url
    with pytest.raises(LookupError):
        await slack.click_button(ANN, listing, "edit", value="43")  # gone: replaced by "Editing lead 43"


async def test_modal_submission_round_trip(slack: SlackEmulator, lead_app: dict) -> None:
    await slack.send_command(ANN, "/lead", "create")
    view = await slack.wait_for_view(lambda v: v.callback_id == "lead_form" and not v.closed)

    missing = await slack.submit_view(ANN, view.view_id, {"last": ""})
    assert missing.status == 0 and missing.errors == {"last": "Please fill out this field."}
    rejected = await slack.submit_view(ANN, view.view_id, {"last": "Nobody"})
    assert rejected.errors == {"last": "No such person"} and not slack.views[view.view_id].closed

    done = await slack.submit_view(
        ANN, view.view_id, {"email": {"value": "jo@acme.test"}, "employees": "12", "status": "contacted"}
    )
    assert (done.status, done.response, done.errors) == (200, None, {})
    assert slack.views[view.view_id].closed and slack.open_views(ANN) == []
    assert (await slack.wait_for_message(lambda m: m.kind == "dm")).text == "Created Doe"
    values = lead_app["values"]
    assert values["last"]["value"] == {"type": "plain_text_input", "value": "Doe"}
    assert values["email"]["value"] == {"type": "email_text_input", "value": "jo@acme.test"}
    assert values["employees"]["value"] == {"type": "number_input", "value": "12"}
    assert values["status"]["value"]["selected_option"]["value"] == "contacted"


async def test_invalid_blocks_through_respond_are_refused(slack: SlackEmulator, serve_bolt: ServeBolt) -> None:
    app = bolt_app(slack)
    answers: asyncio.Queue = asyncio.Queue()

    @app.command("/lead")
    async def lead(ack, respond) -> None:
        await ack()
        button = {"type": "button", "text": {"type": "plain_text", "text": "Edit"}, "action_id": "edit"}
        await answers.put(await respond(blocks=[{"type": "actions", "elements": [button, button]}]))

    slack.bot_events_url = await serve_bolt(app)
    assert (await slack.send_command(ANN, "/lead", "list")).status == 200
    answer = await asyncio.wait_for(answers.get(), 5)
    assert answer.status_code == 400 and "invalid_blocks" in answer.body  # respond() does not raise
    assert slack.messages() == []


async def test_response_url_takes_five_posts(slack: SlackEmulator, lead_app: dict) -> None:
    result = await slack.send_command(ANN, "/lead", "list")
    await slack.wait_for_message(lambda m: m.text == "Leads")  # the app's own post was the first
    async with aiohttp.ClientSession() as http:
        statuses = []
        for i in range(5):
            async with http.post(result.response_url, json={"text": f"more {i}"}) as resp:
                statuses.append((resp.status, await resp.json()))
    assert statuses[:4] == [(200, {"ok": True})] * 4
    assert statuses[4] == (404, {"ok": False, "error": "used_url"})


async def test_events_are_signed_envelopes(slack: SlackEmulator, lead_app: dict) -> None:
    reply = await slack.send_event({"type": "app_uninstalled"})
    assert reply.status == 200  # events are acked before the listener runs
    await asyncio.wait_for(lead_app["event_seen"].wait(), 5)
    assert lead_app["event"]["type"] == "app_uninstalled"


async def test_slow_ack_shows_operation_timeout(serve_bolt: ServeBolt) -> None:
    emu = new_emulator(ack_timeout=0.2)
    await emu.start()
    app = bolt_app(emu)

    @app.command("/lead")
    async def slow(ack) -> None:
        await asyncio.sleep(0.4)
        await ack()

    try:
        emu.bot_events_url = await serve_bolt(app)
        result = await emu.send_command(BOB, "/lead", "help")
        assert (result.status, result.error) == (0, "operation_timeout")
    finally:
        await emu.stop()


async def test_interaction_body_is_a_form_with_one_payload_field(slack: SlackEmulator) -> None:
    bodies: list[tuple[str, bytes]] = []

    async def capture(request: web.Request) -> web.Response:
        bodies.append((request.content_type, await request.read()))
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/slack/events", capture)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    slack.bot_events_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        await slack.send_command(ANN, "/lead", "list payload")
        await AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url).chat_postMessage(
            channel=ANN, text="t", blocks=lead_list_blocks("x")
        )
        message = slack.dms(ANN)[0]
        await slack.click_button(ANN, message, "edit", value="42")
    finally:
        await runner.cleanup()
    (ctype1, command), (ctype2, click) = bodies
    assert ctype1 == ctype2 == "application/x-www-form-urlencoded"
    assert command.startswith(b"token=") and b"&text=list+payload&" in command
    assert click.startswith(b"payload=%7B")
    payload = json.loads(parse_qs(click.decode())["payload"][0])
    assert payload["type"] == "block_actions" and payload["message"]["ts"] == message.ts


async def test_response_actions_update_push_and_clear(slack: SlackEmulator, serve_bolt: ServeBolt) -> None:
    app = bolt_app(slack)
    closed = asyncio.Event()

    def step(title: str) -> dict[str, Any]:
        view = {**LEAD_FORM, "callback_id": "step", "title": {"type": "plain_text", "text": title}}
        return {**view, "notify_on_close": True}

    @app.command("/lead")
    async def open_form(ack, client, command) -> None:
        await ack()
        await client.views_open(trigger_id=command["trigger_id"], view=step("Step 1"))

    @app.view("step")
    async def next_step(ack, view) -> None:
        title = view["title"]["text"]
        if title == "Step 1":
            await ack(response_action="update", view=step("Step 1b"))
        elif title == "Step 1b":
            await ack(response_action="push", view=step("Step 2"))
        else:
            await ack(response_action="clear")

    @app.view_closed("step")
    async def on_close(ack) -> None:
        await ack()
        closed.set()

    slack.bot_events_url = await serve_bolt(app)
    await slack.send_command(ANN, "/lead", "create")
    root = await slack.wait_for_view(lambda v: not v.closed)

    assert (await slack.submit_view(ANN, root.view_id)).status == 200
    assert slack.views[root.view_id].view["title"]["text"] == "Step 1b" and not slack.views[root.view_id].closed
    await slack.submit_view(ANN, root.view_id)
    stack = slack.open_views(ANN)
    assert [v.view["title"]["text"] for v in stack] == ["Step 1b", "Step 2"]
    assert stack[1].previous_view_id == root.view_id
    with pytest.raises(LookupError):
        await slack.submit_view(ANN, root.view_id)  # not the one on top
    await slack.submit_view(ANN, stack[1].view_id)
    assert slack.open_views(ANN) == []

    await slack.send_command(ANN, "/lead", "create")
    again = await slack.wait_for_view(lambda v: not v.closed)
    assert (await slack.close_view(ANN, again.view_id)).status == 200
    await asyncio.wait_for(closed.wait(), 5)
