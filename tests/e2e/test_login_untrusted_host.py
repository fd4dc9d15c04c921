"""A callback naming an accounts server that is not the trusted one gets nothing: no connection is even opened to
it (a real listener on 127.0.0.1 counts them), the page says the login was refused, and nothing is saved.

The stack runs with ZOHO_ACCOUNTS_URL set, so the only trusted accounts server is exactly the emulator's URL.
"""

from __future__ import annotations

import asyncio

from tests.oauth.http_browser import HttpBrowser, Listener
from tests.stack import ANN, TEAM_ID

SUCCESS = "You can close this tab and go back to Slack."


def forgeries(listener_port: int, trusted: str) -> list[dict[str, str]]:
    here = f"127.0.0.1:{listener_port}"
    trusted_host = trusted.removeprefix("http://")
    return [
        {"accounts-server": f"http://{here}"},
        {"accounts-server": f"http://localhost:{listener_port}"},
        {"accounts-server": f"https://{here}"},
        {"accounts-server": "https://accounts.zoho.com.evil.test"},
        {"accounts-server": f"https://accounts.zoho.com@{here}"},
        {"accounts-server": f"http://{trusted_host}@{here}"},
        {"accounts-server": f"http://{here}#@{trusted_host}"},
        {"accounts-server": f"{trusted}/../@{here}"},
        {"accounts-server": f"{trusted}.evil.test"},
        {"accounts-server": "https://accounts.zoho.com"},  # real Zoho is not the configured server either
        {"accounts-server": "https://accounts.zoho.eu", "location": "eu"},
        {"accounts-server": f"http://{here}:99999"},
        {"location": "evil.test"},
        {"location": "evil.test", "accounts-server": f"http://{here}"},
    ]


async def test_an_untrusted_accounts_server_is_never_contacted(stack):
    listener = await Listener().start()
    stack.zoho.auto_approve_as = "ann@acme.test"
    try:
        async with HttpBrowser() as browser:
            for forged in forgeries(listener.port, stack.zoho.url):
                params = await browser.start_login(await stack.login_link(ANN))
                assert params["accounts-server"] == stack.zoho.url
                page = await browser.callback(stack.url, {**params, **forged})
                assert page.status == 400, (forged, page.html)
                assert "Unexpected Zoho server" in page.html and "refused" in page.html, forged
                # The state is used up: the genuine callback cannot be raced in after a forged one.
                again = await browser.callback(stack.url, params)
                assert again.status == 410, forged
            await asyncio.sleep(0.2)  # a connection attempt, had there been one, would have landed by now
            assert listener.connections == 0 and listener.received == b""
            assert stack.zoho.counters["code_exchange"] == 0
            assert stack.zoho.accounts_calls == []
            assert stack.store.connections.list(TEAM_ID) == []

            # The same browser and the trusted server: the listener was only ever a bystander.
            params = await browser.start_login(await stack.login_link(ANN))
            assert SUCCESS in (await browser.callback(stack.url, params)).html
    finally:
        await listener.stop()
    assert listener.connections == 0
