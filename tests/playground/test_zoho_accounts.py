"""The emulated Zoho accounts server: consent page, code exchange, refresh, revoke (docs/reference/zoho.md §1–§3)."""

from __future__ import annotations

import re

from .zoho_login import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    ConsentForm,
    authorize_params,
    consent,
    exchange,
    grant_code,
    login,
    refresh,
)

TOKEN = re.compile(r"^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$")


async def crm_status(http, zoho, access_token) -> int:
    headers = {"Authorization": f"Zoho-oauthtoken {access_token}"}
    async with http.get(f"{zoho.url}/crm/v8/users", params={"type": "CurrentUser"}, headers=headers) as answer:
        return answer.status


async def test_consent_page_lists_accounts_and_scopes(zoho, http):
    async with http.get(f"{zoho.url}/oauth/v2/auth", params=authorize_params()) as page:
        html = await page.text()
        assert page.status == 200 and page.content_type == "text/html"
    form = ConsentForm()
    form.feed(html)
    assert form.scopes == authorize_params()["scope"].split(",")
    assert form.fields["state"] == "s123" and form.fields["access_type"] == "offline"
    assert 'id="email"' in html and '<option value="bob@globex.test">' in html
    assert 'name="action" value="accept"' in html and 'name="action" value="deny"' in html
    assert '<html lang="en">' in html and '<label for="email">' in html


async def test_unknown_client_or_redirect_uri_gets_an_error_page_not_a_redirect(zoho, http):
    for bad in ({"client_id": "1000.NOPE"}, {"redirect_uri": "https://evil.example/cb"}, {"scope": ""}):
        async with http.get(f"{zoho.url}/oauth/v2/auth", params=authorize_params(**bad), allow_redirects=False) as page:
            assert page.status == 400, bad
            assert "Location" not in page.headers
            assert 'role="alert"' in await page.text()


async def test_accept_redirects_with_code_location_server_and_state(zoho, http):
    ann = await consent(http, zoho.url, "ann@acme.test")
    bob = await consent(http, zoho.url, "bob@globex.test", state="other")

    assert TOKEN.match(ann["code"])
    assert ann == {"code": ann["code"], "location": "us", "accounts-server": zoho.url, "state": "s123"}
    assert (bob["location"], bob["state"]) == ("eu", "other")
    assert zoho.issued_codes() == [ann["code"], bob["code"]]


async def test_deny_and_users_without_crm_get_errors_back(zoho, http):
    zoho.add_user(email="nocrm@acme.test", full_name="No Crm", org_name="Acme Ltd", has_crm=False)

    assert await consent(http, zoho.url, "ann@acme.test", action="deny") == {"error": "access_denied", "state": "s123"}
    assert await consent(http, zoho.url, "nocrm@acme.test") == {"error": "no_org", "state": "s123"}
    assert zoho.issued_codes() == []


async def test_unknown_email_shows_the_form_again_with_an_error(zoho, http):
    fields = {**authorize_params(), "email": "stranger@nowhere.test", "action": "accept"}
    async with http.post(f"{zoho.url}/oauth/v2/auth", data=fields, allow_redirects=False) as page:
        assert page.status == 400
        assert "No Zoho account with that email." in await page.text()


async def test_auto_approve_redirects_at_once(zoho, http):
    zoho.auto_approve_as = "bob@globex.test"
    async with http.get(f"{zoho.url}/oauth/v2/auth", params=authorize_params(), allow_redirects=False) as answer:
        assert answer.status == 302
        assert answer.headers["Location"].startswith(f"{REDIRECT_URI}?code=1000.")
        assert "location=eu" in answer.headers["Location"]


async def test_code_exchange_answers_zoho_shaped_tokens(zoho, http):
    zoho.token_lifetime = 1800
    answer = await login(http, zoho.url, "ann@acme.test")

    assert set(answer) == {"access_token", "refresh_token", "api_domain", "token_type", "expires_in"}
    assert TOKEN.match(answer["access_token"]) and TOKEN.match(answer["refresh_token"])
    assert (answer["api_domain"], answer["token_type"], answer["expires_in"]) == (zoho.url, "Bearer", 1800)
    assert await crm_status(http, zoho, answer["access_token"]) == 200
    assert zoho.issued_tokens() == [answer["refresh_token"], answer["access_token"]]
    assert zoho.counters["code_exchange"] == 1


async def test_online_access_gets_no_refresh_token(zoho, http):
    answer = await login(http, zoho.url, "ann@acme.test", access_type="online")
    assert "refresh_token" not in answer and TOKEN.match(answer["access_token"])


async def test_code_errors_come_as_http_200(zoho, http):
    code = await grant_code(http, zoho.url, "ann@acme.test")
    assert await exchange(http, zoho.url, code, client_secret="wrong") == {"error": "invalid_client_secret"}
    assert await exchange(http, zoho.url, code, redirect_uri="http://127.0.0.1:9/other") == {
        "error": "invalid_redirect_uri"
    }
    assert "access_token" in await exchange(http, zoho.url, code)
    assert await exchange(http, zoho.url, code) == {"error": "invalid_code"}  # single use
    assert await exchange(http, zoho.url, "1000.nope.nope") == {"error": "invalid_code"}

    form = {"client_id": "1000.UNKNOWN", "client_secret": "x", "grant_type": "authorization_code", "code": code}
    async with http.post(f"{zoho.url}/oauth/v2/token", data=form) as answer:
        assert (answer.status, await answer.json()) == (200, {"error": "invalid_client"})


async def test_a_code_expires(zoho, http):
    zoho.code_lifetime = 0  # Zoho: 120 s
    code = await grant_code(http, zoho.url, "ann@acme.test")
    assert await exchange(http, zoho.url, code) == {"error": "invalid_code"}


async def test_token_params_may_come_in_the_query_string(zoho, http):
    code = await grant_code(http, zoho.url, "ann@acme.test")
    params = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": REDIRECT_URI,
        "grant_type": "authorization_code",
        "code": code,
    }
    async with http.post(f"{zoho.url}/oauth/v2/token", params=params) as answer:
        assert "access_token" in await answer.json()


async def test_refresh_gives_a_new_access_token_and_no_refresh_token(zoho, http):
    first = await login(http, zoho.url, "ann@acme.test")
    again = await refresh(http, zoho.url, first["refresh_token"])

    assert set(again) == {"access_token", "api_domain", "token_type", "expires_in"}
    assert again["access_token"] != first["access_token"]
    assert await crm_status(http, zoho, again["access_token"]) == 200
    assert await crm_status(http, zoho, first["access_token"]) == 200  # older ones stay valid until expiry
    assert zoho.counters["refresh"] == 1
    assert await refresh(http, zoho.url, "1000.unknown.token") == {"error": "invalid_code"}


async def test_refreshes_are_throttled_per_refresh_token(zoho, http):
    zoho.refresh_limit = 3
    tokens = await login(http, zoho.url, "ann@acme.test")
    answers = [await refresh(http, zoho.url, tokens["refresh_token"]) for _ in range(4)]

    assert all("access_token" in a for a in answers[:3])
    assert answers[3] == {
        "error_description": "You have made too many requests continuously. Please try again after some time.",
        "error": "Access Denied",
    }
    other = await login(http, zoho.url, "ann@acme.test")
    assert "access_token" in await refresh(http, zoho.url, other["refresh_token"])  # the limit is per token
    assert zoho.counters["refresh"] == 5
    refreshes = [c for c in zoho.accounts_calls if c.grant_type == "refresh_token"]
    assert [c.outcome for c in refreshes] == ["ok", "ok", "ok", "Access Denied", "ok"]
    assert {c.email for c in refreshes} == {"ann@acme.test"}
    assert [c.token for c in refreshes] == [tokens["refresh_token"]] * 4 + [other["refresh_token"]]


async def test_the_sixteenth_access_token_evicts_the_oldest(zoho, http):
    tokens = await login(http, zoho.url, "ann@acme.test")
    zoho.refresh_limit = 100
    newer = [(await refresh(http, zoho.url, tokens["refresh_token"]))["access_token"] for _ in range(15)]

    assert await crm_status(http, zoho, tokens["access_token"]) == 401
    assert await crm_status(http, zoho, newer[0]) == 200


async def test_the_twenty_first_refresh_token_evicts_the_oldest(zoho, http):
    logins = [await login(http, zoho.url, "ann@acme.test") for _ in range(21)]

    assert await refresh(http, zoho.url, logins[0]["refresh_token"]) == {"error": "invalid_code"}
    assert await crm_status(http, zoho, logins[0]["access_token"]) == 401
    assert "access_token" in await refresh(http, zoho.url, logins[1]["refresh_token"])


async def test_revoke_takes_the_token_in_body_or_query_and_kills_its_access_tokens(zoho, http):
    one = await login(http, zoho.url, "ann@acme.test")
    two = await login(http, zoho.url, "bob@globex.test")
    revoke = f"{zoho.url}/oauth/v2/token/revoke"

    async with http.post(revoke, data={"token": one["refresh_token"]}) as answer:
        assert (answer.status, await answer.json()) == (200, {"status": "success"})
    async with http.post(revoke, params={"token": two["refresh_token"]}) as answer:
        assert (answer.status, await answer.json()) == (200, {"status": "success"})
    async with http.post(revoke, params={"token": two["refresh_token"]}) as answer:
        assert (answer.status, await answer.json()) == (400, {"status": "failure", "error": "invalid_token"})

    assert await crm_status(http, zoho, one["access_token"]) == 401
    assert await refresh(http, zoho.url, one["refresh_token"]) == {"error": "invalid_code"}
    assert zoho.revoked_refresh_tokens == [one["refresh_token"], two["refresh_token"]]
    assert zoho.counters["revoke"] == 3
    revokes = [(c.email, c.outcome) for c in zoho.accounts_calls if c.path.endswith("/revoke")]
    assert revokes == [("ann@acme.test", "ok"), ("bob@globex.test", "ok"), ("bob@globex.test", "invalid_token")]


async def test_accounts_failure_knob(zoho, http):
    tokens = await login(http, zoho.url, "ann@acme.test")
    zoho.fail_accounts_with = 500

    form = {"refresh_token": tokens["refresh_token"], "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    async with http.post(f"{zoho.url}/oauth/v2/token", data={**form, "grant_type": "refresh_token"}) as answer:
        assert answer.status == 500 and answer.content_type == "text/html"
    async with http.post(f"{zoho.url}/oauth/v2/token/revoke", data={"token": tokens["refresh_token"]}) as answer:
        assert answer.status == 500
    assert zoho.revoked_refresh_tokens == []
    assert (zoho.counters["refresh"], zoho.counters["revoke"]) == (1, 1)

    zoho.fail_accounts_with = None
    assert "access_token" in await refresh(http, zoho.url, tokens["refresh_token"])
