"""Single-use values sent to one chat identity: login-link states and undo tokens, stored only as keyed hashes.

A login state opens one login; an undo token disconnects the one connection a login just made, and only while
that connection still holds the refresh token it was issued with (a newer login is out of its reach). Neither
opens the other. `consume`/`redeem_undo` are one conditional UPDATE (unused, unexpired, not voided → used) whose
row count decides the winner, so two requests with the same value, from any threads or processes, never both
succeed. `void_open` closes every value a person still has, when they connect or log out.
"""

from __future__ import annotations

import secrets

from store.crypto import TokenCipher
from store.database import StoreDatabase
from store.errors import LoginStateExpired, LoginStateStale, LoginStateUnknown, LoginStateUsed, LoginStateVoided
from store.identity import ChatIdentity

DEFAULT_TTL_SECONDS = 600
LOGIN = "login"
UNDO = "undo"
_MAX_STATE_LENGTH = 512
# Expired states are swept this long after expiry, so a late click still reads "expired", not "unknown".
_KEEP_EXPIRED_MS = 24 * 3600 * 1000
# Domain separation: the browser-binding cookie is a keyed hash too, never equal to a stored state hash.
_BINDING_CONTEXT = "zohobot login browser binding v1"


class LoginStates:
    def __init__(self, database: StoreDatabase, cipher: TokenCipher) -> None:
        self._database = database
        self._cipher = cipher
        self._row = database.models.login_state
        self._connection = database.models.connection

    def issue(self, identity: ChatIdentity, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
        """A new login state (256 bits, URL-safe) bound to `identity`, valid for `ttl_seconds`."""
        state = secrets.token_urlsafe(32)
        self._database.run(lambda: self._insert(state, identity, ttl_seconds, purpose=LOGIN), write=True)
        return state

    def issue_undo(self, identity: ChatIdentity, connection_id: str, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
        """A new undo token for `identity`'s connection `connection_id` as it is now (its current refresh token).

        Raises LoginStateStale when that connection is not `identity`'s (any more).
        """
        token = secrets.token_urlsafe(32)

        def work() -> None:
            found = self._connection_of(identity, connection_id)
            if found is None:
                raise LoginStateStale("the connection changed since")
            self._insert(
                token,
                identity,
                ttl_seconds,
                purpose=UNDO,
                connection_id=found.id,
                refresh_token_hash=found.refresh_token_hash,
            )

        self._database.run(work, write=True)
        return token

    def peek(self, state: str) -> ChatIdentity:
        """The identity a login `state` was issued to, if it is still usable; does not use it up.

        Raises LoginStateUnknown, LoginStateUsed, LoginStateVoided or LoginStateExpired.
        """
        return self._database.run(lambda: self._check(state, LOGIN))

    def consume(self, state: str) -> ChatIdentity:
        """Use a login `state` up and return the identity it was issued to; succeeds once per state.

        Raises LoginStateUnknown, LoginStateUsed, LoginStateVoided or LoginStateExpired.
        """
        return self._database.run(lambda: self._use(state, LOGIN)[0], write=True)

    def redeem_undo(self, token: str) -> tuple[ChatIdentity, str]:
        """Use an undo `token` up; the identity and connection id it undoes, if that connection is unchanged.

        Raises what `consume` raises, and LoginStateStale when the connection was replaced or removed since.
        """

        def work() -> tuple[ChatIdentity, str]:
            identity, found = self._use(token, UNDO)
            current = self._connection_of(identity, str(found.connection_id))
            if current is None or current.refresh_token_hash != found.refresh_token_hash:
                raise LoginStateStale("the connection changed since")
            return identity, str(current.id)

        return self._database.run(work, write=True)

    def void_open(self, identity: ChatIdentity) -> int:
        """Close every unused login state and undo token of `identity`; how many were closed."""
        row = self._row

        def work() -> int:
            return (
                row.update(voided_at_ms=self._database.now_ms())
                .where(
                    (row.team_id == identity.team_id)
                    & (row.user_id == identity.user_id)
                    & row.used_at_ms.is_null()
                    & row.voided_at_ms.is_null()
                )
                .execute()
            )

        return self._database.run(work, write=True)

    def browser_binding(self, state: str, stage: str) -> str:
        """The cookie value that ties a login at `stage` to the browser it started in: keyed, so only we make it."""
        return self._cipher.lookup_hash(f"{_BINDING_CONTEXT}\0{stage}\0{state}")

    def _insert(self, value: str, identity: ChatIdentity, ttl_seconds: int, **extra: object) -> None:
        row = self._row
        now = self._database.now_ms()
        row.delete().where(row.expires_at_ms < now - _KEEP_EXPIRED_MS).execute()
        row.insert(
            state_hash=self._cipher.lookup_hash(value),
            team_id=identity.team_id,
            user_id=identity.user_id,
            created_at_ms=now,
            expires_at_ms=now + int(ttl_seconds * 1000),
            **extra,
        ).execute()

    def _use(self, value: str, purpose: str):
        if not _plausible(value):
            raise LoginStateUnknown("unknown login state")
        row = self._row
        value_hash = self._cipher.lookup_hash(value)
        now = self._database.now_ms()
        won = (
            row.update(used_at_ms=now)
            .where(
                (row.state_hash == value_hash)
                & (row.purpose == purpose)
                & row.used_at_ms.is_null()
                & row.voided_at_ms.is_null()
                & (row.expires_at_ms > now)
            )
            .execute()
        )
        if won != 1:
            self._check(value, purpose)  # raises the reason
            raise LoginStateUsed("login state already used")
        found = row.get(row.state_hash == value_hash)
        return ChatIdentity(found.team_id, found.user_id), found

    def _check(self, value: str, purpose: str) -> ChatIdentity:
        if not _plausible(value):
            raise LoginStateUnknown("unknown login state")
        row = self._row
        found = row.get_or_none((row.state_hash == self._cipher.lookup_hash(value)) & (row.purpose == purpose))
        if found is None:
            raise LoginStateUnknown("unknown login state")
        if found.used_at_ms is not None:
            raise LoginStateUsed("login state already used")
        if found.voided_at_ms is not None:
            raise LoginStateVoided("login state closed by a later login or logout")
        if found.expires_at_ms <= self._database.now_ms():
            raise LoginStateExpired("login state expired")
        return ChatIdentity(found.team_id, found.user_id)

    def _connection_of(self, identity: ChatIdentity, connection_id: str):
        connection = self._connection
        if not connection_id.isdigit():
            return None
        return connection.get_or_none(
            (connection.id == int(connection_id))
            & (connection.team_id == identity.team_id)
            & (connection.user_id == identity.user_id)
        )


def _plausible(state: object) -> bool:
    return isinstance(state, str) and 0 < len(state) <= _MAX_STATE_LENGTH
