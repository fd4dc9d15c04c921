"""A signed Slack request is acted on once: the same bytes sent again within Slack's 5 minutes get 401.

Each test lets the Slack emulator deliver a real request, keeps the exact bytes and headers it sent, and sends
them again as an eavesdropper (or a retrying proxy) would, with `send_raw`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

import pytest

from bot.metrics import SLACK_ACK_SECONDS
from playground.slack import SlackEmulator
from playground.slack.delivery import Delivered
from tests.e2e.test_leads import ANN_EMAIL, ask, leads_in
from tests.processes import running_fleet, server_database
from tests.stack import ANN, BOB, Stack

Sent = list[tuple[bytes, dict[str, str]]]


def keep_what_is_sent(slack: SlackEmulator, monkeypatch: pytest.MonkeyPatch) -> Sent:
    """Every request the emulator delivers over HTTP from now on, exactly as sent."""
    sent: Sent = []
    delivery = slack._http  # the emulator's one HTTP sender: where the signed bytes can be seen
    post_raw = delivery.post_raw

    async def post_and_keep(url: str, body: bytes, headers: dict[str, str]) -> Delivered:
        sent.append((body, dict(headers)))
        return await post_raw(url, body, headers)

    monkeypatch.setattr(delivery, "post_raw", post_and_keep)
    return sent


async def eventually(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.05)


async def test_a_replayed_lead_create_is_refused_and_creates_no_second_lead(stack: Stack, monkeypatch) -> None:
    await stack.connect(ANN, ANN_EMAIL)
    sent = keep_what_is_sent(stack.slack, monkeypatch)

    created = await ask(stack, ANN, 'create last=Once first=Only company="Replay Ltd"')
    assert "Once" in created.text + str(created.blocks)
    body, headers = sent[-1]
    replayed = await stack.slack.send_raw(body, headers)

    assert replayed.status == 401
    await asyncio.sleep(0.5)  # a wrongly accepted replay would create its Lead in the background by now
    assert [lead["Last_Name"] for lead in leads_in(stack, ANN_EMAIL)] == ["Once"]


async def test_a_replayed_app_uninstalled_revokes_once(stack: Stack, monkeypatch) -> None:
    await stack.connect(ANN, ANN_EMAIL)
    sent = keep_what_is_sent(stack.slack, monkeypatch)

    assert (await stack.slack.send_event({"type": "app_uninstalled"})).status == 200
    await eventually(lambda: len(stack.zoho.revoked_refresh_tokens) == 1, "ANN's token revoked at Zoho")
    await stack.connect(BOB, "bob@globex.test")  # connected after the uninstall: a replay must not revoke this
    body, headers = sent[0]
    replayed = await stack.slack.send_raw(body, headers)

    assert replayed.status == 401
    await asyncio.sleep(0.5)
    assert len(stack.zoho.revoked_refresh_tokens) == 1
    assert await asyncio.to_thread(stack.store.connections.list, "T0TEST") != []


@pytest.mark.postgres
async def test_a_request_replayed_to_the_other_replica_is_refused_there(tmp_path, monkeypatch) -> None:
    with server_database("postgres") as url:
        async with running_fleet(tmp_path, url) as fleet:
            a, b = fleet.replicas
            sent = keep_what_is_sent(fleet.slack, monkeypatch)
            assert "/lead create" in await fleet.ask(ANN, "help", via=a)
            body, headers = sent[-1]

            fleet.slack.bot_events_url = b.events_url
            replayed = await fleet.slack.send_raw(body, headers)

    assert replayed.status == 401


async def test_a_database_that_holds_the_replay_check_up_does_not_hold_up_the_ack(stack: Stack, caplog) -> None:
    ack = SLACK_ACK_SECONDS.labels("command")
    acked_before = ack._sum.get()
    locker = sqlite3.connect(stack.settings.database_url.removeprefix("sqlite:///"), isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds SQLite's write lock: the replay check's insert waits
    try:
        help_result = await stack.command(ANN, "help")  # answered in the ack itself: nothing else needs the store
    finally:
        locker.execute("ROLLBACK")
        locker.close()

    assert help_result.status == 200 and help_result.error is None, help_result  # within Slack's 3 s
    assert any("/lead create" in m.text + str(m.blocks) for m in stack.slack.messages(ANN)), "no help reached Ann"
    assert "could not check a Slack request for replay: the database did not answer within 1 s" in caplog.text
    assert ack._sum.get() - acked_before >= 1.0  # the check's wait is in the ack's figure: timed from the route
