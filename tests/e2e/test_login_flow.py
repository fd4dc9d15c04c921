"""Login with Zoho, the whole story over loopback: the first /lead use sends a personal link, the link ends on the
success page, /lead whoami names the Zoho user, and the connection survives a restart of the server."""

from __future__ import annotations

import asyncio

from bot.app import build_application
from bot.server import serve
from bot.slack.commands.lead import known_subcommands
from playground.slack.records import RecordedMessage
from store import ChatIdentity
from tests.oauth.http_browser import HttpBrowser
from tests.stack import ANN, BOB, TEAM_ID, Stack, button_url

SUCCESS = "You can close this tab and go back to Slack."


async def reply_to(stack: Stack, user_id: str, needle: str, after: int = 0) -> RecordedMessage:
    """The (ephemeral) reply to `user_id` containing `needle`, newer than seq `after`."""
    return await stack.slack.wait_for_message(
        lambda m: m.user == user_id and m.kind != "dm" and m.seq > after and needle in m.text
    )


async def whoami(stack: Stack, user_id: str) -> str:
    after = stack.slack.seq
    await stack.command(user_id, "whoami")
    return (await reply_to(stack, user_id, "onnected", after)).text


async def restart_bot(stack: Stack) -> None:
    """Stop the bot and start a new application on the same settings: same SQLite file, same key file."""
    await stack.stop()
    app = await build_application(stack.settings)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.get_running_loop().create_task(
        serve(app, stack.settings.host, stack.settings.port, stop=stop, on_ready=lambda _port: ready.set())
    )
    await asyncio.wait_for(ready.wait(), 10)
    stack.app, stack._stop, stack._task = app, stop, task  # the fixture stops whatever runs at the end


async def lead_list(stack: Stack, user_id: str) -> str:
    """`/lead list` as `user_id`: the text and blocks of the answer."""
    after = stack.slack.seq
    await stack.command(user_id, "list")
    answer = await stack.slack.wait_for_message(
        lambda m: m.user == user_id and m.kind != "dm" and m.seq > after and "Working on it" not in m.text,
        timeout=15,
    )
    return answer.text + str(answer.blocks)


async def test_first_use_sends_a_link_that_connects_and_the_connection_survives_a_restart(stack, tmp_path):
    assert "list" in known_subcommands()  # registered when the application was built
    stack.zoho.seed_leads("ann@acme.test", [{"Last_Name": "Lovelace", "Company": "Analytical Engines"}])
    await stack.command(ANN, "list")

    told = await reply_to(stack, ANN, "I've sent you a login link")
    assert told.is_ephemeral and "not connected to Zoho CRM" in told.text
    assert "Once you are, the message that says so offers to run your `/lead list`." in told.text
    assert stack.zoho.counters["crm"] == 0
    [dm] = stack.slack.dms(ANN)
    buttons = [e for b in dm.blocks for e in b.get("elements", []) if e.get("type") == "button"]
    assert [b["text"]["text"] for b in buttons] == ["Login with Zoho"]
    link = button_url(dm.blocks)
    assert link.startswith(f"{stack.url}/zoho/login?state=")

    stack.zoho.auto_approve_as = "ann@acme.test"
    async with HttpBrowser() as browser:
        page = await browser.log_in(link)
    assert page.status == 200
    assert SUCCESS in page.html
    assert "ann@acme.test" in page.html and "Acme Ltd" in page.html and "United States" in page.html
    connected_dm = await stack.slack.wait_for_message(lambda m: m.kind == "dm" and "Connected to" in m.text)
    assert connected_dm.user == ANN
    assert connected_dm.text == (
        "Connected to Zoho CRM as ann@acme.test, Acme Ltd, United States data centre. "
        "Not the Zoho account you meant? Type `/lead logout`."
    )

    answer = await whoami(stack, ANN)
    assert answer.startswith("Connected to Zoho CRM as ann@acme.test, Acme Ltd, United States data centre.")
    assert "Connected since" in answer
    assert "not connected" in await whoami(stack, BOB)
    assert "Analytical Engines" in await lead_list(stack, ANN)

    await restart_bot(stack)
    assert (tmp_path / "bot.db.key").exists()
    assert await whoami(stack, ANN) == answer
    assert "Analytical Engines" in await lead_list(stack, ANN)  # the stored token still works at Zoho
    # The tokens still decrypt with the key file: the refresh token is the one Zoho issued.
    store = stack.store
    connection = store.connections.get(ChatIdentity(TEAM_ID, ANN))
    assert store.connections.secrets(connection.id).refresh_token in stack.zoho.issued_tokens()
    assert stack.zoho.revoked_refresh_tokens == []


async def test_logging_in_again_replaces_the_connection_and_revokes_the_old_token(stack):
    await stack.connect(ANN, "ann@acme.test")
    identity = ChatIdentity(TEAM_ID, ANN)
    first = stack.store.connections.get(identity)
    first_refresh = stack.store.connections.secrets(first.id).refresh_token

    page = await stack.connect(ANN, "ada@acme.test")

    assert "ada@acme.test" in page and SUCCESS in page
    assert (await whoami(stack, ANN)).startswith("Connected to Zoho CRM as ada@acme.test, Acme Ltd")
    [only] = stack.store.connections.list(TEAM_ID)
    assert only.zoho_email == "ada@acme.test"
    assert stack.store.connections.secrets(only.id).refresh_token != first_refresh
    assert stack.zoho.revoked_refresh_tokens == [first_refresh]
    logins = [e for e in stack.store.audit.list(TEAM_ID) if e.action == "login"]
    assert len(logins) == 2


async def test_asking_for_a_link_while_connected_says_who_you_are_connected_as(stack):
    await stack.connect(ANN, "ann@acme.test")
    after = stack.slack.seq

    await stack.command(ANN, "login")

    told = await reply_to(stack, ANN, "I've sent you a login link", after=after)
    assert "already connected as ann@acme.test" in told.text and "replaces this one" in told.text
