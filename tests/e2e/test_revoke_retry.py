"""The background retry of queued revocations: its backoff, and two replicas taking the same entries."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from oauth.accounts_client import ZohoAccountsClient
from oauth.revocation import RETRY_ACTOR, RetryPolicy, RevocationService
from store import ChatIdentity, PeeweeTokenStore, generate_key
from tests.e2e.test_outages import cut_off
from tests.processes import server_database
from tests.stack import ANN, CLIENT_ID, CLIENT_SECRET, TEAM_ID, Stack


class StepClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


async def queue_anns_token(stack: Stack) -> str:
    """Connect ANN, then log her out while Zoho answers 503: her token is queued. Returns the token."""
    await stack.connect(ANN, "ann@acme.test")
    identity = ChatIdentity(team_id=TEAM_ID, user_id=ANN)
    connection = await asyncio.to_thread(stack.store.connections.get, identity)
    token = (await asyncio.to_thread(stack.store.connections.secrets, connection.id)).refresh_token
    stack.zoho.fail_accounts_with = 503
    accounts = ZohoAccountsClient(CLIENT_ID, CLIENT_SECRET, timeout=5)
    try:
        result = await RevocationService(stack.store, accounts).forget(identity, ANN, "logout")
    finally:
        await accounts.close()
    assert result.outcome.value == "queued"
    return token


async def queued(stack: Stack) -> list:
    return await asyncio.to_thread(stack.store.revocations.due, datetime.now(UTC) + timedelta(days=365))


async def test_failed_retries_back_off_doubling_up_to_the_cap(stack):
    token = await queue_anns_token(stack)
    # the first retry is due `first_backoff_s` (30 s by default) after the logout; the store keeps ms
    clock = StepClock(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=31))
    accounts = ZohoAccountsClient(CLIENT_ID, CLIENT_SECRET, timeout=5)
    service = RevocationService(
        stack.store, accounts, retry=RetryPolicy(first_backoff_s=30, max_backoff_s=100), clock=clock
    )
    try:
        calls = stack.zoho.counters["revoke"]
        expected_waits = [30, 60, 100, 100]
        for attempt, wait in enumerate(expected_waits, start=1):
            assert await service.retry_due() == 0
            assert stack.zoho.counters["revoke"] == calls + attempt
            (entry,) = await queued(stack)
            assert entry.attempts == attempt
            assert entry.next_attempt_at == clock.now + timedelta(seconds=wait)
            assert "503" in entry.last_error
            clock.now += timedelta(seconds=wait - 1)
            assert await service.retry_due() == 0  # not due yet: Zoho is not asked
            assert stack.zoho.counters["revoke"] == calls + attempt
            clock.now += timedelta(seconds=1)

        stack.zoho.fail_accounts_with = None
        assert await service.retry_due() == 1
        assert token in stack.zoho.revoked_refresh_tokens
        assert await queued(stack) == []
    finally:
        await accounts.close()


async def test_two_replicas_retrying_at_once_revoke_once_and_audit_once(stack):
    token = await queue_anns_token(stack)
    stack.zoho.fail_accounts_with = None
    clients = [ZohoAccountsClient(CLIENT_ID, CLIENT_SECRET, timeout=5) for _ in range(2)]
    later = StepClock(datetime.now(UTC) + timedelta(seconds=31))  # when the queued entry is due
    replicas = [RevocationService(stack.store, c, clock=later) for c in clients]
    try:
        delivered = await asyncio.gather(*(r.retry_due() for r in replicas))
    finally:
        for c in clients:
            await c.close()

    assert sum(delivered) == 1
    assert stack.zoho.revoked_refresh_tokens == [token]
    outcomes = [c.outcome for c in stack.zoho.accounts_calls if c.path.endswith("/revoke") and c.token == token]
    # the failed first try, then one success; a second replica at the same instant gets "already invalid"
    assert outcomes[0] == "http 503" and outcomes[1] == "ok" and set(outcomes[2:]) <= {"invalid_token"}
    assert await queued(stack) == []
    entries = await asyncio.to_thread(stack.store.audit.list, TEAM_ID, 50)
    assert [(e.actor_user_id, e.subject_user_id, e.outcome) for e in entries if e.actor_user_id == RETRY_ACTOR] == [
        (RETRY_ACTOR, ANN, "revoked")
    ]


async def test_the_token_is_held_in_the_queue_while_zoho_is_asked(stack):
    """A process that dies while Zoho is being asked leaves the token queued, never lost."""
    await stack.connect(ANN, "ann@acme.test")
    identity = ChatIdentity(team_id=TEAM_ID, user_id=ANN)
    accounts = ZohoAccountsClient(CLIENT_ID, CLIENT_SECRET, timeout=5)
    stack.zoho.hang = True
    try:
        forgetting = asyncio.create_task(RevocationService(stack.store, accounts).forget(identity, ANN, "logout"))
        deadline = asyncio.get_running_loop().time() + 5
        while not await queued(stack):
            assert asyncio.get_running_loop().time() < deadline, "the token was not held in the queue"
            await asyncio.sleep(0.02)
        assert await asyncio.to_thread(stack.store.connections.get, identity) is None
        assert not forgetting.done()  # Zoho has not answered yet

        stack.zoho.hang = False
        result = await forgetting
    finally:
        await accounts.close()
    assert result.outcome.value == "revoked"
    assert await queued(stack) == []


async def test_a_revocation_still_failing_after_a_day_is_logged_as_an_error_saying_what_to_do(stack, caplog):
    token = await queue_anns_token(stack)
    (entry,) = await queued(stack)
    clock = StepClock(entry.created_at + timedelta(hours=23))
    accounts = ZohoAccountsClient(CLIENT_ID, CLIENT_SECRET, timeout=5)
    service = RevocationService(stack.store, accounts, clock=clock)
    try:
        with caplog.at_level(logging.INFO, logger="oauth.revocation"):
            assert await service.retry_due() == 0  # a day's outage may pass: no alarm yet
            assert [r.levelno for r in caplog.records if "still failing" in r.getMessage()] == [logging.INFO]
            clock.now = entry.created_at + timedelta(days=1, hours=1)

            assert await service.retry_due() == 0

        (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
        said = error.getMessage()
        assert f"Slack user {ANN}, team {TEAM_ID}" in said and "failed for 1 day(s), 2 attempts" in said
        assert "503" in said and "still works at Zoho" in said and "Connected Apps" in said
        assert token not in caplog.text  # never the token itself
        stack.zoho.fail_accounts_with = None
        clock.now += timedelta(hours=2)
        assert await service.retry_due() == 1 and token in stack.zoho.revoked_refresh_tokens
    finally:
        await accounts.close()


@pytest.mark.postgres
async def test_a_database_outage_skips_retry_passes_each_in_one_warning_line_not_a_traceback(caplog):
    with server_database("postgres") as url:
        store = PeeweeTokenStore(url, generate_key())
        accounts = ZohoAccountsClient(CLIENT_ID, CLIENT_SECRET, timeout=5)
        service = RevocationService(store, accounts, retry=RetryPolicy(interval_s=0.1))
        stop = asyncio.Event()
        try:
            await asyncio.to_thread(cut_off, url, False)
            with caplog.at_level(logging.INFO, logger="oauth.revocation"):
                retrying = asyncio.create_task(service.run_retries(stop))
                await asyncio.sleep(0.5)  # a few passes, each of them skipped
                await asyncio.to_thread(cut_off, url, True)
                await asyncio.sleep(0.5)  # the database is back: passes run again, with nothing to deliver
                stop.set()
                await asyncio.wait_for(retrying, 5)
        finally:
            await accounts.close()
            store.close()

    skipped = [r for r in caplog.records if "revocation retry pass skipped" in r.getMessage()]
    assert skipped and all(r.levelno == logging.WARNING and r.exc_info is None for r in skipped)
    assert "the database is unavailable (" in skipped[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no traceback for an outage
