"""A person logs in with a real (headless) Chromium: the DM's "Login with Zoho" link, our page naming whose link it
is (Continue), the Zoho consent page (the emulator's HTML, approved by clicking), and our success page, of which a
screenshot is kept. Chromium enforces our Content-Security-Policy all along: nothing may be blocked.

Needs Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium) and the `playwright` package; no browser is
ever downloaded. Skipped when either is missing, unless REQUIRE_BROWSER=1 (CI), which makes that a failure.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from tests.e2e.test_login_flow import SUCCESS, reply_to, whoami
from tests.stack import ANN, button_url

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
REQUIRED = os.environ.get("REQUIRE_BROWSER") == "1"


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"no Chromium binary at {CHROMIUM} (set CHROMIUM_PATH)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


MISSING = _missing()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        MISSING is not None and not REQUIRED,
        reason=f"browser login test: {MISSING} (CI sets REQUIRE_BROWSER=1 and fails instead)",
    ),
]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_a_person_logs_in_from_the_dm_link_in_chromium(stack, tmp_path):
    if MISSING:
        pytest.fail(f"REQUIRE_BROWSER=1 but {MISSING}")
    from playwright.async_api import async_playwright

    stack.zoho.auto_approve_as = None  # the consent page is shown and must be approved by a click
    await stack.command(ANN, "list")
    await reply_to(stack, ANN, "I've sent you a login link")
    link = button_url(stack.slack.dms(ANN)[-1].blocks)
    screenshot = tmp_path / "login-success.png"

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 900, "height": 600})
            blocked: list[str] = []
            page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
            await page.goto(link)
            assert await page.locator("h1").inner_text() == "Connect your Zoho CRM?"
            asked = await page.locator("main").inner_text()
            assert "Slack user Ann Smith (@ann) in Local Workspace" in asked
            assert stack.zoho.counters["authorize"] == 0
            await page.get_by_role("button", name="Continue").click()
            await page.wait_for_url(f"{stack.zoho.url}/oauth/v2/auth?**")
            assert page.url.startswith(f"{stack.zoho.url}/oauth/v2/auth?")
            assert await page.locator("#scopes li").count() >= 5
            await page.fill("#email", "ann@acme.test")
            await page.click("button[name=action][value=accept]")
            await page.wait_for_url(f"{stack.url}/zoho/callback?**")
            await page.locator("h1").wait_for()
            heading = await page.locator("h1").inner_text()
            text = await page.locator("main").inner_text()
            title = await page.title()
            await page.screenshot(path=str(screenshot), full_page=True)
        finally:
            await browser.close()

    assert blocked == []
    assert heading == title == "You're connected to Zoho CRM"
    assert SUCCESS in text
    assert "ann@acme.test" in text and "Acme Ltd" in text and "United States data centre" in text
    assert screenshot.stat().st_size > 5_000
    assert png_size(screenshot) == (900, 600)
    assert stack.zoho.counters["authorize"] == 1 and stack.zoho.counters["code_exchange"] == 1
    assert (await whoami(stack, ANN)).startswith("Connected to Zoho CRM as ann@acme.test, Acme Ltd")
