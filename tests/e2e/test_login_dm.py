"""The login DM end to end: one live link a person (a newer DM replaces the older, whose link stops working at
the real /zoho/login route), and after the login, "Run it now" for the command that was interrupted: the typed
text stays with the bot (in no payload sent to Slack, so none that Slack sends back), the button works once and
only for the person it was sent to."""

from __future__ import annotations

import json

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.messages import RUN_INTERRUPTED
from tests.e2e.test_leads import ANN_EMAIL, leads_in
from tests.e2e.test_unfurls import settled
from tests.oauth.http_browser import HttpBrowser
from tests.stack import ANN, BOB, BOT_TOKEN, Stack, button_url

TYPED = "create last=Zed company=Quietly-Kept-Co email=kept.here@acme.test"
SECRET_PARTS = ("Quietly-Kept-Co", "kept.here", "Zed")


def login_dms(stack: Stack, user_id: str) -> list:
    return [m for m in stack.slack.dms(user_id) if "Login with Zoho" in m.text]


async def command_unconnected(stack: Stack, user_id: str, text: str) -> None:
    admitted = stack.components.door.admitted
    await stack.command(user_id, text)
    await settled(stack, admitted)


async def test_a_new_login_dm_replaces_the_old_one_whose_link_no_longer_logs_in(stack):
    await command_unconnected(stack, ANN, "list")
    [first] = login_dms(stack, ANN)

    await command_unconnected(stack, ANN, "list acme")

    old, new = login_dms(stack, ANN)
    assert old.ts == first.ts and old.deleted and not old.shown and new.shown
    [deleted] = [call for call in stack.slack.calls if call.method == "chat.delete"]
    assert (deleted.args["channel"], deleted.args["ts"]) == (old.channel, old.ts)
    stack.zoho.auto_approve_as = ANN_EMAIL
    async with HttpBrowser() as browser:
        page = await browser.get(button_url(old.blocks))
    assert page.status == 410 and "newer link" in page.html
    assert stack.zoho.counters["authorize"] == 0
    async with HttpBrowser() as browser:
        assert (await browser.log_in(button_url(new.blocks))).status == 200
    assert stack.store.connections.list("T0TEST")[0].zoho_email == ANN_EMAIL


async def login_after(stack: Stack, text: str):
    """ANN types `/lead text` while not connected, logs in through the DM's link; the "connected" DM."""
    await command_unconnected(stack, ANN, text)
    [dm] = login_dms(stack, ANN)
    stack.zoho.auto_approve_as = ANN_EMAIL
    seq = stack.slack.seq
    async with HttpBrowser() as browser:
        assert (await browser.log_in(button_url(dm.blocks))).status == 200
    return await stack.slack.wait_for_message(
        lambda m: m.seq > seq and m.kind == "dm" and m.user == ANN and m.text.startswith("Connected")
    )


async def click(stack: Stack, user_id: str, message) -> None:
    admitted = stack.components.door.admitted
    result = await stack.slack.click_button(user_id, message, RUN_INTERRUPTED)
    assert result.status == 200
    await settled(stack, admitted)


async def test_run_it_now_runs_the_interrupted_command_once_and_its_text_never_goes_to_slack(stack):
    connected = await login_after(stack, TYPED)
    assert leads_in(stack, ANN_EMAIL) == []  # nothing ran before the click

    sent_to_slack = json.dumps([call.args for call in stack.slack.calls]) + json.dumps(
        [(m.text, m.blocks) for m in stack.slack.messages()]
    )
    for part in SECRET_PARTS:
        assert part not in sent_to_slack  # not in the button's value, the blocks, or any answer so far
    seq = stack.slack.seq

    await click(stack, ANN, connected)

    [lead] = leads_in(stack, ANN_EMAIL)
    assert (lead["Last_Name"], lead["Company"], lead["Email"]) == ("Zed", "Quietly-Kept-Co", "kept.here@acme.test")
    answer = await stack.slack.wait_for_message(lambda m: m.seq > seq and m.kind == "dm" and m.user == ANN)
    assert "Created Lead" in answer.text
    seq = stack.slack.seq

    await click(stack, ANN, connected)  # a second click

    assert len(leads_in(stack, ANN_EMAIL)) == 1
    assert [m for m in stack.slack.messages() if m.seq > seq] == []


async def test_another_persons_click_on_the_button_does_nothing(stack):
    connected = await login_after(stack, TYPED)
    # Bob gets hold of the button (its blocks, id and all) in a message of his own and presses it.
    client = AsyncWebClient(token=BOT_TOKEN, base_url=stack.slack.api_url)
    forged = await client.chat_postMessage(channel=BOB, text="forged", blocks=connected.blocks)
    [copy] = [m for m in stack.slack.dms(BOB) if m.ts == forged["ts"]]

    await click(stack, BOB, copy)  # Bob not connected
    await stack.connect(BOB, "bob@globex.test")
    await click(stack, BOB, copy)  # Bob connected, to another org

    assert leads_in(stack, ANN_EMAIL) == [] and leads_in(stack, "bob@globex.test") == []
    assert not [m for m in stack.slack.dms(BOB) if "Lead" in m.text]
    await click(stack, ANN, connected)  # Bob's clicks used nothing up
    assert len(leads_in(stack, ANN_EMAIL)) == 1


async def test_a_login_without_an_interrupted_command_offers_nothing_to_run(stack):
    connected = await login_after(stack, "login")

    assert RUN_INTERRUPTED not in json.dumps(connected.blocks)
