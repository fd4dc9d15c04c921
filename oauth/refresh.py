"""Keeping each connection's access token fresh: one refresh per expiry, across tasks, threads and replicas.

Before a CRM call the bot asks `ensure_fresh(connection)`. When the connection, as read for this command, says
its access token has more than `refresh_ahead_s` left (5 minutes by default, so the SDK never has to refresh in
the middle of a call), nothing more is read: the SDK reads the token itself when it calls. Otherwise the refresh
is single-flight:

1. in this process, callers for one connection queue on an asyncio lock, so one task does the work;
2. that task enters the store's refresh lock for the connection (an advisory lock on PostgreSQL, GET_LOCK on
   MySQL, the write lock on SQLite) in a worker thread, so other replicas wait too;
3. under the lock it reads the token again: if someone else refreshed meanwhile, that token is used;
   otherwise it asks Zoho (the loop's aiohttp client, with its timeout) and saves the new token before the lock
   is released. Everyone who waited then reads the saved token.

After Zoho rejects an access token anyway (INVALID_TOKEN), `refresh_rejected(connection, expiry)` refreshes
once, unless the stored token is no longer the one `ensure_fresh` vouched for (somebody already did). A token is
known by its expiry (milliseconds): every refresh stores a new one with it.

Each refresh asked of Zoho is reported to `on_refresh(outcome)` (the composition root counts them in its metrics):
"ok", "refused" (the refresh token is no longer valid), "unreachable" (Zoho down or too slow), "gone" (the
connection was forgotten meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from typing import Protocol

from oauth.accounts_client import ZohoAccountsClient, ZohoAuthError, ZohoUnreachable
from store import Connection, ConnectionSecrets, NotConnected, RefreshLockTimeout
from store.connections import Connections
from store.locks import RefreshLocks

log = logging.getLogger(__name__)

REFRESH_AHEAD_S = 300.0


class TokenRevoked(Exception):
    """Zoho refused the connection's refresh token (revoked, expired or never valid): the user must log in."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"Zoho refused the refresh token ({code})")


class RefreshingStore(Protocol):
    """The parts of the store (store.PeeweeTokenStore) a TokenRefresher uses."""

    connections: Connections
    refresh_locks: RefreshLocks


class TokenRefresher:
    """Single-flight refresh of stored Zoho tokens (see the module docstring)."""

    def __init__(
        self,
        store: RefreshingStore,
        accounts: ZohoAccountsClient,
        *,
        refresh_ahead_s: float = REFRESH_AHEAD_S,
        lock_timeout_s: float = 20.0,
        call_timeout_s: float = 15.0,
        clock: Callable[[], float] = time.time,
        on_refresh: Callable[[str], None] = lambda _outcome: None,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._ahead_ms = int(refresh_ahead_s * 1000)
        self._lock_timeout = lock_timeout_s
        self._call_timeout = call_timeout_s
        self._clock = clock
        self._on_refresh = on_refresh
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.refreshes = 0  # refreshes this process asked Zoho for (logs and benchmarks)

    def is_fresh(self, secrets: ConnectionSecrets) -> bool:
        """True when the stored access token outlives the refresh margin."""
        if not secrets.access_token or secrets.expires_at_ms is None:
            return False
        return self._outlives_margin(secrets.expires_at_ms)

    def _outlives_margin(self, expires_at_ms: int) -> bool:
        return expires_at_ms - int(self._clock() * 1000) > self._ahead_ms

    async def ensure_fresh(self, connection: Connection) -> int | None:
        """Make sure the connection's access token is fresh, refreshing it first if it expires soon; return the
        expiry (ms) of the token it vouches for, to hand to `refresh_rejected`. Raises TokenRevoked,
        NotConnected, or ZohoUnreachable (Zoho down or too slow)."""
        expires = connection.access_expires_at
        if expires is not None:
            expires_at_ms = round(expires.timestamp() * 1000)
            if self._outlives_margin(expires_at_ms):
                return expires_at_ms  # the row read for this command says so: no second read of the secrets
        return await self._single_flight(connection, lambda now: not self.is_fresh(now))

    async def refresh_rejected(self, connection: Connection, rejected_expiry_ms: int | None) -> int | None:
        """Refresh after Zoho rejected the token that expires at `rejected_expiry_ms`, unless the stored token
        changed meanwhile (None: refresh whatever is stored)."""
        return await self._single_flight(
            connection, lambda now: rejected_expiry_ms is None or now.expires_at_ms == rejected_expiry_ms
        )

    async def _single_flight(self, connection: Connection, needed: Callable[[ConnectionSecrets], bool]) -> int | None:
        lock = self._locks.get(connection.id)
        if lock is None:
            lock = self._locks[connection.id] = asyncio.Lock()
        async with lock:
            loop = asyncio.get_running_loop()
            return await asyncio.to_thread(self._refresh_under_lock, loop, connection, needed)

    def _refresh_under_lock(
        self,
        loop: asyncio.AbstractEventLoop,
        connection: Connection,
        needed: Callable[[ConnectionSecrets], bool],
    ) -> int | None:
        # Runs in a worker thread: the store's lock and the store calls of the block share this thread.
        try:
            with self._store.refresh_locks.hold(connection.id, timeout=self._lock_timeout):
                secrets = self._store.connections.secrets(connection.id)
                if secrets is None or not secrets.refresh_token:
                    raise NotConnected(f"connection {connection.id} is gone")
                if not needed(secrets):
                    return secrets.expires_at_ms
                asked = asyncio.run_coroutine_threadsafe(
                    self._accounts.refresh(secrets.accounts_server, secrets.refresh_token), loop
                )
                try:
                    grant = asked.result(timeout=self._call_timeout)
                except TimeoutError:
                    asked.cancel()
                    self._on_refresh("unreachable")
                    raise ZohoUnreachable(f"Zoho did not refresh the token in {self._call_timeout:g} s") from None
                except ZohoUnreachable:
                    self._on_refresh("unreachable")
                    raise
                except ZohoAuthError as exc:
                    log.warning(
                        "refresh refused connection=%s identity=%s: %s", connection.id, connection.identity, exc.code
                    )
                    self._on_refresh("refused")
                    raise TokenRevoked(exc.code) from None
                self.refreshes += 1
                if not self._store.connections.update_access_token(
                    connection.id, grant.access_token, grant.expires_at_ms
                ):
                    self._on_refresh("gone")
                    raise NotConnected(f"connection {connection.id} is gone")
                self._on_refresh("ok")
                log.info("refreshed access token connection=%s identity=%s", connection.id, connection.identity)
                return grant.expires_at_ms
        except RefreshLockTimeout:
            raise ZohoUnreachable("another token refresh for this user is taking too long") from None
