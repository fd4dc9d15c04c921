"""Login links that must not work: replayed, expired, tampered, or finished in someone else's browser; and every
way Zoho can say no. Each gets a friendly page, and nothing changes: no connection row, no code exchange."""

from __future__ import annotations

from urllib.parse import urlencode

from store import ChatIdentity
from tests.oauth.http_browser import HttpBrowser, Page
from tests.stack import ANN, BOB, TEAM_ID, Stack

SUCCESS = "You can close this tab and go back to Slack."


def assert_friendly(page: Page, status: int, title: str) -> None:
    assert page.status == status, page.html
    assert title in page.html
    assert "/lead login" in page.html  # the page says how to get a fresh link
    assert "Traceback" not in page.html and "<h1" in page.html


def assert_nothing_changed(stack: Stack, exchanges: int = 0) -> None:
    assert stack.store.connections.list(TEAM_ID) == []
    assert stack.zoho.counters["code_exchange"] == exchanges
    assert stack.zoho.revoked_refresh_tokens == []


async def test_a_used_link_cannot_be_replayed(stack):
    stack.zoho.auto_approve_as = "ann@acme.test"
    link = await stack.login_link(ANN)
    async with HttpBrowser() as browser:
        params = await browser.start_login(link)
        assert SUCCESS in (await browser.callback(stack.url, params)).html
        connection = stack.store.connections.get(ChatIdentity(TEAM_ID, ANN))

        # The same callback again (the back button, or someone who copied the URL), then the link itself.
        assert_friendly(await browser.callback(stack.url, params), 410, "already used")
        assert_friendly(await browser.get(link), 410, "already used")

    assert stack.zoho.counters["code_exchange"] == 1
    assert stack.store.connections.list(TEAM_ID) == [connection]


async def test_an_expired_link_is_refused_before_and_after_zoho(stack):
    stack.zoho.auto_approve_as = "ann@acme.test"
    expired = stack.store.login_states.issue(ChatIdentity(TEAM_ID, ANN), ttl_seconds=0)
    async with HttpBrowser() as browser:
        assert_friendly(await browser.get(f"{stack.url}/zoho/login?{urlencode({'state': expired})}"), 410, "expired")
        assert stack.zoho.counters["authorize"] == 0  # never sent to Zoho

        # A genuine code from Zoho, coming back with the expired state: still refused, the code not exchanged.
        params = await browser.start_login(await stack.login_link(ANN))
        assert_friendly(await browser.callback(stack.url, {**params, "state": expired}), 410, "expired")
        assert_nothing_changed(stack)

        # The real state in the same browser still finishes: the refusal used nothing up.
        assert SUCCESS in (await browser.callback(stack.url, params)).html


async def test_a_tampered_or_missing_state_is_refused(stack):
    stack.zoho.auto_approve_as = "ann@acme.test"
    async with HttpBrowser() as browser:
        params = await browser.start_login(await stack.login_link(ANN))
        state = params["state"]
        flipped = state[:-1] + ("A" if state[-1] != "A" else "B")
        for forged in (flipped, state + "x", state[:20], "x" * 300, ""):
            assert_friendly(await browser.callback(stack.url, {**params, "state": forged}), 400, "not valid")
            assert_friendly(await browser.get(f"{stack.url}/zoho/login?state={forged}"), 400, "not valid")
        no_state = {k: v for k, v in params.items() if k != "state"}
        assert_friendly(await browser.callback(stack.url, no_state), 400, "not valid")
        assert_nothing_changed(stack)

        assert SUCCESS in (await browser.callback(stack.url, params)).html


async def test_a_login_cannot_be_finished_in_another_persons_browser(stack):
    stack.zoho.auto_approve_as = "ann@acme.test"
    ann_link = await stack.login_link(ANN)
    bob_link = await stack.login_link(BOB)
    async with HttpBrowser() as ann_browser, HttpBrowser() as bob_browser, HttpBrowser() as fresh_browser:
        ann_params = await ann_browser.start_login(ann_link)
        await bob_browser.open_login_link(bob_link)  # Bob's browser carries the binding cookie of his own link
        assert "zoho_login" in bob_browser.cookies()

        # Ann's callback planted in Bob's browser, or in a browser that never opened a link: refused.
        assert_friendly(await bob_browser.callback(stack.url, ann_params), 403, "same browser")
        assert_friendly(await fresh_browser.callback(stack.url, ann_params), 403, "same browser")
        assert_nothing_changed(stack)

        # Ann, in her own browser, finishes; the state was issued to Ann, so only Ann gets connected.
        assert SUCCESS in (await ann_browser.callback(stack.url, ann_params)).html
    assert [c.identity.user_id for c in stack.store.connections.list(TEAM_ID)] == [ANN]
    assert stack.store.connections.get(ChatIdentity(TEAM_ID, BOB)) is None


async def test_zoho_saying_no_gives_a_friendly_page_and_uses_the_link_up(stack):
    stack.zoho.add_user(email="nocrm@acme.test", has_crm=False)
    cases = [
        ({"error": "access_denied"}, 200, "Login cancelled"),
        ({"error": "server_error"}, 400, "Zoho did not complete the login"),
        ({"error": "<script>alert(1)</script>"}, 400, "Zoho did not complete the login"),
    ]
    async with HttpBrowser() as browser:
        for extra, status, title in cases:
            link = await stack.login_link(ANN)
            await browser.open_login_link(link)
            state = link.split("state=", 1)[1]
            page = await browser.callback(stack.url, {"state": state, **extra})
            assert_friendly(page, status, title)
            assert "<script>" not in page.html
            assert_friendly(await browser.callback(stack.url, {"state": state, **extra}), 410, "already used")

        # A Zoho account without CRM: the emulator redirects back with error=no_org.
        stack.zoho.auto_approve_as = "nocrm@acme.test"
        params = await browser.start_login(await stack.login_link(ANN))
        assert params["error"] == "no_org"
        assert_friendly(await browser.callback(stack.url, params), 200, "No Zoho CRM account")
    assert_nothing_changed(stack)


async def test_a_callback_without_a_code_is_refused_and_leaves_the_link_usable(stack):
    stack.zoho.auto_approve_as = "ann@acme.test"
    async with HttpBrowser() as browser:
        params = await browser.start_login(await stack.login_link(ANN))
        without_code = {k: v for k, v in params.items() if k != "code"}
        assert_friendly(await browser.callback(stack.url, without_code), 400, "not valid")
        assert_friendly(await browser.callback(stack.url, {**params, "code": ""}), 400, "not valid")
        assert_nothing_changed(stack)
        assert SUCCESS in (await browser.callback(stack.url, params)).html


async def test_zoho_refusing_the_code_saves_nothing_and_uses_the_link_up(stack):
    stack.zoho.auto_approve_as = "ann@acme.test"
    async with HttpBrowser() as browser:
        used = await browser.start_login(await stack.login_link(ANN))
        assert SUCCESS in (await browser.callback(stack.url, used)).html
        before = stack.store.connections.list(TEAM_ID)

        # Bob's fresh link, coming back with a code Zoho already traded (a replayed code): Zoho says invalid_code.
        stack.zoho.auto_approve_as = "bob@globex.test"
        params = await browser.start_login(await stack.login_link(BOB))
        page = await browser.callback(stack.url, {**params, "code": used["code"]})
        assert_friendly(page, 400, "Zoho refused the login")
        assert stack.zoho.accounts_calls[-1].outcome == "invalid_code"
        assert stack.store.connections.list(TEAM_ID) == before
        assert_friendly(await browser.callback(stack.url, params), 410, "already used")
    assert stack.zoho.counters["code_exchange"] == 2
    assert stack.zoho.revoked_refresh_tokens == []


async def test_zoho_unreachable_during_the_exchange_saves_nothing(stack):
    stack.zoho.auto_approve_as = "ann@acme.test"
    async with HttpBrowser() as browser:
        stack.zoho.fail_accounts_with = 500
        params = await browser.start_login(await stack.login_link(ANN))
        assert_friendly(await browser.callback(stack.url, params), 503, "Zoho did not answer")
        assert stack.zoho.accounts_calls[-1].outcome == "http 500"
        assert stack.store.connections.list(TEAM_ID) == []
        assert_friendly(await browser.callback(stack.url, params), 410, "already used")

        # Zoho gone altogether between the consent and the exchange.
        stack.zoho.fail_accounts_with = None
        params = await browser.start_login(await stack.login_link(ANN))
        await stack.zoho.stop()
        assert_friendly(await browser.callback(stack.url, params), 503, "Zoho did not answer")
    assert stack.store.connections.list(TEAM_ID) == []
    assert stack.zoho.revoked_refresh_tokens == []


async def test_a_forwarded_link_can_only_ever_connect_the_person_it_was_sent_to(stack):
    """Ann's link, finished by Bob with his Zoho account: the state names Ann, so Bob's Slack user gets nothing,
    and Ann is told in a DM which Zoho account now acts for her and how to undo it."""
    stack.zoho.auto_approve_as = "bob@globex.test"
    ann_link = await stack.login_link(ANN)
    async with HttpBrowser() as bob_browser:
        await bob_browser.log_in(await stack.login_link(BOB))  # Bob is connected, as himself, in his own browser
        bob_before = stack.store.connections.get(ChatIdentity(TEAM_ID, BOB))
        page = await bob_browser.log_in(ann_link)
    assert SUCCESS in page.html
    assert stack.store.connections.get(ChatIdentity(TEAM_ID, BOB)) == bob_before
    assert stack.store.connections.get(ChatIdentity(TEAM_ID, ANN)).zoho_email == "bob@globex.test"
    told = await stack.slack.wait_for_message(lambda m: m.kind == "dm" and m.user == ANN and "Connected" in m.text)
    assert "bob@globex.test" in told.text and "/lead logout" in told.text
