"""A forwarded login link: the page names the Slack user it was sent to and, when the Zoho account is not theirs,
lets its owner disconnect it on the spot."""

from __future__ import annotations

import asyncio

import aiohttp

from store import ChatIdentity
from tests.oauth.http_browser import HttpBrowser, form_of
from tests.stack import ANN, BOB, TEAM_ID, Stack


async def follow(stack: Stack, link: str, zoho_email: str) -> tuple[aiohttp.ClientSession, str]:
    """Open `link` in a fresh browser whose Zoho user is `zoho_email`, press Continue; the browser and final page."""
    stack.zoho.auto_approve_as = zoho_email
    browser = HttpBrowser()
    page = await browser.log_in(link)
    assert page.status == 200
    return browser.session, page.html


def undo_form(html: str) -> dict[str, str]:
    return form_of(html)[1]


async def test_a_forwarded_link_names_the_slack_user_and_its_owner_can_disconnect_at_once(stack: Stack) -> None:
    bobs_link = await stack.login_link(BOB)  # Bob asks for a link... and sends it to Ann
    browser, page = await follow(stack, bobs_link, "ann@acme.test")
    try:
        connection = await asyncio.to_thread(stack.store.connections.get, ChatIdentity(TEAM_ID, BOB))
        refresh = (await asyncio.to_thread(stack.store.connections.secrets, connection.id)).refresh_token
        assert "Bob Jones" in page and "bob@globex.test" in page and "Disconnect my Zoho account" in page
        form = undo_form(page)
        assert list(form) == ["token"]

        async with browser.post(f"{stack.url}/zoho/undo", data=form) as answer:
            undone = await answer.text()
        async with browser.post(f"{stack.url}/zoho/undo", data=form) as again:
            replayed = (again.status, await again.text())
    finally:
        await browser.close()

    assert "Disconnected" in undone and "ann@acme.test" in undone
    assert await asyncio.to_thread(stack.store.connections.get, ChatIdentity(TEAM_ID, BOB)) is None
    assert stack.zoho.revoked_refresh_tokens.count(refresh) == 1
    assert any("disconnected from the login page" in m.text for m in stack.slack.dms(BOB))
    [entry, *_] = await asyncio.to_thread(stack.store.audit.list, TEAM_ID)
    assert (entry.action, entry.actor_user_id, entry.subject_user_id) == ("revoke", "zoho-login-page", BOB)
    assert replayed[0] == 410 and "Disconnect" not in replayed[1]


async def test_your_own_login_names_you_and_offers_nothing_to_undo(stack: Stack) -> None:
    browser, page = await follow(stack, await stack.login_link(ANN), "ann@acme.test")
    await browser.close()

    assert "belongs to Slack user <strong>Ann Smith</strong>" in page
    assert "Disconnect" not in page and "/zoho/undo" not in page


async def test_a_made_up_undo_token_changes_nothing(stack: Stack) -> None:
    browser, page = await follow(stack, await stack.login_link(BOB), "ann@acme.test")
    try:
        form = {"token": undo_form(page)["token"][:-2] + "xx"}
        async with browser.post(f"{stack.url}/zoho/undo", data=form) as answer:
            status = answer.status
    finally:
        await browser.close()

    assert status == 400
    assert await asyncio.to_thread(stack.store.connections.get, ChatIdentity(TEAM_ID, BOB)) is not None


async def test_when_slack_cannot_say_who_the_user_is_the_login_stands_and_the_page_offers_the_undo(stack: Stack):
    stack.slack.fail_method("users.info", status=500, times=10)

    browser, page = await follow(stack, await stack.login_link(ANN), "ann@acme.test")
    await browser.close()

    assert "You can close this tab" in page and "Disconnect my Zoho account" in page
    assert await asyncio.to_thread(stack.store.connections.get, ChatIdentity(TEAM_ID, ANN)) is not None
