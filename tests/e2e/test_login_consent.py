"""A login link can be sent on: whoever opens it and accepts at Zoho would connect *their* Zoho CRM to the Slack user
it belongs to. So the link first shows whose it is and goes to Zoho only after Continue, in that browser; an
operator can refuse logins whose Zoho e-mail is not the Slack user's; the "disconnect" offered after a login works
once, for that login only; the browser binding is keyed; and a person's older links close when they connect or log
out."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import pytest
from yarl import URL

from store import ChatIdentity
from tests.oauth.http_browser import HttpBrowser, form_of, origin_of, query_of
from tests.stack import ANN, BOB, TEAM_ID, Stack, start_stack

SUCCESS = "You can close this tab and go back to Slack."


def connection_of(stack: Stack, user_id: str):
    return stack.store.connections.get(ChatIdentity(TEAM_ID, user_id))


# Consent phishing ---------------------------------------------------------------------------------------------


async def test_the_link_names_the_slack_user_and_goes_to_zoho_only_after_continue(stack: Stack) -> None:
    stack.zoho.auto_approve_as = "ann@acme.test"
    bobs_link = await stack.login_link(BOB)  # Bob sends his link to Ann
    async with HttpBrowser() as ann:
        page = await ann.get(bobs_link)
        assert page.status == 200, page.html
        assert "Bob Jones" in page.html and "@bob" in page.html and "Local Workspace" in page.html
        assert "not you? close this tab" in page.html.lower()
        assert stack.zoho.counters["authorize"] == 0  # nothing happened at Zoho yet

        authorize = await ann.press_continue(bobs_link, page.html)
        assert authorize.startswith(f"{stack.zoho.url}/oauth/v2/auth?")
        assert SUCCESS in (await ann.get(authorize)).html


async def test_the_page_escapes_what_slack_says_about_the_user(stack: Stack) -> None:
    stack.slack.add_user("U0EVE", name="eve<b>", real_name='Eve <script>alert("x")</script>', email="e@x.test")
    async with HttpBrowser() as browser:
        page = await browser.get(await stack.login_link("U0EVE"))
    assert "<script>" not in page.html and "&lt;script&gt;" in page.html and "eve&lt;b&gt;" in page.html


async def test_continue_posted_from_another_site_or_browser_goes_nowhere(stack: Stack) -> None:
    link = await stack.login_link(BOB)
    async with HttpBrowser() as ann, HttpBrowser() as elsewhere:
        action, fields = form_of((await ann.get(link)).html)
        # A page elsewhere that submits the form for Ann: her browser sends no binding cookie cross-site.
        async with elsewhere.session.post(f"{stack.url}{action}", data=fields, allow_redirects=False) as answer:
            assert answer.status == 403 and "same browser" in await answer.text()
        for elsewhere_headers in ({"Origin": "https://evil.test"}, {"Sec-Fetch-Site": "cross-site"}):
            async with ann.session.post(
                f"{stack.url}{action}", data=fields, headers=elsewhere_headers, allow_redirects=False
            ) as answer:
                assert answer.status == 403
    assert stack.zoho.counters["authorize"] == 0


async def test_an_authorize_url_built_by_hand_cannot_skip_the_page(stack: Stack) -> None:
    stack.zoho.auto_approve_as = "ann@acme.test"
    async with HttpBrowser() as mallory:
        genuine = await mallory.open_login_link(await stack.login_link(BOB))  # the shape of the URL, with her state
    bobs_state = query_of(await stack.login_link(BOB))["state"]
    forged = genuine.replace(f"state={query_of(genuine)['state']}", f"state={bobs_state}")
    async with HttpBrowser() as ann:
        await ann.get(f"{stack.url}/zoho/login?{urlencode({'state': bobs_state})}")  # saw the page, did not continue
        page = await ann.callback(stack.url, await ann.approve_at_zoho(forged))
    assert page.status == 403 and "same browser" in page.html
    assert connection_of(stack, BOB) is None


@pytest.fixture
async def strict_stack(tmp_path):
    running = await start_stack(tmp_path, {"ZOHO_REQUIRE_EMAIL_MATCH": "true"})
    yield running
    await running.stop()
    await running.slack.stop()
    await running.zoho.stop()


async def test_with_email_match_required_a_login_as_someone_else_is_refused_and_revoked(strict_stack) -> None:
    stack = strict_stack
    stack.zoho.auto_approve_as = "ann@acme.test"
    async with HttpBrowser() as ann:
        page = await ann.log_in(await stack.login_link(BOB))

    assert page.status == 403 and "e-mail" in page.html and SUCCESS not in page.html
    assert connection_of(stack, BOB) is None
    assert len(stack.zoho.revoked_refresh_tokens) == 1  # the token Zoho had just issued
    assert stack.zoho.revoked_refresh_tokens[0] in stack.zoho.issued_tokens()
    told = await stack.slack.wait_for_message(lambda m: m.kind == "dm" and m.user == BOB and "refused" in m.text)
    assert "ann@acme.test" in told.text
    [entry, *_] = stack.store.audit.list(TEAM_ID)
    assert (entry.action, entry.outcome, entry.subject_user_id, entry.zoho_email) == (
        "login",
        "refused",
        BOB,
        "ann@acme.test",
    )


async def test_with_email_match_required_the_e_mails_are_compared_ignoring_case(strict_stack) -> None:
    stack = strict_stack
    stack.slack.add_user("U0CY", name="cy", real_name="Cy Young", email="Cy.Young@Acme.test")
    stack.zoho.add_user(email="cy.young@acme.test", full_name="Cy Young", org_name="Acme Ltd")
    stack.zoho.auto_approve_as = "cy.young@acme.test"
    async with HttpBrowser() as cy:
        assert SUCCESS in (await cy.log_in(await stack.login_link("U0CY"))).html
    assert connection_of(stack, "U0CY") is not None


# Undo tokens --------------------------------------------------------------------------------------------------


async def forwarded_login(stack: Stack, browser: HttpBrowser) -> dict[str, str]:
    """Bob's link finished by Ann at Zoho; the undo form of the success page."""
    stack.zoho.auto_approve_as = "ann@acme.test"
    page = await browser.log_in(await stack.login_link(BOB))
    assert "Disconnect my Zoho account" in page.html
    return form_of(page.html)[1]


async def undo(browser: HttpBrowser, stack: Stack, fields: dict[str, str]) -> tuple[int, str]:
    async with browser.session.post(f"{stack.url}/zoho/undo", data=fields) as answer:
        return answer.status, await answer.text()


async def test_the_undo_form_carries_one_unguessable_token_and_works_once(stack: Stack) -> None:
    async with HttpBrowser() as ann:
        fields = await forwarded_login(stack, ann)
        assert list(fields) == ["token"] and len(fields["token"]) >= 40
        assert (await undo(ann, stack, fields))[0] == 200
        assert (await undo(ann, stack, fields))[0] == 410
    assert connection_of(stack, BOB) is None


async def test_a_stale_undo_after_a_newer_login_does_nothing(stack: Stack) -> None:
    async with HttpBrowser() as ann:
        fields = await forwarded_login(stack, ann)
    stack.zoho.auto_approve_as = "bob@globex.test"
    async with HttpBrowser() as bob:
        assert SUCCESS in (await bob.log_in(await stack.login_link(BOB))).html  # Bob's own login, same row
    mine = connection_of(stack, BOB)

    async with HttpBrowser() as ann:
        status, _ = await undo(ann, stack, fields)

    assert status == 410
    assert connection_of(stack, BOB) == mine and mine.zoho_email == "bob@globex.test"


async def test_a_login_state_is_no_undo_token_and_an_undo_token_no_login_link(stack: Stack) -> None:
    async with HttpBrowser() as ann:
        fields = await forwarded_login(stack, ann)
        login_state = query_of(await stack.login_link(BOB))["state"]
        connection = connection_of(stack, BOB)

        assert (await undo(ann, stack, {"token": login_state, "connection": connection.id}))[0] in (400, 410)
        assert connection_of(stack, BOB) == connection

        as_link = await ann.get(f"{stack.url}/zoho/login?{urlencode({'state': fields['token']})}")
        assert as_link.status == 400 and "not valid" in as_link.html
        assert (await undo(ann, stack, fields))[0] == 200  # neither attempt used the undo token up
    assert connection_of(stack, BOB) is None


# Browser binding ----------------------------------------------------------------------------------------------


async def test_a_cookie_anyone_can_compute_from_the_state_does_not_bind(stack: Stack) -> None:
    stack.zoho.auto_approve_as = "ann@acme.test"
    async with HttpBrowser() as ann:
        params = await ann.start_login(await stack.login_link(ANN))
    state = params["state"]
    for guess in (hashlib.sha256(state.encode()), hashlib.sha256(b"zoho-login-binding:" + state.encode())):
        async with HttpBrowser() as mallory:
            mallory.session.cookie_jar.update_cookies({"zoho_login": guess.hexdigest()}, response_url=URL(stack.url))
            page = await mallory.callback(stack.url, params)
        assert page.status == 403 and "same browser" in page.html
    assert connection_of(stack, ANN) is None


# Older links ---------------------------------------------------------------------------------------------------


async def test_an_older_link_is_closed_by_a_newer_login(stack: Stack) -> None:
    stack.zoho.auto_approve_as = "ann@acme.test"
    older = await stack.login_link(ANN)
    async with HttpBrowser() as browser:
        assert SUCCESS in (await browser.log_in(await stack.login_link(ANN))).html
        page = await browser.get(older)
    assert page.status == 410 and "no longer valid" in page.html and "/lead login" in page.html


async def test_a_link_is_closed_by_logging_out(stack: Stack) -> None:
    await stack.connect(ANN, "ann@acme.test")
    link = await stack.login_link(ANN)
    after = stack.slack.seq
    await stack.command(ANN, "logout")
    await stack.slack.wait_for_message(lambda m: m.user == ANN and m.seq > after and "Logged out" in m.text)

    async with HttpBrowser() as browser:
        page = await browser.get(link)
    assert page.status == 410 and "no longer valid" in page.html


# Security headers -----------------------------------------------------------------------------------------------


def assert_hardened(headers, *, https: bool) -> None:
    policy = headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "form-action" in policy
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("Referrer-Policy") == "no-referrer"
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert ("Strict-Transport-Security" in headers) is https


async def every_html_answer(stack: Stack) -> list:
    """The headers of every HTML page the login serves: link, Continue, callback, undo; success and failure."""
    seen = []
    stack.zoho.auto_approve_as = "ann@acme.test"
    async with HttpBrowser() as browser:
        for method, url, data in (
            ("GET", f"{stack.url}/zoho/login?state=nope", None),
            ("POST", f"{stack.url}/zoho/login", {"state": "nope"}),
            ("GET", f"{stack.url}/zoho/callback?state=nope", None),
            ("POST", f"{stack.url}/zoho/undo", {"token": "nope"}),
        ):
            async with browser.session.request(method, url, data=data, allow_redirects=False) as answer:
                assert answer.content_type == "text/html" and answer.status >= 400
                seen.append(answer.headers)
        link = await stack.login_link(BOB)
        async with browser.session.get(link) as confirm:
            seen.append(confirm.headers)
            action, fields = form_of(await confirm.text())
        async with browser.session.post(
            f"{stack.url}{action}", data=fields, headers={"Origin": origin_of(link)}, allow_redirects=False
        ) as onward:
            seen.append(onward.headers)
            authorize = onward.headers["Location"]
        params = await browser.approve_at_zoho(authorize)
        async with browser.session.get(f"{stack.url}/zoho/callback?{urlencode(params)}") as success:
            seen.append(success.headers)
            fields = form_of(await success.text())[1]
        async with browser.session.post(f"{stack.url}/zoho/undo", data=fields) as undone:
            assert undone.status == 200
            seen.append(undone.headers)
    return seen


async def test_every_login_page_sends_the_security_headers(stack: Stack) -> None:
    for headers in await every_html_answer(stack):
        assert_hardened(headers, https=False)


async def test_https_deployments_also_send_strict_transport_security(tmp_path) -> None:
    https = await start_stack(tmp_path, {"PUBLIC_URL": "https://bot.example.test"})
    try:
        async with HttpBrowser() as browser, browser.session.get(f"{https.url}/zoho/login?state=nope") as answer:
            assert_hardened(answer.headers, https=True)
            assert "max-age=" in answer.headers["Strict-Transport-Security"]
    finally:
        await https.stop()
        await https.slack.stop()
        await https.zoho.stop()
