"""Answers go only to Slack's own response URLs (or the configured Slack's, for the emulators)."""

from __future__ import annotations

import pytest
from aiohttp import web

from bot.slack.reply import Reply
from bot.slack.response_urls import ResponseUrls


async def test_a_response_url_that_is_not_slacks_gets_nothing() -> None:
    posted: list[str] = []

    async def sink(request: web.Request) -> web.Response:
        posted.append(await request.text())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", sink)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    slack_like = ResponseUrls(slack_api_url=f"http://127.0.0.1:{port}/api/")
    real_slack = ResponseUrls()
    try:
        await slack_like.respond_for(f"http://127.0.0.1:{port}/response/1")(text="to the configured Slack")
        for url in (
            f"http://127.0.0.1:{port}/response/2",  # fine for the emulator's Slack, not for the real one
            "https://hooks.slack.com.evil.test/commands/1",
            "http://hooks.slack.com/commands/1",
        ):
            with pytest.raises(ValueError, match="not one of Slack's"):
                await real_slack.respond_for(url)(text="secret lead data")
    finally:
        await slack_like.close()
        await real_slack.close()
        await runner.cleanup()

    assert len(posted) == 1 and "to the configured Slack" in posted[0]


async def test_an_answer_refused_for_its_response_url_is_logged_with_the_reason(caplog) -> None:
    urls = ResponseUrls()
    try:
        async with Reply(urls.respond_for("https://hooks.slack.com.evil.test/commands/1"), what="/lead whoami") as r:
            await r.send("you are ann@acme.test")
    finally:
        await urls.close()

    assert (
        "reply to /lead whoami not posted: the response_url is not one of Slack's; nothing was posted to it"
        in caplog.text
    )
