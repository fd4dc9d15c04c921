"""A real (headless) Chromium drives the emulated Zoho consent page: type an account, Accept or Deny."""

from __future__ import annotations

import os
import shutil
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from .zoho_login import REDIRECT_URI, authorize_params

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and os.environ.get("REQUIRE_BROWSER") != "1",
        reason="needs a Chromium binary (CHROMIUM_PATH); with REQUIRE_BROWSER=1 its absence is a failure",
    ),
]


async def decide(browser, zoho, email: str, button: str) -> dict[str, str]:
    """Open the consent page, type `email`, press `button`; returns the query the browser was sent to."""
    page = await browser.new_page()
    landed: list[str] = []

    async def callback(route):  # stands in for the bot's /zoho/callback
        landed.append(route.request.url)
        await route.fulfill(status=200, content_type="text/html", body="<p>connected</p>")

    await page.route(f"{REDIRECT_URI}**", callback)
    await page.goto(f"{zoho.url}/oauth/v2/auth?{urlencode(authorize_params())}")
    assert await page.locator("#scopes li").count() == len(authorize_params()["scope"].split(","))
    await page.fill("#email", email)
    await page.click(f"button[name=action][value={button}]")
    await page.wait_for_url(f"{REDIRECT_URI}**")
    await page.close()
    [url] = landed
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_a_person_accepts_or_denies_in_the_browser(zoho):
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            accepted = await decide(browser, zoho, "ada@acme.test", "accept")
            denied = await decide(browser, zoho, "ada@acme.test", "deny")
        finally:
            await browser.close()

    assert accepted["state"] == "s123" and accepted["accounts-server"] == zoho.url
    assert accepted["code"] in zoho.issued_codes()
    assert denied == {"error": "access_denied", "state": "s123"}
