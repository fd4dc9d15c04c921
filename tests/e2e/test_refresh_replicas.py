"""Single-flight refresh across processes: however many calls of one user arrive at expiry, spread over two
processes on one database, Zoho is asked for exactly one new access token, and everybody gets it.

Two levels: (1) two plain processes, each with its own store and TokenRefresher, 50 concurrent
`ensure_fresh` each; (2) two real `python -m bot` replicas answering 100 concurrent `/lead list` commands.
Both on one PostgreSQL database (advisory lock) and on one SQLite file (the write lock).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from store import ChatIdentity, PeeweeTokenStore, generate_key
from tests.processes import running_fleet, server_database, shown, sqlite_url, start_refresh_burst
from tests.stack import ANN, TEAM_ID, start_stack

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgres"])
async def shared_database(request, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database that several processes share."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    with server_database("postgres") as url:
        yield url


async def _expire(store: PeeweeTokenStore, zoho, connection_id: str) -> str:
    """Expire ANN's token at Zoho and in the store (stored expiry in the past); returns the old token."""
    secrets = await asyncio.to_thread(store.connections.secrets, connection_id)
    zoho.expire_access_tokens()
    await asyncio.to_thread(store.connections.update_access_token, connection_id, secrets.access_token, 0)
    return secrets.access_token


async def test_two_processes_at_expiry_refresh_once(shared_database: str, tmp_path: Path) -> None:
    key = generate_key()
    stack = await start_stack(tmp_path, env={"DATABASE_URL": shared_database, "TOKEN_ENCRYPTION_KEY": key})
    bursts = []
    try:
        await stack.connect(ANN, "ann@acme.test")
        connection = await asyncio.to_thread(stack.store.connections.get, ChatIdentity(TEAM_ID, ANN))
        old = await _expire(stack.store, stack.zoho, connection.id)
        stack.zoho.latency = 0.2  # the refresh is still in flight when the other process gets there
        before = stack.zoho.counters["refresh"]
        go = tmp_path / "go"
        bursts = [start_refresh_burst(shared_database, key, connection.id, 50, go) for _ in range(2)]
        for burst in bursts:
            line = await asyncio.to_thread(burst.stdout.readline)
            assert line.strip() == "ready", line + burst.stderr.read()
        go.touch()
        outputs = [await asyncio.to_thread(burst.communicate, timeout=120) for burst in bursts]
        stored = await asyncio.to_thread(stack.store.connections.secrets, connection.id)
    finally:
        for burst in bursts:
            if burst.poll() is None:
                burst.kill()
        await stack.stop()
        await stack.slack.stop()
        await stack.zoho.stop()

    results = []
    for burst, (out, err) in zip(bursts, outputs, strict=True):
        assert burst.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["errors"] for r in results] == [[], []]
    assert stack.zoho.counters["refresh"] == before + 1
    assert sum(r["refreshes"] for r in results) == 1
    expiries = {e for r in results for e in r["expiries"]}  # every caller vouched for one and the same token
    assert len(expiries) == 1
    assert stored.access_token != old and [stored.expires_at_ms] == list(expiries)
    assert sum(len(r["seconds"]) for r in results) == 100


async def test_one_hundred_lead_lists_on_two_replicas_at_expiry_refresh_once(
    shared_database: str, tmp_path: Path
) -> None:
    async with running_fleet(tmp_path, shared_database) as fleet:
        a, b = fleet.replicas
        await fleet.connect(ANN, "ann@acme.test", via=a)
        fleet.zoho.seed_leads("ann@acme.test", [{"Last_Name": "Replicated", "Company": "Twin Co"}])
        store = PeeweeTokenStore(shared_database, fleet.key)
        try:
            connection = await asyncio.to_thread(store.connections.get, ChatIdentity(TEAM_ID, ANN))
            await _expire(store, fleet.zoho, connection.id)
        finally:
            store.close()
        fleet.zoho.latency = 0.2
        before = fleet.zoho.counters["refresh"]

        results = await asyncio.gather(*(fleet.command(ANN, "list", via=(a, b)[i % 2]) for i in range(100)))
        assert [r.status for r in results] == [200] * 100, [r.error for r in results if r.status != 200]
        answers = await asyncio.gather(*(fleet.answer(r, timeout=60) for r in results))

        assert fleet.zoho.counters["refresh"] == before + 1
        # One person's 100 commands at once: each replica works on two of them at a time and the rest wait their
        # turn (bot.admission): every one is answered with the list.
        texts = [shown(m) for m in answers]
        listed = [t for t in texts if "Replicated" in t]
        assert len(listed) == 100, [t[:200] for t in texts if t not in listed][:3]
        assert not any("Traceback" in bot.logs() for bot in fleet.replicas)
