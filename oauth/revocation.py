"""Forgetting a chat identity's Zoho connection and revoking its refresh token at Zoho, without any Slack in it.

The local token goes first: `forget` deletes the connection row, holds the refresh token (encrypted) in the
store's revocation queue, closes the person's open login links, then asks the connection's own accounts server
to revoke it (bounded by the accounts client's timeout) and drops the queue entry when Zoho confirms. When Zoho
cannot be reached, answers 5xx or answers without confirming, the entry stays and `retry_due` (run every
`RetryPolicy.interval_s` by `run_retries`, started with the app) keeps trying with a doubling backoff. Every
action leaves an audit row; so does a queued revocation when it is finally delivered.

`on_forgotten(identity)`, when given, is awaited after each `forget` that removed a connection (logout, revoke,
deactivation, uninstall alike), so whoever shows connections can show the change; its failures are logged, never
raised to the one who forgot.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from oauth.accounts_client import ZohoAccountsClient, ZohoUnreachable
from store import ChatIdentity, DeletedConnection, PendingRevocation
from store.audit import AuditTrail
from store.connections import Connections
from store.errors import STORE_OUTAGE, first_line
from store.login_states import LoginStates
from store.revocations import RevocationQueue

log = logging.getLogger(__name__)

# The audit actor of a revocation delivered by the background retry (no person did it just then).
RETRY_ACTOR = "background-retry"
# A revocation still failing this long after it was queued is logged as an error at every attempt (hourly at
# most, by the backoff): a refresh token Zoho has not revoked still works, so somebody has to look.
STUCK_AFTER = timedelta(days=1)


class RevokeOutcome(enum.Enum):
    """What happened to one connection: the audit row's `outcome`."""

    REVOKED = "revoked"  # deleted here, and Zoho confirmed (or already did not know the token)
    QUEUED = "queued"  # deleted here; Zoho could not confirm, the revocation is retried in the background
    NOT_CONNECTED = "not_connected"  # there was nothing to forget


@dataclass(frozen=True)
class Forgotten:
    """The result of forgetting one chat identity's connection."""

    identity: ChatIdentity
    outcome: RevokeOutcome
    zoho_email: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """How the background retry runs: a pass every `interval_s`; a failed token waits `first_backoff_s`,
    doubling per failed attempt up to `max_backoff_s`."""

    interval_s: float = 30.0
    first_backoff_s: float = 30.0
    max_backoff_s: float = 3600.0
    batch: int = 50

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`+1-th failure."""
        return min(self.max_backoff_s, self.first_backoff_s * (2 ** min(attempts, 32)))


class RevokingStore(Protocol):
    """The parts of the store (store.PeeweeTokenStore) a RevocationService uses."""

    connections: Connections
    login_states: LoginStates
    audit: AuditTrail
    revocations: RevocationQueue

    def forget_connection(
        self, identity: ChatIdentity, revoke_after: datetime
    ) -> tuple[DeletedConnection | None, str | None]: ...


class RevocationService:
    """Forgets connections and revokes their tokens at Zoho; queues what Zoho could not confirm.

    The store's calls run in worker threads; `accounts` is the accounts client.
    """

    def __init__(
        self,
        store: RevokingStore,
        accounts: ZohoAccountsClient,
        *,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        concurrency: int = 8,
        on_forgotten: Callable[[ChatIdentity], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._on_forgotten = on_forgotten
        self._accounts = accounts
        self.retry = retry or RetryPolicy()
        self._clock = clock
        self._concurrency = concurrency

    async def forget(self, identity: ChatIdentity, actor_user_id: str, action: str, detail: str = "") -> Forgotten:
        """Delete `identity`'s connection here, then revoke it at Zoho (or queue that); audit it as `action`.

        `action` is an audit action (logout, revoke, revoke_all, uninstall). Never raises for Zoho failures;
        store failures propagate (nothing was deleted then, or the row is gone and Zoho was not asked yet).
        """
        retry_at = self._clock() + timedelta(seconds=self.retry.first_backoff_s)
        # Deleted here and queued for Zoho in one transaction: no crash in between can lose the token.
        deleted, held = await asyncio.to_thread(self._store.forget_connection, identity, retry_at)
        # A login link sent before this must not connect them again behind their back.
        await asyncio.to_thread(self._store.login_states.void_open, identity)
        if deleted is None:
            await self._audit(
                identity.team_id, actor_user_id, action, identity.user_id, None, RevokeOutcome.NOT_CONNECTED, detail
            )
            return Forgotten(identity, RevokeOutcome.NOT_CONNECTED)
        outcome, why = await self._revoke_held(identity, deleted.accounts_server, deleted.refresh_token, held)
        note = "; ".join(part for part in (detail, why) if part)
        await self._audit(identity.team_id, actor_user_id, action, identity.user_id, deleted.zoho_email, outcome, note)
        log.info("forgot connection identity=%s action=%s outcome=%s", identity, action, outcome.value)
        await self._tell_forgotten(identity)
        return Forgotten(identity, outcome, deleted.zoho_email)

    async def _tell_forgotten(self, identity: ChatIdentity) -> None:
        if self._on_forgotten is None:
            return
        try:
            await self._on_forgotten(identity)
        except Exception:  # showing the change is a courtesy; the connection is gone all the same
            log.exception("on_forgotten for %s failed", identity)

    async def forget_workspace(self, team_id: str, actor_user_id: str, action: str) -> list[Forgotten]:
        """`forget` every connection of workspace `team_id` (a few at a time), oldest first."""
        connections = await asyncio.to_thread(self._store.connections.list, team_id)
        return await self.forget_many((c.identity for c in connections), actor_user_id, action)

    async def forget_many(self, identities: Iterable[ChatIdentity], actor_user_id: str, action: str) -> list[Forgotten]:
        """`forget` each identity, at most `concurrency` at once; results in the given order."""
        gate = asyncio.Semaphore(self._concurrency)

        async def one(identity: ChatIdentity) -> Forgotten:
            async with gate:
                return await self.forget(identity, actor_user_id, action)

        return list(await asyncio.gather(*(one(i) for i in identities)))

    async def _revoke_held(
        self, identity: ChatIdentity, accounts_server: str | None, refresh_token: str | None, held: str | None
    ) -> tuple[RevokeOutcome, str]:
        """Revoke at Zoho a token already held in the revocation queue (entry `held`); drop the entry if confirmed.

        The entry comes due after `first_backoff_s`: if this process dies mid-call, or Zoho does not confirm,
        the background retry revokes it.
        """
        if held is None or not refresh_token or not accounts_server:
            return RevokeOutcome.REVOKED, "no refresh token was stored"
        try:
            confirmed = await self._accounts.revoke(accounts_server, refresh_token)
            why = "" if confirmed else "Zoho answered without confirming the revocation"
        except ZohoUnreachable as exc:
            confirmed, why = False, str(exc)
        if confirmed:
            await asyncio.to_thread(self._store.revocations.mark_done, held)
            return RevokeOutcome.REVOKED, ""
        log.warning("revocation queued identity=%s: %s", identity, why)
        return RevokeOutcome.QUEUED, why

    async def _audit(
        self,
        team_id: str,
        actor_user_id: str,
        action: str,
        subject_user_id: str | None,
        zoho_email: str | None,
        outcome: RevokeOutcome | str,
        detail: str,
    ) -> None:
        value = outcome.value if isinstance(outcome, RevokeOutcome) else outcome
        await asyncio.to_thread(
            self._store.audit.record, team_id, actor_user_id, action, subject_user_id, zoho_email, value, detail
        )

    # The background retry ---------------------------------------------------------------------------------

    async def retry_due(self) -> int:
        """One pass over the queued revocations that are due; returns how many were delivered.

        Safe with several replicas by relying on revoking twice being harmless at Zoho: two replicas that take
        the same entry both send the revoke; Zoho confirms the first and answers the second "invalid token"
        (HTTP 400), which counts as done too. Only the replica whose `revocations.mark_done` removes the entry
        audits it, so the delivery is audited once. (Claiming by rescheduling first was not used: the store's
        reschedule counts an attempt, so a claim plus a failure would count two.) A failure reschedules the
        entry after `retry.backoff(attempts)`.
        """
        now = self._clock()
        due = await asyncio.to_thread(self._store.revocations.due, now, self.retry.batch)
        delivered = 0
        for entry in due:
            try:
                confirmed = await self._accounts.revoke(entry.accounts_server, entry.refresh_token)
                error = "" if confirmed else "Zoho answered without confirming the revocation"
            except ZohoUnreachable as exc:
                confirmed, error = False, str(exc)
            if not confirmed:
                next_at = self._clock() + timedelta(seconds=self.retry.backoff(entry.attempts))
                await asyncio.to_thread(self._store.revocations.reschedule, entry.id, next_at, error)
                self._log_failed_retry(entry, error)
                continue
            if not await asyncio.to_thread(self._store.revocations.mark_done, entry.id):
                continue  # another replica delivered it (or a login used the pending grant) meanwhile
            delivered += 1
            log.info("queued revocation %s delivered", entry.id)
            if entry.team_id:
                await self._audit(
                    entry.team_id,
                    RETRY_ACTOR,
                    "revoke",
                    entry.subject_user_id,
                    None,
                    RevokeOutcome.REVOKED,
                    f"queued revocation delivered to Zoho after {entry.attempts + 1} attempts",
                )
        return delivered

    def _log_failed_retry(self, entry: PendingRevocation, error: str) -> None:
        """One line per failed attempt: info while it may be a passing outage, an error once it is STUCK_AFTER old."""
        stuck_for = self._clock() - entry.created_at
        if stuck_for < STUCK_AFTER:
            log.info("queued revocation %s still failing (attempt %d): %s", entry.id, entry.attempts + 1, error)
            return
        log.error(
            "queued revocation %s (Slack user %s, team %s) has failed for %d day(s), %d attempts, at %s: %s. "
            "The refresh token still works at Zoho until it is revoked: check that this server can reach %s, or "
            "have the Zoho user delete this app under Sessions > Connected Apps at their Zoho Accounts site. "
            "Still retrying, every %d s.",
            entry.id,
            entry.subject_user_id or "?",
            entry.team_id or "?",
            stuck_for.days,
            entry.attempts + 1,
            entry.accounts_server,
            error,
            entry.accounts_server,
            self.retry.backoff(entry.attempts),
        )

    async def run_retries(self, stop: asyncio.Event) -> None:
        """Run `retry_due` every `retry.interval_s` seconds until `stop` is set; a failed pass is logged."""
        while not stop.is_set():
            try:
                await self.retry_due()
            except STORE_OUTAGE as exc:  # the database is away for now: the next pass tries again
                said = first_line(exc)
                log.warning(
                    "revocation retry pass skipped: the database is unavailable (%s)", said or type(exc).__name__
                )
            except Exception:  # a bug: the next pass tries again
                log.exception("revocation retry pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.retry.interval_s)
