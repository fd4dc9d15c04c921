"""A request from another workspace reaches no listener, however it names ours: bolt takes a request's workspace
from its view's `app_installed_team_id` before its own team, so a click from another workspace that named ours only
there was once served as ours (an admin id of ours revoked someone), signed over HTTP and over the socket alike."""

from __future__ import annotations

import asyncio

import pytest

from bot.slack.views.home import HOME_REVOKE
from store import ChatIdentity
from tests.stack import ADA, ANN, TEAM_ID, Stack, start_stack

OTHER_TEAM = "T0OTHER"


@pytest.fixture(params=["http", "socket"])
async def bot(request, tmp_path):
    """The whole product, taking Slack's requests signed over HTTP or over Socket Mode."""
    socket = {"SLACK_APP_TOKEN": "xapp-fake-socket-mode-test", "SLACK_SIGNING_SECRET": ""}
    running = await start_stack(tmp_path, env=socket if request.param == "socket" else None)
    if request.param == "socket":
        await eventually(lambda: any(c.method == "apps.connections.open" for c in running.slack.calls))
    yield running
    await running.stop()
    await running.slack.stop()
    await running.zoho.stop()


async def eventually(check, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.05)


def home_revoke_click(team_id: str, installed_team_id: str, user_id: str, subject: str) -> dict:
    """A click on a Home tab's Revoke button by `user_id` of `team_id`, in a view installed in `installed_team_id`."""
    return {
        "type": "block_actions",
        "api_app_id": "A0LOCAL",  # the Slack emulator's app
        "team": {"id": team_id, "domain": "other"},
        "user": {"id": user_id, "username": "ada", "name": "ada", "team_id": team_id},
        "view": {"id": "V0OTHER", "type": "home", "team_id": team_id, "app_installed_team_id": installed_team_id},
        "container": {"type": "view", "view_id": "V0OTHER"},
        "trigger_id": "1.2.3",
        "actions": [{"action_id": HOME_REVOKE, "block_id": "people", "type": "button", "value": subject}],
    }


async def test_a_click_from_another_workspace_naming_ours_only_in_its_view_revokes_nobody(bot: Stack):
    await bot.connect(ANN, "ann@acme.test")
    admitted = bot.components.door.admitted

    await bot.slack.send_interaction(home_revoke_click(OTHER_TEAM, TEAM_ID, ADA, ANN))
    await asyncio.sleep(0.5)  # give a wrongly admitted revocation the time to show

    assert bot.components.door.admitted == admitted
    assert await asyncio.to_thread(bot.store.connections.get, ChatIdentity(TEAM_ID, ANN)) is not None
    assert bot.zoho.revoked_refresh_tokens == []
    assert not [m for m in bot.slack.dms(ANN) if "revoked" in m.text]


async def test_the_same_click_from_our_workspace_is_served(bot: Stack):
    await bot.connect(ANN, "ann@acme.test")

    await bot.slack.send_interaction(home_revoke_click(TEAM_ID, TEAM_ID, ADA, ANN))
    await bot.slack.wait_for_message(lambda m: m.user == ANN and "revoked by" in m.text)

    assert await asyncio.to_thread(bot.store.connections.get, ChatIdentity(TEAM_ID, ANN)) is None
