"""The App Home tab end to end: what a person and an admin see when they open it, its buttons, and the tab kept
up to date when a connection comes or goes. Through the real stack and both emulators; the Home view is the one
the emulated Slack stored from `views.publish` (which refuses what real Slack refuses, over 100 blocks included).
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.slack.views.home import (
    HOME_CONNECT,
    HOME_DISCONNECT,
    HOME_NEW_LEAD,
    HOME_PEOPLE_NEXT,
    HOME_PEOPLE_PREV,
    HOME_REVOKE,
    PEOPLE_PER_PAGE,
)
from bot.slack.views.lead_actions import LEAD_EDIT
from bot.slack.views.lead_form import CREATE_CALLBACK_ID, EDIT_CALLBACK_ID
from oauth.login import SCOPES
from store import ChatIdentity, NewConnection
from tests.e2e.test_revoke import eventually, refresh_token_of
from tests.stack import ADA, ANN, BOB, CLIENT_ID, CLIENT_SECRET, TEAM_ID, Stack, button_url

NO_TRACEBACK = ("Traceback", "Error:", "Exception")


def me(user_id: str) -> ChatIdentity:
    return ChatIdentity(team_id=TEAM_ID, user_id=user_id)


def buttons(view: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(action_id, value) of every button on the view, in reading order."""
    found = []
    for block in view["blocks"]:
        elements = list(block.get("elements") or []) if block["type"] == "actions" else []
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        found += [(e["action_id"], e.get("value")) for e in elements if e.get("type") == "button"]
    return found


def actions(view: dict[str, Any]) -> list[str]:
    return [action_id for action_id, _ in buttons(view)]


def words(view: dict[str, Any]) -> str:
    """Everything the view says, as one text."""
    parts = []
    for block in view["blocks"]:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts += [e.get("text", "") for e in block.get("elements") or [] if block["type"] == "context"]
    return "\n".join(parts)


async def new_dm(stack: Stack, user_id: str, before: int, what: str) -> Any:
    return await stack.slack.wait_for_message(
        lambda m: m.kind == "dm" and m.user == user_id and m.seq > before and what in m.text
    )


async def connect_many(stack: Stack, count: int) -> None:
    """`count` more connected people, stored directly with live tokens minted by the Zoho emulator (cheap)."""
    user = stack.zoho.user("ann@acme.test")
    redirect = stack.settings.redirect_uri

    def save_all() -> None:
        for n in range(count):
            code = stack.zoho.ledger.issue_code(CLIENT_ID, redirect, user.email, user.org_id, SCOPES, True)
            grant = stack.zoho.ledger.exchange_code(CLIENT_ID, code, redirect, 3600)
            new = NewConnection(
                zoho_email=user.email,
                zoho_user_id=user.crm_user_id,
                org_id=user.org_id,
                org_name=user.org_name,
                location="us",
                accounts_server=stack.zoho.url,
                api_domain=stack.zoho.url,
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                refresh_token=grant.refresh_token,
                access_token=grant.access_token.value,
                expires_at_ms=int(grant.access_token.expires_at * 1000),
                redirect_uri=redirect,
            )
            stack.store.connections.save(me(f"U0P{n:04d}"), new)

    for n in range(count):
        stack.slack.add_user(f"U0P{n:04d}", name=f"person{n}")
    await asyncio.to_thread(save_all)


# ----- everyone --------------------------------------------------------------------------------------------------


async def test_someone_not_connected_sees_connect_and_its_click_sends_the_login_dm(stack):
    home = await stack.slack.open_home(ANN)

    assert "You're not connected to Zoho CRM" in words(home.view)
    assert actions(home.view) == [HOME_CONNECT]
    before = stack.slack.seq
    await stack.slack.click_home_button(ANN, HOME_CONNECT)
    dm = await new_dm(stack, ANN, before, "connect Zoho CRM")
    assert button_url(dm.blocks).startswith(f"{stack.url}/zoho/login?state=")
    await asyncio.sleep(0.2)
    assert [m.text for m in stack.slack.dms(ANN) if m.seq > before] == [dm.text]  # the link alone, not announced


async def test_connecting_republishes_the_home_with_the_zoho_user_org_and_since(stack):
    await stack.slack.open_home(ANN)
    before = stack.slack.seq

    await stack.connect(ANN, "ann@acme.test")

    home = await stack.slack.wait_for_home(ANN, after=before)
    said = words(home.view)
    assert "Connected to Zoho CRM as ann@acme.test, Acme Ltd, United States data centre." in said
    assert "Connected since " in said and " UTC" in said
    assert actions(home.view)[:2] == [HOME_NEW_LEAD, HOME_DISCONNECT]
    assert "You own no Leads yet." in said


async def test_the_latest_leads_come_with_edit_and_new_lead_and_edit_open_the_forms(stack):
    await stack.connect(ANN, "ann@acme.test")
    ids = stack.zoho.seed_leads(
        "ann@acme.test",
        [{"Last_Name": f"Buyer {n}", "Company": f"Firm {n}", "Lead_Status": "Contacted"} for n in range(7)],
    )

    home = await stack.slack.open_home(ANN)

    edits = [value for action_id, value in buttons(home.view) if action_id == LEAD_EDIT]
    assert len(edits) == 5 and set(edits) <= set(ids)
    said = words(home.view)
    assert said.count("Contacted") == 5 and "(Firm " in said and "*Buyer " in said
    await stack.slack.click_home_button(ANN, HOME_NEW_LEAD)
    await stack.slack.wait_for_view(lambda v: v.user_id == ANN and v.callback_id == CREATE_CALLBACK_ID)
    await stack.slack.click_home_button(ANN, LEAD_EDIT, edits[0])
    form = await stack.slack.wait_for_view(lambda v: v.user_id == ANN and v.callback_id == EDIT_CALLBACK_ID)
    assert edits[0] in form.view["private_metadata"]


async def test_disconnect_revokes_at_zoho_and_republishes_the_home_as_not_connected(stack):
    await stack.connect(ANN, "ann@acme.test")
    token = await refresh_token_of(stack, ANN)
    home = await stack.slack.open_home(ANN)
    disconnect = next(b for b in home.view["blocks"] if b["type"] == "actions")["elements"][1]
    assert disconnect["confirm"]["title"]["text"] == "Disconnect Zoho CRM?"  # asks first
    before = stack.slack.seq

    await stack.slack.click_home_button(ANN, HOME_DISCONNECT)

    home = await stack.slack.wait_for_home(ANN, after=before)
    assert actions(home.view) == [HOME_CONNECT]
    assert token in stack.zoho.revoked_refresh_tokens
    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is None
    await new_dm(stack, ANN, before, "Logged out of Zoho CRM (ann@acme.test). Your token was revoked at Zoho.")


async def test_when_zoho_is_down_the_home_still_publishes_and_says_the_leads_could_not_be_loaded(stack):
    await stack.connect(ANN, "ann@acme.test")
    stack.zoho.fail_with = 500

    home = await stack.slack.open_home(ANN)

    said = words(home.view)
    assert "Your Leads could not be loaded: Zoho CRM did not answer just now." in said
    assert "Connected to Zoho CRM as ann@acme.test" in said and HOME_DISCONNECT in actions(home.view)
    assert not any(bad in said for bad in NO_TRACEBACK)


async def test_a_profile_that_may_not_see_leads_is_told_so_not_to_try_again(stack):
    await stack.connect(ANN, "ann@acme.test")
    stack.zoho.set_permissions("ann@acme.test", read=False)

    home = await stack.slack.open_home(ANN)

    said = words(home.view)
    assert "Your Zoho CRM profile does not allow you to see Leads. Ask your Zoho administrator." in said
    assert "did not answer" not in said and "Connected to Zoho CRM as ann@acme.test" in said


# ----- admins ----------------------------------------------------------------------------------------------------


async def test_an_admin_sees_the_connected_people_with_revoke_and_a_non_admin_does_not(stack):
    await stack.connect(ANN, "ann@acme.test")
    await stack.connect(BOB, "bob@globex.test")

    admin_home = await stack.slack.open_home(ADA)
    bob_home = await stack.slack.open_home(BOB)

    revokes = [value for action_id, value in buttons(admin_home.view) if action_id == HOME_REVOKE]
    assert revokes == [ANN, BOB]
    said = words(admin_home.view)
    assert "*2 connected to Zoho CRM*" in said and "bob@globex.test · Globex · Europe data centre" in said
    assert f"<@{ANN}> *connected*" in said  # the audit trail, newest first
    assert "No revocation is waiting for Zoho" in said
    assert HOME_REVOKE not in actions(bob_home.view) and "Workspace admin" not in words(bob_home.view)


async def test_an_admins_revoke_click_revokes_ann_at_zoho_and_republishes_both_homes(stack):
    await stack.connect(ANN, "ann@acme.test")
    token = await refresh_token_of(stack, ANN)
    await stack.slack.open_home(ANN)
    await stack.slack.open_home(ADA)
    before = stack.slack.seq

    await stack.slack.click_home_button(ADA, HOME_REVOKE, ANN)

    ann_home = await stack.slack.wait_for_home(ANN, after=before)
    assert actions(ann_home.view) == [HOME_CONNECT]
    assert token in stack.zoho.revoked_refresh_tokens
    await new_dm(stack, ANN, before, f"Your Zoho CRM connection was revoked by <@{ADA}>.")
    await new_dm(stack, ADA, before, f"Revoked <@{ANN}>'s Zoho CRM connection (ann@acme.test).")
    await eventually(lambda: "Nobody in this workspace is connected" in words(stack.slack.home_view(ADA)), "ADA")
    assert HOME_REVOKE not in actions(stack.slack.home_view(ADA))


async def test_a_revoke_click_by_a_non_admin_changes_nothing(stack):
    await stack.connect(ANN, "ann@acme.test")
    token = await refresh_token_of(stack, ANN)
    await stack.slack.open_home(ADA)

    before = stack.slack.seq
    await stack.slack.click_home_button(BOB, HOME_REVOKE, ANN, home_of=ADA)  # forged on ADA's view
    refused = await new_dm(stack, BOB, before, "Only workspace admins can do this. Nothing was changed.")
    stack.slack.add_user(ADA, name="ada", real_name="Ada Admin", email="ada@acme.test")  # demoted meanwhile
    await stack.slack.click_home_button(ADA, HOME_REVOKE, ANN)
    await new_dm(stack, ADA, before, "Only workspace admins can do this. Nothing was changed.")

    assert "Revoke" in refused.text
    await asyncio.sleep(0.3)  # give a wrongly started revocation the time to show
    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is not None
    assert token not in stack.zoho.revoked_refresh_tokens
    await eventually(lambda: HOME_REVOKE not in actions(stack.slack.home_view(ADA)), "ADA's home without admin part")


async def test_the_people_list_comes_a_page_at_a_time_within_100_blocks(stack):
    await connect_many(stack, 60)

    first = await stack.slack.open_home(ADA)

    assert len(first.view["blocks"]) <= 100
    assert actions(first.view).count(HOME_REVOKE) == PEOPLE_PER_PAGE
    assert "*60 connected to Zoho CRM* · page 1 of 2" in words(first.view)
    assert (HOME_PEOPLE_NEXT, "2") in buttons(first.view) and HOME_PEOPLE_PREV not in actions(first.view)
    before = stack.slack.seq
    await stack.slack.click_home_button(ADA, HOME_PEOPLE_NEXT, "2")
    second = await stack.slack.wait_for_home(ADA, after=before)
    assert len(second.view["blocks"]) <= 100
    assert actions(second.view).count(HOME_REVOKE) == 60 - PEOPLE_PER_PAGE
    assert (HOME_PEOPLE_PREV, "1") in buttons(second.view) and HOME_PEOPLE_NEXT not in actions(second.view)
    last = [value for action_id, value in buttons(second.view) if action_id == HOME_REVOKE][-1]

    before = stack.slack.seq
    await stack.slack.click_home_button(ADA, HOME_REVOKE, last)  # the admin stays on the page they were on
    await eventually(lambda: "*59 connected to Zoho CRM* · page 2 of 2" in words(stack.slack.home_view(ADA)), "p2")
    publishes = [c for c in stack.slack.calls if c.method == "views.publish"]
    assert publishes and all(c.error is None for c in publishes)  # the emulated Slack refuses a view over 100 blocks


async def test_a_revocation_zoho_did_not_confirm_shows_as_waiting_on_the_admins_home(stack):
    await stack.connect(ANN, "ann@acme.test")
    stack.zoho.fail_accounts_with = 500
    before = stack.slack.seq  # her Home was published at the login already: wait for the one after the logout
    await stack.command(ANN, "logout")
    await stack.slack.wait_for_home(ANN, after=before, timeout=15)  # republished once the revocation is queued

    home = await stack.slack.open_home(ADA)

    assert "*1 revocation waiting for Zoho*" in words(home.view)
    assert f"• <@{ANN}> since " in words(home.view)


async def test_a_person_deactivated_in_slack_sees_their_home_as_not_connected(stack):
    await stack.connect(ANN, "ann@acme.test")
    await stack.slack.open_home(ANN)
    before = stack.slack.seq

    await stack.slack.deactivate(ANN)

    home = await stack.slack.wait_for_home(ANN, after=before)
    assert actions(home.view) == [HOME_CONNECT]
