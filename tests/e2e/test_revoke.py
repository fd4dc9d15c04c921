"""Revocation end to end: an admin's /zoho-revoke, a person's /lead logout, and Slack removing the app.

Each story checks what people see (replies, DMs), what Zoho saw (the emulator's revoke calls) and what the
database keeps (connection rows, the revocation queue, the audit trail).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.slack.views.revoke import REVOKE_ALL_ACTION
from oauth.revocation import RETRY_ACTOR, RetryPolicy
from playground.slack.records import RecordedMessage
from store import ChatIdentity
from tests.stack import ADA, ANN, BOB, TEAM_ID, Stack, start_stack

QUEUED = (
    "Zoho could not be reached; the token is deleted here and the revocation at Zoho is queued "
    "and retried in the background."
)
FAST_RETRY = RetryPolicy(interval_s=0.05, first_backoff_s=0.05, max_backoff_s=0.2)


def me(user_id: str) -> ChatIdentity:
    return ChatIdentity(team_id=TEAM_ID, user_id=user_id)


async def answer(stack: Stack, user_id: str, text: str, command: str = "/zoho-revoke") -> RecordedMessage:
    """Send a command and return the final answer `user_id` sees (an immediate ack or a later reply)."""
    after = stack.slack.seq
    await stack.command(user_id, text, command=command)
    return await stack.slack.wait_for_message(
        lambda m: m.user == user_id and m.kind != "dm" and m.seq > after and "Working on it" not in m.text
    )


async def refresh_token_of(stack: Stack, user_id: str) -> str:
    connection = await asyncio.to_thread(stack.store.connections.get, me(user_id))
    assert connection is not None, f"{user_id} is not connected"
    secrets = await asyncio.to_thread(stack.store.connections.secrets, connection.id)
    return secrets.refresh_token


def revokes_of(stack: Stack, token: str) -> list[str]:
    """The outcomes of every revoke request the emulated Zoho received for `token`."""
    return [c.outcome for c in stack.zoho.accounts_calls if c.path.endswith("/revoke") and c.token == token]


def db_rows(stack: Stack, sql: str, *args: object) -> list[tuple]:
    path = Path(stack.settings.database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as db:
        return db.execute(sql, args).fetchall()


def audited(stack: Stack, where: str, *args: object) -> int:
    """How many audit entries match `where` (a revocation is audited after Zoho answered it: wait for this)."""
    return db_rows(stack, f"select count(*) from audit_entries where {where}", *args)[0][0]


async def audit(stack: Stack) -> list:
    return await asyncio.to_thread(stack.store.audit.list, TEAM_ID, 50)


async def eventually(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.05)


async def test_an_admin_revokes_a_person_at_zoho_and_here(stack):
    await stack.connect(ANN, "ann@acme.test")
    token = await refresh_token_of(stack, ANN)
    connection_id = (await asyncio.to_thread(stack.store.connections.get, me(ANN))).id

    reply = await answer(stack, ADA, "@ann")  # the emulated Slack escapes it to <@U0ANN|ann>, as real Slack does

    assert reply.text == f"Revoked <@{ANN}>'s Zoho CRM connection (ann@acme.test). Zoho confirmed the revocation."
    assert revokes_of(stack, token) == ["ok"]
    assert stack.zoho.revoked_refresh_tokens == [token]
    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is None
    assert await asyncio.to_thread(stack.store.connections.secrets, connection_id) is None
    assert db_rows(stack, "select count(*) from zoho_connections where user_id = ?", ANN) == [(0,)]
    assert db_rows(stack, "select count(*) from pending_revocations") == [(0,)]

    dm = await stack.slack.wait_for_message(lambda m: m.kind == "dm" and m.user == ANN and "revoked" in m.text)
    assert dm.text == f"Your Zoho CRM connection was revoked by <@{ADA}>. Type `/lead login` to connect again."

    entry = (await audit(stack))[0]
    assert (entry.actor_user_id, entry.action, entry.subject_user_id, entry.zoho_email, entry.outcome) == (
        ADA,
        "revoke",
        ANN,
        "ann@acme.test",
        "revoked",
    )

    whoami = await answer(stack, ANN, "whoami", command="/lead")
    assert "not connected" in whoami.text
    dms_before = len(stack.slack.dms(ANN))
    told = await answer(stack, ANN, "login", command="/lead")
    assert "login link" in told.text
    assert len(stack.slack.dms(ANN)) == dms_before + 1


async def test_a_member_id_works_as_well_as_a_mention(stack):
    # `<@U…>` without a label is covered by the parser's unit tests: the emulated Slack escapes a typed `<`.
    for typed in (ANN, "@ann"):
        await stack.connect(ANN, "ann@acme.test")
        token = await refresh_token_of(stack, ANN)
        reply = await answer(stack, ADA, typed)
        assert reply.text.startswith(f"Revoked <@{ANN}>'s"), typed
        assert revokes_of(stack, token) == ["ok"], typed


async def test_a_non_admin_changes_nothing(stack):
    await stack.connect(ANN, "ann@acme.test")
    await stack.connect(BOB, "bob@globex.test")
    rows_before = db_rows(stack, "select id, user_id from zoho_connections order by id")
    audit_before = len(await audit(stack))
    revokes_before = stack.zoho.counters["revoke"]

    for typed in ("@ann", "--all", "--list", "--audit", "@bob", ANN):
        reply = await answer(stack, BOB, typed)
        assert reply.text.startswith("Only workspace admins can do this. Nothing was changed."), typed
        assert reply.text.endswith(f"You typed `/zoho-revoke {typed}`."), typed

    assert db_rows(stack, "select id, user_id from zoho_connections order by id") == rows_before
    assert stack.zoho.counters["revoke"] == revokes_before
    assert stack.zoho.revoked_refresh_tokens == []
    assert len(await audit(stack)) == audit_before
    assert not [m for m in stack.slack.dms(ANN) if "revoked" in m.text]


async def test_when_slack_cannot_confirm_an_admin_nothing_changes(stack):
    await stack.connect(ANN, "ann@acme.test")
    stack.slack.fail_method("users.info", status=500, times=5)
    reply = await answer(stack, ADA, "@ann")
    assert reply.text.startswith("Only workspace admins can do this. Slack could not confirm")
    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is not None
    assert stack.zoho.counters["revoke"] == 0


async def test_zoho_admin_user_ids_makes_an_admin(tmp_path):
    stack = await start_stack(tmp_path, env={"ZOHO_ADMIN_USER_IDS": BOB})
    try:
        await stack.connect(ANN, "ann@acme.test")
        token = await refresh_token_of(stack, ANN)
        reply = await answer(stack, BOB, "@ann")
        assert reply.text.startswith(f"Revoked <@{ANN}>'s Zoho CRM connection")
        assert revokes_of(stack, token) == ["ok"]
        assert (await audit(stack))[0].actor_user_id == BOB
    finally:
        await stack.stop()
        await stack.slack.stop()
        await stack.zoho.stop()


@pytest.fixture
async def fast_retry_stack(tmp_path):
    running = await start_stack(tmp_path, revocation_retry=FAST_RETRY)
    yield running
    await running.stop()
    await running.slack.stop()
    await running.zoho.stop()


async def test_with_zoho_down_the_token_goes_here_at_once_and_at_zoho_once_it_is_back(fast_retry_stack):
    stack = fast_retry_stack
    await stack.connect(ANN, "ann@acme.test")
    token = await refresh_token_of(stack, ANN)
    port = int(stack.zoho.url.rsplit(":", 1)[1])
    await stack.zoho.stop()

    reply = await answer(stack, ADA, "@ann")

    assert reply.text == f"Revoked <@{ANN}>'s Zoho CRM connection (ann@acme.test). {QUEUED}"
    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is None
    assert db_rows(stack, "select subject_user_id from pending_revocations") == [(ANN,)]
    queued = (await audit(stack))[0]
    assert (queued.actor_user_id, queued.action, queued.outcome) == (ADA, "revoke", "queued")
    # the retrier keeps failing while Zoho is down, and keeps the entry
    await eventually(
        lambda: db_rows(stack, "select attempts from pending_revocations")[0][0] >= 2, "retries while Zoho is down"
    )

    await stack.zoho.start(host="127.0.0.1", port=port)
    await eventually(lambda: token in stack.zoho.revoked_refresh_tokens, "the queued revoke reaches Zoho")
    await eventually(lambda: db_rows(stack, "select count(*) from pending_revocations") == [(0,)], "queue empties")
    # the retry audits the delivery after it has emptied the queue
    await eventually(lambda: audited(stack, "actor_user_id = ?", RETRY_ACTOR) == 1, "the delivery audited")
    assert revokes_of(stack, token) == ["ok"]
    delivered = (await audit(stack))[0]
    assert (delivered.actor_user_id, delivered.action, delivered.subject_user_id, delivered.outcome) == (
        RETRY_ACTOR,
        "revoke",
        ANN,
        "revoked",
    )


async def test_revoke_all_list_and_audit(stack):
    emails = {ANN: "ann@acme.test", BOB: "bob@globex.test", ADA: "ada@acme.test"}
    for user, email in emails.items():
        await stack.connect(user, email)
    tokens = {user: await refresh_token_of(stack, user) for user in emails}

    listing = await answer(stack, ADA, "--list")
    assert listing.text.startswith("*3 connected to Zoho CRM*")
    ann_line = next(line for line in listing.text.splitlines() if f"<@{ANN}>" in line)
    assert "ann@acme.test" in ann_line and "Acme Ltd" in ann_line and "since " in ann_line
    bob_line = next(line for line in listing.text.splitlines() if f"<@{BOB}>" in line)
    assert "bob@globex.test" in bob_line and "Globex" in bob_line and "data centre" in bob_line
    assert "EU" in bob_line or "Europe" in bob_line

    question = await answer(stack, ADA, "--all")
    assert question.text.startswith("This revokes the Zoho CRM connection of 3 people in this workspace:")
    assert all(f"<@{user}>" in question.text for user in emails)
    assert await asyncio.to_thread(stack.store.connections.list, TEAM_ID) != []  # nothing without the click
    assert stack.zoho.revoked_refresh_tokens == []
    after = stack.slack.seq
    await stack.slack.click_button(ADA, question, REVOKE_ALL_ACTION)
    summary = await stack.slack.wait_for_message(lambda m: m.seq > after and m.text.startswith("Revoked"))
    assert summary.text.startswith("Revoked 3 Zoho CRM connections in this workspace (3 confirmed by Zoho, 0 queued).")
    for user, token in tokens.items():
        assert revokes_of(stack, token) == ["ok"], user
    assert await asyncio.to_thread(stack.store.connections.list, TEAM_ID) == []
    for user in (ANN, BOB):
        await stack.slack.wait_for_message(lambda m, u=user: m.kind == "dm" and m.user == u and "revoked by" in m.text)

    rows = [(e.actor_user_id, e.action, e.subject_user_id, e.outcome) for e in await audit(stack)]
    assert sorted(rows[:3]) == sorted((ADA, "revoke_all", user, "revoked") for user in emails)

    nobody = await answer(stack, ADA, "--all")
    assert nobody.text == "Nobody in this workspace is connected to Zoho CRM; there was nothing to revoke."
    assert (await answer(stack, ADA, "--list")).text == "Nobody in this workspace is connected to Zoho CRM."

    trail = await answer(stack, ADA, "--audit")
    assert trail.text.startswith("*Latest 6 audit entries, newest first*")
    assert trail.text.count("*revoked (everyone)*") == 3 and trail.text.count("*connected*") == 3
    assert f"<@{ADA}> *revoked (everyone)* <@{ANN}> (ann@acme.test): confirmed by Zoho" in trail.text


async def test_revoking_someone_not_connected_and_bad_input(stack):
    reply = await answer(stack, ADA, "@bob")
    assert reply.text == f"<@{BOB}> has no Zoho connection."
    entry = (await audit(stack))[0]
    assert (entry.actor_user_id, entry.action, entry.subject_user_id, entry.outcome) == (
        ADA,
        "revoke",
        BOB,
        "not_connected",
    )
    assert stack.zoho.counters["revoke"] == 0

    mistyped = await answer(stack, ADA, "U0NOPE")
    assert mistyped.text == "`U0NOPE` is not a member of this workspace."

    unknown = await answer(stack, ADA, "@nobody-here")
    assert "`@nobody-here`" in unknown.text and "Mention the person" in unknown.text
    weird = await answer(stack, ADA, "everyone <now>")
    assert "/zoho-revoke everyone &lt;now&gt;" in weird.text and "--all" in weird.text
    mixed = await answer(stack, ADA, "--all @ann")
    assert "`--all` goes on its own" in mixed.text
    usage = await answer(stack, BOB, "")
    assert "/zoho-revoke --audit" in usage.text
    assert len(await audit(stack)) == 2  # @bob and U0NOPE: each asked about, neither connected


async def test_lead_logout_revokes_the_callers_own_token(stack):
    await stack.connect(ANN, "ann@acme.test")
    await stack.connect(BOB, "bob@globex.test")
    token = await refresh_token_of(stack, ANN)

    reply = await answer(stack, ANN, "logout", command="/lead")

    assert reply.text == "Logged out of Zoho CRM (ann@acme.test). Your token was revoked at Zoho."
    assert revokes_of(stack, token) == ["ok"]
    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is None
    assert await asyncio.to_thread(stack.store.connections.get, me(BOB)) is not None
    entry = (await audit(stack))[0]
    assert (entry.actor_user_id, entry.action, entry.subject_user_id, entry.outcome) == (ANN, "logout", ANN, "revoked")
    again = await answer(stack, ANN, "logout", command="/lead")
    assert "nothing to log out of" in again.text


async def test_lead_logout_while_zoho_answers_500_is_queued(stack):
    await stack.connect(ANN, "ann@acme.test")
    token = await refresh_token_of(stack, ANN)
    stack.zoho.fail_accounts_with = 500

    reply = await answer(stack, ANN, "logout", command="/lead")

    assert reply.text.startswith("Logged out of Zoho CRM (ann@acme.test). Zoho could not be reached")
    assert "queued and retried in the background" in reply.text
    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is None
    assert revokes_of(stack, token) == ["http 500"]
    assert token not in stack.zoho.revoked_refresh_tokens
    due = await asyncio.to_thread(stack.store.revocations.due, datetime.now(UTC) + timedelta(days=1))
    assert [(d.subject_user_id, d.refresh_token) for d in due] == [(ANN, token)]


async def test_app_uninstalled_forgets_and_revokes_the_whole_workspace(stack):
    await stack.connect(ANN, "ann@acme.test")
    await stack.connect(BOB, "bob@globex.test")
    tokens = [await refresh_token_of(stack, user) for user in (ANN, BOB)]

    delivered = await stack.slack.send_event({"type": "app_uninstalled"})

    assert delivered.status == 200
    await eventually(lambda: all(t in stack.zoho.revoked_refresh_tokens for t in tokens), "both revoked at Zoho")
    await eventually(lambda: db_rows(stack, "select count(*) from zoho_connections") == [(0,)], "rows gone")
    await eventually(lambda: audited(stack, "action = 'uninstall'") == 2, "both audited")  # after Zoho's answer
    rows = [(e.action, e.subject_user_id, e.outcome) for e in await audit(stack)]
    assert sorted(rows[:2]) == [("uninstall", ANN, "revoked"), ("uninstall", BOB, "revoked")]


async def test_tokens_revoked_acts_only_when_the_bot_token_is_revoked(stack):
    await stack.connect(ANN, "ann@acme.test")
    token = await refresh_token_of(stack, ANN)

    only_users = await stack.slack.send_event({"type": "tokens_revoked", "tokens": {"oauth": [ANN]}})
    assert only_users.status == 200
    await asyncio.sleep(0.3)  # give a wrongly started background job the time to show
    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is not None

    bot = await stack.slack.send_event({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOT"]}})
    assert bot.status == 200
    await eventually(lambda: token in stack.zoho.revoked_refresh_tokens, "revoked at Zoho")
    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is None


async def test_a_person_deactivated_in_slack_loses_their_zoho_connection_and_nobody_else_does(stack):
    await stack.connect(ANN, "ann@acme.test")
    await stack.connect(BOB, "bob@globex.test")
    ann_token, bob_token = await refresh_token_of(stack, ANN), await refresh_token_of(stack, BOB)
    dms_before = len(stack.slack.dms(ADA))

    delivered = await stack.slack.deactivate(ANN)

    assert delivered.status == 200
    await eventually(lambda: ann_token in stack.zoho.revoked_refresh_tokens, "Ann's token revoked at Zoho")
    await eventually(lambda: audited(stack, "action = 'revoke' and subject_user_id = ?", ANN) == 1, "audited")
    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is None
    assert await asyncio.to_thread(stack.store.connections.get, me(BOB)) is not None
    assert bob_token not in stack.zoho.revoked_refresh_tokens
    [entry] = [e for e in await audit(stack) if e.subject_user_id == ANN and e.action == "revoke"]
    assert (entry.actor_user_id, entry.outcome) == ("slack-deactivation", "revoked")
    assert "deactivated" in entry.detail
    assert len(stack.slack.dms(ADA)) == dms_before  # the admins are not asked


async def test_a_deactivation_naming_the_persons_home_workspace_still_cuts_their_connection_here(stack):
    await stack.connect(ANN, "ann@acme.test")
    token = await refresh_token_of(stack, ANN)

    delivered = await stack.slack.deactivate(ANN, home_team="T0HOMEGRID")  # Enterprise Grid: her home workspace

    assert delivered.status == 200
    await eventually(lambda: token in stack.zoho.revoked_refresh_tokens, "Ann's token revoked at Zoho")
    await eventually(lambda: audited(stack, "action = 'revoke' and subject_user_id = ?", ANN) == 1, "audited")
    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is None


async def test_a_user_change_that_slack_does_not_confirm_changes_nothing(stack):
    await stack.connect(ANN, "ann@acme.test")
    token = await refresh_token_of(stack, ANN)
    profile_edit = {"type": "user_change", "user": {"id": ANN, "team_id": TEAM_ID, "deleted": False}}
    forged = {"type": "user_change", "user": {"id": ANN, "team_id": TEAM_ID, "deleted": True}}  # users.info: active

    for event in (profile_edit, forged):
        assert (await stack.slack.send_event(event)).status == 200
    await asyncio.sleep(0.5)  # give a wrongly started revocation the time to show

    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is not None
    assert token not in stack.zoho.revoked_refresh_tokens


async def test_revoke_all_asks_and_its_button_checks_the_admin_again_on_the_click(stack):
    await stack.connect(ANN, "ann@acme.test")
    token = await refresh_token_of(stack, ANN)
    question = await answer(stack, ADA, "--all")
    assert question.text.startswith("This revokes the Zoho CRM connection of 1 person in this workspace:")

    stack.slack.add_user(ADA, name="ada", real_name="Ada Admin", email="ada@acme.test")  # demoted meanwhile
    after = stack.slack.seq
    await stack.slack.click_button(ADA, question, REVOKE_ALL_ACTION)
    refused = await stack.slack.wait_for_message(lambda m: m.seq > after and "Only workspace admins" in m.text)

    assert "Nothing was changed." in refused.text
    await asyncio.sleep(0.3)  # give a wrongly started revocation the time to show
    assert await asyncio.to_thread(stack.store.connections.get, me(ANN)) is not None
    assert token not in stack.zoho.revoked_refresh_tokens
