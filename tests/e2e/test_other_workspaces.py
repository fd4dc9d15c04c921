"""A signed request from another workspace reaches no listener, however it names ours: bolt takes a request's
workspace from its view's `app_installed_team_id` before its own team, so a click sent from another workspace
that names ours only there was once served as ours (and an admin id of ours revoked someone)."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

import aiohttp

from bot.slack.views.home import HOME_REVOKE
from playground.slack.signing import sign_slack_request
from store import ChatIdentity
from tests.stack import ADA, ANN, SIGNING_SECRET, TEAM_ID

OTHER_TEAM = "T0OTHER"
APP_ID = "A0LOCAL"  # the Slack emulator's app


async def post_signed(url: str, payload: dict) -> int:
    """POST `payload` as an interaction, signed with the app's signing secret (as Slack signs every request)."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign_slack_request(SIGNING_SECRET, body)}
    async with aiohttp.ClientSession() as http, http.post(f"{url}/slack/events", data=body, headers=headers) as got:
        return got.status


def home_revoke_click(team_id: str, installed_team_id: str, user_id: str, subject: str) -> dict:
    return {
        "type": "block_actions",
        "api_app_id": APP_ID,
        "team": {"id": team_id, "domain": "other"},
        "user": {"id": user_id, "username": "ada", "name": "ada", "team_id": team_id},
        "view": {"id": "V0OTHER", "type": "home", "team_id": team_id, "app_installed_team_id": installed_team_id},
        "container": {"type": "view", "view_id": "V0OTHER"},
        "trigger_id": "1.2.3",
        "actions": [{"action_id": HOME_REVOKE, "block_id": "people", "type": "button", "value": subject}],
    }


async def test_a_click_from_another_workspace_naming_ours_only_in_its_view_revokes_nobody(stack):
    await stack.connect(ANN, "ann@acme.test")
    admitted = stack.components.door.admitted

    await post_signed(stack.url, home_revoke_click(OTHER_TEAM, TEAM_ID, ADA, ANN))  # bolt answers "not installed"
    await asyncio.sleep(0.5)  # give a wrongly admitted revocation the time to show

    assert stack.components.door.admitted == admitted
    assert await asyncio.to_thread(stack.store.connections.get, ChatIdentity(TEAM_ID, ANN)) is not None
    assert stack.zoho.revoked_refresh_tokens == []
    assert not [m for m in stack.slack.dms(ANN) if "revoked" in m.text]


async def test_the_same_click_from_our_workspace_is_served(stack):
    await stack.connect(ANN, "ann@acme.test")

    assert await post_signed(stack.url, home_revoke_click(TEAM_ID, TEAM_ID, ADA, ANN)) == 200
    await stack.slack.wait_for_message(lambda m: m.user == ANN and "revoked by" in m.text)

    assert await asyncio.to_thread(stack.store.connections.get, ChatIdentity(TEAM_ID, ANN)) is None
