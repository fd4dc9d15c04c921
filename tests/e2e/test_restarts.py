"""Stopping and crashing a real `python -m bot` process: SIGTERM lets a slow command finish and answer, then the
process exits 0; after kill -9 a restart on the same database finds every connection and every queued
revocation, and delivers the revocation; its first list uses the org's field metadata kept on the machine.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store import ChatIdentity, PeeweeTokenStore
from tests.processes import running_fleet, server_database, shown, sqlite_url
from tests.stack import ANN, BOB, TEAM_ID

pytestmark = pytest.mark.slow


async def test_sigterm_waits_for_a_slow_command_and_exits_0(tmp_path: Path) -> None:
    async with running_fleet(tmp_path, sqlite_url(tmp_path), replicas=1) as fleet:
        (bot,) = fleet.replicas
        await fleet.connect(ANN, "ann@acme.test")
        fleet.zoho.seed_leads("ann@acme.test", [{"Last_Name": "Patient", "Company": "Slow Co"}])
        assert "Patient" in await fleet.ask(ANN, "list")
        fleet.zoho.latency = 3.0  # every Zoho request takes 3 s

        result = await fleet.command(ANN, "list")
        await asyncio.sleep(0.5)  # the command is in flight, waiting for Zoho
        bot.proc.send_signal(signal.SIGTERM)
        answer = await fleet.answer(result, timeout=25)
        code = await bot.wait_exit(30)

        assert "Patient" in shown(answer)
        assert code == 0
        logs = bot.logs()
        assert "waiting for 1 command in flight" in logs and "stopped" in logs
        assert "Traceback" not in logs
        # SLACK_BOT_TOKEN is in its environment, where bolt reads it too: none of bolt's "token ignored" warnings
        assert not [line for line in logs.splitlines() if "WARNING slack_bolt" in line], logs


def field_calls(fleet) -> int:
    return sum(1 for call in fleet.zoho.crm_calls if call.path.endswith("/settings/fields"))


async def _kill_and_restart(fleet, database_url: str) -> None:
    (bot,) = fleet.replicas
    await fleet.connect(ANN, "ann@acme.test")
    await fleet.connect(BOB, "bob@globex.test")
    await fleet.ask(ANN, "list")  # the SDK fetches the fields of Ann's org
    assert field_calls(fleet) > 0
    store = PeeweeTokenStore(database_url, fleet.key)
    try:
        bob = await asyncio.to_thread(store.connections.get, ChatIdentity(TEAM_ID, BOB))
        bob_secrets = await asyncio.to_thread(store.connections.secrets, bob.id)
        # a revocation queued (due now) just before the crash; the running bot's next retry pass is 30 s away
        await asyncio.to_thread(
            store.revocations.queue, bob_secrets.refresh_token, bob_secrets.accounts_server, TEAM_ID, BOB
        )
        bot.kill()
        assert bot.proc.returncode == -signal.SIGKILL
        queued = await asyncio.to_thread(store.revocations.due, datetime.now(UTC))
        assert [q.refresh_token for q in queued] == [bob_secrets.refresh_token]
    finally:
        store.close()

    bot.start()
    await bot.wait_ready()

    answer = await fleet.ask(ANN, "whoami")
    assert "ann@acme.test" in answer and "Acme Ltd" in answer  # tokens survived the crash
    fetched = field_calls(fleet)
    await fleet.ask(ANN, "list")
    assert field_calls(fleet) == fetched  # the org's fields, kept on the machine, were not fetched again
    deadline = asyncio.get_running_loop().time() + 15
    while bob_secrets.refresh_token not in fleet.zoho.revoked_refresh_tokens:
        assert asyncio.get_running_loop().time() < deadline, "the queued revocation was not delivered after restart"
        await asyncio.sleep(0.1)
    store = PeeweeTokenStore(database_url, fleet.key)
    try:
        assert await asyncio.to_thread(store.revocations.due, datetime.now(UTC)) == []
    finally:
        store.close()


async def test_kill_9_then_restart_keeps_connections_and_queued_revocations_sqlite(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    temp = tmp_path / "tmp"
    temp.mkdir()
    async with running_fleet(tmp_path, url, replicas=1, extra_env={"TMPDIR": str(temp)}) as fleet:
        await _kill_and_restart(fleet, url)


async def test_kill_9_then_restart_keeps_connections_and_queued_revocations_postgres(tmp_path: Path) -> None:
    with server_database("postgres") as url:
        temp = tmp_path / "tmp"
        temp.mkdir()
        async with running_fleet(tmp_path, url, replicas=1, extra_env={"TMPDIR": str(temp)}) as fleet:
            await _kill_and_restart(fleet, url)
