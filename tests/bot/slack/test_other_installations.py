"""Only this installation's requests are served: a signed request naming another workspace or another app is
answered with bolt's "not installed" error and reaches no listener, so no admin list or command applies to it."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.app import build_bolt_app
from bot.slack.http import SlackFormRequest
from bot.slack.installation import Installation
from tests.bot.slack.in_process import AUTH_TEST, SECRET, TEAM, InProcessBot, me, settings

OUR_APP = "A0OURS"
ALICE = "U0ALICE"
LISTED_ADMIN = "U0LISTED"


class OurInstallation(Installation):
    """auth.test answered in advance, with the app id Slack includes for a bot token."""

    async def auth_test(self) -> Any:
        return {**AUTH_TEST, "app_id": OUR_APP}


@pytest.fixture
def bot() -> InProcessBot:
    bot = InProcessBot()
    bot.admin.allowed = True  # as for a person listed in ZOHO_ADMIN_USER_IDS
    bot.bolt, bot.door = build_bolt_app(
        settings(), OurInstallation(bot.services.slack), bot.services, bot.admission, bot.tasks
    )
    return bot


async def send(bot: InProcessBot, *, team: str, app: str, user: str, command: str, text: str) -> BoltResponse:
    body = urlencode(
        {"team_id": team, "api_app_id": app, "user_id": user, "command": command, "text": text, "trigger_id": "1.2"}
    )
    timestamp = str(int(time.time()))
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body),
    }
    return await bot.bolt.async_dispatch(SlackFormRequest(body=body, headers=headers))


async def test_this_workspace_and_app_are_served(bot: InProcessBot) -> None:
    bot.store.connect(me(ALICE))
    answer = await send(bot, team=TEAM, app=OUR_APP, user=LISTED_ADMIN, command="/zoho-revoke", text=ALICE)
    await bot.settle()

    assert answer.status == 200
    assert [name for name, _ in bot.revocation.calls] == ["forget_many"]


@pytest.mark.parametrize(
    "team, app", [("T0OTHER", OUR_APP), (TEAM, "A0OTHER"), ("T0OTHER", "A0OTHER")], ids=["team", "app", "both"]
)
async def test_another_installation_reaches_no_listener(bot: InProcessBot, team: str, app: str) -> None:
    answer = await send(bot, team=team, app=app, user=LISTED_ADMIN, command="/zoho-revoke", text=ALICE)
    await bot.settle()

    assert "/zoho-revoke" not in str(answer.body)
    assert bot.door.admitted == 0
    assert bot.revocation.calls == []  # a listed admin id from another workspace revokes nothing here
