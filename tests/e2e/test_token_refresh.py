"""The refresher asks Zoho once per expiry, however many commands of one user arrive at that moment."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import COMPONENTS
from oauth.refresh import TokenRevoked
from store import ChatIdentity, NotConnected
from tests.stack import ANN, BOB, TEAM_ID


async def connected(stack, user_id: str, email: str):
    await stack.connect(user_id, email)
    connection = await asyncio.to_thread(stack.store.connections.get, ChatIdentity(TEAM_ID, user_id))
    assert connection is not None
    return connection


async def expire_stored_token(stack, connection) -> str:
    """Make the stored access token one that expires now (Zoho's copy expires too); returns it."""
    secrets = await asyncio.to_thread(stack.store.connections.secrets, connection.id)
    stack.zoho.expire_access_tokens()
    await asyncio.to_thread(stack.store.connections.update_access_token, connection.id, secrets.access_token, 0)
    return secrets.access_token


async def test_a_fresh_token_is_used_without_asking_zoho(stack) -> None:
    connection = await connected(stack, ANN, "ann@acme.test")
    refresher = stack.components.refresher
    before = stack.zoho.counters["refresh"]

    token = await refresher.ensure_fresh(connection)

    assert stack.zoho.counters["refresh"] == before
    assert token == (await asyncio.to_thread(stack.store.connections.secrets, connection.id)).access_token


async def test_one_hundred_calls_at_expiry_make_exactly_one_refresh(stack) -> None:
    connection = await connected(stack, ANN, "ann@acme.test")
    old = await expire_stored_token(stack, connection)
    refresher = stack.components.refresher
    stack.zoho.latency = 0.2  # the refresh is in flight while the others arrive
    before = stack.zoho.counters["refresh"]

    tokens = await asyncio.gather(*(refresher.ensure_fresh(connection) for _ in range(100)))

    assert stack.zoho.counters["refresh"] == before + 1
    assert len(set(tokens)) == 1 and tokens[0] != old
    stored = await asyncio.to_thread(stack.store.connections.secrets, connection.id)
    assert stored.access_token == tokens[0] and refresher.is_fresh(stored)


async def test_users_refresh_independently(stack) -> None:
    ann = await connected(stack, ANN, "ann@acme.test")
    bob = await connected(stack, BOB, "bob@globex.test")
    await expire_stored_token(stack, ann)
    await expire_stored_token(stack, bob)
    before = stack.zoho.counters["refresh"]

    await asyncio.gather(*(stack.components.refresher.ensure_fresh(c) for c in [ann, bob] * 20))

    assert stack.zoho.counters["refresh"] == before + 2


async def test_a_rejected_token_is_refreshed_once_and_not_again_by_latecomers(stack) -> None:
    connection = await connected(stack, ANN, "ann@acme.test")
    refresher = stack.components.refresher
    rejected = (await asyncio.to_thread(stack.store.connections.secrets, connection.id)).access_token
    before = stack.zoho.counters["refresh"]

    first = await refresher.refresh_rejected(connection, rejected)
    again = await refresher.refresh_rejected(connection, rejected)  # someone who saw the same old token

    assert stack.zoho.counters["refresh"] == before + 1
    assert first == again != rejected


async def test_a_revoked_refresh_token_says_log_in_again(stack) -> None:
    connection = await connected(stack, ANN, "ann@acme.test")
    secrets = await asyncio.to_thread(stack.store.connections.secrets, connection.id)
    await stack.app[COMPONENTS].accounts.revoke(secrets.accounts_server, secrets.refresh_token)
    await expire_stored_token(stack, connection)

    with pytest.raises(TokenRevoked):
        await stack.components.refresher.ensure_fresh(connection)


async def test_a_deleted_connection_is_reported_gone(stack) -> None:
    connection = await connected(stack, ANN, "ann@acme.test")
    await asyncio.to_thread(stack.store.connections.delete, ChatIdentity(TEAM_ID, ANN))

    with pytest.raises(NotConnected):
        await stack.components.refresher.ensure_fresh(connection)
