"""Login-link states: issued to one chat identity, single-use, short-lived, stored only as a keyed hash.

`consume` is one conditional UPDATE (unused and unexpired → used) whose row count decides the winner, so
two requests with the same state, from any threads or processes, never both succeed.
"""

from __future__ import annotations

import secrets

from store.crypto import TokenCipher
from store.database import StoreDatabase
from store.errors import LoginStateExpired, LoginStateUnknown, LoginStateUsed
from store.identity import ChatIdentity

DEFAULT_TTL_SECONDS = 600
_MAX_STATE_LENGTH = 512
# Expired states are swept this long after expiry, so a late click still reads "expired", not "unknown".
_KEEP_EXPIRED_MS = 24 * 3600 * 1000


class LoginStates:
    def __init__(self, database: StoreDatabase, cipher: TokenCipher) -> None:
        self._database = database
        self._cipher = cipher
        self._row = database.models.login_state

    def issue(self, identity: ChatIdentity, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
        """A new random state (256 bits, URL-safe) bound to `identity`, valid for `ttl_seconds`."""
        state = secrets.token_urlsafe(32)
        row = self._row

        def work() -> None:
            now = self._database.now_ms()
            row.delete().where(row.expires_at_ms < now - _KEEP_EXPIRED_MS).execute()
            row.insert(
                state_hash=self._cipher.lookup_hash(state),
                team_id=identity.team_id,
                user_id=identity.user_id,
                created_at_ms=now,
                expires_at_ms=now + int(ttl_seconds * 1000),
            ).execute()

        self._database.run(work, write=True)
        return state

    def peek(self, state: str) -> ChatIdentity:
        """The identity `state` was issued to, if it is still usable; does not use it up.

        Raises LoginStateUnknown, LoginStateUsed or LoginStateExpired.
        """
        return self._database.run(lambda: self._check(state))

    def consume(self, state: str) -> ChatIdentity:
        """Use `state` up and return the identity it was issued to; succeeds once per state.

        Raises LoginStateUnknown, LoginStateUsed or LoginStateExpired.
        """
        if not _plausible(state):
            raise LoginStateUnknown("unknown login state")
        row = self._row
        state_hash = self._cipher.lookup_hash(state)

        def work() -> ChatIdentity:
            now = self._database.now_ms()
            won = (
                row.update(used_at_ms=now)
                .where((row.state_hash == state_hash) & row.used_at_ms.is_null() & (row.expires_at_ms > now))
                .execute()
            )
            if won == 1:
                found = row.get(row.state_hash == state_hash)
                return ChatIdentity(found.team_id, found.user_id)
            self._check(state)  # raises the reason
            raise LoginStateUsed("login state already used")

        return self._database.run(work, write=True)

    def _check(self, state: str) -> ChatIdentity:
        if not _plausible(state):
            raise LoginStateUnknown("unknown login state")
        row = self._row
        found = row.get_or_none(row.state_hash == self._cipher.lookup_hash(state))
        if found is None:
            raise LoginStateUnknown("unknown login state")
        if found.used_at_ms is not None:
            raise LoginStateUsed("login state already used")
        if found.expires_at_ms <= self._database.now_ms():
            raise LoginStateExpired("login state expired")
        return ChatIdentity(found.team_id, found.user_id)


def _plausible(state: object) -> bool:
    return isinstance(state, str) and 0 < len(state) <= _MAX_STATE_LENGTH
