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


async def connected_again(stack, user_id: str):
    """The connection as the next command reads it."""
    return await asyncio.to_thread(stack.store.connections.get, ChatIdentity(TEAM_ID, user_id))


def count_secret_reads(stack) -> list[str]:
    """The connection ids whose secrets the store is asked for from now on (the real store answers)."""
    reads: list[str] = []
    connections = stack.store.connections
    read = connections.secrets

    def counted(connection_id: str):
        reads.append(connection_id)
        return read(connection_id)

    connections.secrets = counted
    return reads


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

    reads = count_secret_reads(stack)

    vouched_for = await refresher.ensure_fresh(connection)

    assert stack.zoho.counters["refresh"] == before
    stored = await asyncio.to_thread(stack.store.connections.secrets, connection.id)
    assert vouched_for == stored.expires_at_ms
    assert reads == [connection.id]  # only the read just above: the connection's row already said it was fresh


async def test_one_hundred_calls_at_expiry_make_exactly_one_refresh(stack) -> None:
    connection = await connected(stack, ANN, "ann@acme.test")
    old = await expire_stored_token(stack, connection)
    connection = await connected_again(stack, ANN)  # as a command reads it: the row says the token expires
    refresher = stack.components.refresher
    stack.zoho.latency = 0.2  # the refresh is in flight while the others arrive
    before = stack.zoho.counters["refresh"]

    expiries = await asyncio.gather(*(refresher.ensure_fresh(connection) for _ in range(100)))

    assert stack.zoho.counters["refresh"] == before + 1
    stored = await asyncio.to_thread(stack.store.connections.secrets, connection.id)
    assert stored.access_token != old and refresher.is_fresh(stored)
    assert set(expiries) == {stored.expires_at_ms}  # every caller vouched for the one new token


async def test_users_refresh_independently(stack) -> None:
    ann = await connected(stack, ANN, "ann@acme.test")
    bob = await connected(stack, BOB, "bob@globex.test")
    await expire_stored_token(stack, ann)
    await expire_stored_token(stack, bob)
    ann, bob = await connected_again(stack, ANN), await connected_again(stack, BOB)
    before = stack.zoho.counters["refresh"]

    await asyncio.gather(*(stack.components.refresher.ensure_fresh(c) for c in [ann, bob] * 20))

    assert stack.zoho.counters["refresh"] == before + 2


async def test_a_rejected_token_is_refreshed_once_and_not_again_by_latecomers(stack) -> None:
    connection = await connected(stack, ANN, "ann@acme.test")
    refresher = stack.components.refresher
    rejected = await refresher.ensure_fresh(connection)
    old = (await asyncio.to_thread(stack.store.connections.secrets, connection.id)).access_token
    before = stack.zoho.counters["refresh"]

    first = await refresher.refresh_rejected(connection, rejected)
    again = await refresher.refresh_rejected(connection, rejected)  # someone who saw the same old token

    assert stack.zoho.counters["refresh"] == before + 1
    assert first == again != rejected
    assert (await asyncio.to_thread(stack.store.connections.secrets, connection.id)).access_token != old


async def test_a_revoked_refresh_token_says_log_in_again(stack) -> None:
    connection = await connected(stack, ANN, "ann@acme.test")
    secrets = await asyncio.to_thread(stack.store.connections.secrets, connection.id)
    await stack.app[COMPONENTS].accounts.revoke(secrets.accounts_server, secrets.refresh_token)
    await expire_stored_token(stack, connection)
    connection = await connected_again(stack, ANN)

    with pytest.raises(TokenRevoked):
        await stack.components.refresher.ensure_fresh(connection)


async def test_a_deleted_connection_is_reported_gone(stack) -> None:
    connection = await connected(stack, ANN, "ann@acme.test")
    await expire_stored_token(stack, connection)
    connection = await connected_again(stack, ANN)
    await asyncio.to_thread(stack.store.connections.delete, ChatIdentity(TEAM_ID, ANN))

    with pytest.raises(NotConnected):
        await stack.components.refresher.ensure_fresh(connection)
