"""Whatever a person typed comes back to them as text, never as a live mention, link or broadcast.

Slack delivers a typed `<` as `&lt;` and a picked mention or a URL as its own markup (`<@U123>`, `<https://x|y>`).
Every answer that echoes the command must escape it again: an unescaped echo of `&lt;!channel&gt;` would notify
the whole channel. `*bold*` cannot be escaped in mrkdwn; it is only shown as typed.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.leads.model import Lead
from bot.slack.messages import Messenger
from playground.slack import SlackEmulator
from tests.bot.slack.fakes import connection_of
from tests.bot.slack.in_process import InProcessBot, ack_json, me, words

URL = "https://hooks.slack.com/commands/T0TEST/1/lead"
ALICE = "U0ALICE"
# As Slack sends it: typed `<…>` escaped, then Slack's own markup for a mention, a broadcast and a link.
TYPED = "&lt;!channel&gt; &lt;@U123&gt; &lt;https://x|y&gt; *bold* <!channel> <@U123> <https://x|y>"
LIVE = ("<!channel>", "<@U123>", "<https://x|y>", "<!", "<@", "<http")


@pytest.fixture
def bot() -> InProcessBot:
    return InProcessBot()


def assert_echo_is_inert(shown: str) -> None:
    for live in LIVE:
        assert live not in shown, (live, shown)
    assert "&lt;!channel&gt;" in shown, shown  # the person still sees what they typed
    assert "*bold*" in shown, shown


def only_answer(bot: InProcessBot) -> dict[str, Any]:
    (answer,) = bot.response_urls.to(URL)
    return answer


async def test_the_unknown_command_answer(bot: InProcessBot) -> None:
    ack = await bot.command(ALICE, "/lead", TYPED, URL)
    assert "I don't know" in ack_json(ack)["text"]
    assert_echo_is_inert(ack_json(ack)["text"])


async def test_the_help(bot: InProcessBot) -> None:
    ack = await bot.command(ALICE, "/lead", f"help {TYPED}", URL)
    shown = words(ack_json(ack))
    assert "/lead create" in shown
    for live in LIVE:
        assert live not in shown


async def test_the_not_connected_hint_in_the_answer_and_in_the_dm(bot: InProcessBot) -> None:
    await bot.command(ALICE, "/lead", f"list {TYPED}", URL)
    await bot.settle()

    answer = words(only_answer(bot))
    assert "offers to run your `/lead list …` as you typed it." in answer
    for live in LIVE:
        assert live not in answer
    assert "bold" not in answer  # what was typed stays with the bot, offered to run after the login
    ((identity, _, reason),) = bot.messenger.login_links
    assert identity == me(ALICE)
    for live in LIVE:
        assert live not in reason


async def test_the_problems_message_you_typed(bot: InProcessBot) -> None:
    bot.store.connect(me(ALICE))
    await bot.command(ALICE, "/lead", f"create last=Doe company={TYPED.replace(' ', '_')} bogus=1", URL)
    await bot.settle()

    answer = only_answer(bot)
    assert "You typed" in words(answer)
    for live in LIVE:
        assert live not in words(answer)
    assert "&lt;!channel&gt;" in words(answer)


async def test_the_form_failed_message(bot: InProcessBot) -> None:
    bot.store.connect(me(ALICE))
    hostile = TYPED.replace("&lt;", "<").replace("&gt;", ">")

    async def get(lead_id: str) -> Lead:
        return Lead(lead_id, {"Last_Name": hostile, "Company": hostile})

    bot.leads.service.get = get  # the Lead Zoho has, with what someone typed into it elsewhere

    await bot.command(ALICE, "/lead", "edit 42", URL)  # views.open cannot reach Slack here: the form fails
    await bot.settle()

    answer = only_answer(bot)
    assert "form" in words(answer)
    assert_echo_is_inert(words(answer))


REVOKE_MISTAKES = {
    "a word it does not understand": TYPED,
    "a flag with more": f"--all {TYPED}",
    "a name instead of a mention": f"@bob {TYPED}",
}


@pytest.mark.parametrize("text", REVOKE_MISTAKES.values(), ids=REVOKE_MISTAKES.keys())
async def test_zoho_revoke_invalid_input(bot: InProcessBot, text: str) -> None:
    ack = await bot.command(ALICE, "/zoho-revoke", text, URL)
    assert_echo_is_inert(ack_json(ack)["text"])


async def test_zoho_revoke_refused_to_a_non_admin(bot: InProcessBot) -> None:
    await bot.command(ALICE, "/zoho-revoke", "<@U123|&lt;!channel&gt; *bold*>", URL)
    await bot.settle()

    answer = words(only_answer(bot))
    assert "You typed" in answer
    assert_echo_is_inert(answer)


async def test_the_direct_messages_carry_zoho_text_inert() -> None:
    # The Zoho account's e-mail and org name were typed by someone, at Zoho: the DMs about them escape them too.
    hostile = "<!channel> <@U123> <https://x|y> *bold*"
    async with SlackEmulator(signing_secret="s", bot_token="xoxb-dm") as slack:
        slack.add_user(ALICE, name="alice")
        messenger = Messenger(AsyncWebClient(token="xoxb-dm", base_url=slack.api_url))
        connection = dataclasses.replace(connection_of(me(ALICE), email=hostile), org_name=hostile)

        await messenger.send_connected(connection)
        await messenger.send_login_undone(me(ALICE), hostile)
        await messenger.send_login_link(me(ALICE), "https://bot.test/zoho/login?state=s", "You're not connected.")

        dms = slack.dms(ALICE)
    assert len(dms) == 3
    for dm in dms[:2]:
        assert_echo_is_inert(dm.text + json.dumps(dm.blocks))
