"""Single-use values sent to one chat identity: login-link states and undo tokens, stored only as keyed hashes.

A login state opens one login; an undo token disconnects the one connection a login just made, and only while
that connection still holds the refresh token it was issued with (a newer login is out of its reach). Neither
opens the other. `consume`/`redeem_undo` are one conditional UPDATE (unused, unexpired, not voided → used) whose
row count decides the winner, so two requests with the same value, from any threads or processes, never both
succeed. `void_open` closes every value a person still has, when they connect or log out.

A person has one live login link at a time: `issue` voids their other open ones, and `sent` records where the new
one's message is and hands back the previous one's, to be taken down. A link may carry the command the person
typed (`command`, encrypted): once the login is done, `offer_resume` gives a one-off id for it (kept only as a
keyed hash) and `resume` opens it once, for that person only, within the offer's lifetime.
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

    def issue(self, identity: ChatIdentity, ttl_seconds: int = DEFAULT_TTL_SECONDS, *, command: str = "") -> str:
        """A new login state (256 bits, URL-safe) bound to `identity`, valid for `ttl_seconds`; the person's other
        open login states are voided (one live link a person). `command`: what they typed, kept for the login;
        without one, the command a voided link still kept is carried over (a `/lead login` after a command typed
        while not connected keeps offering to run that command)."""
        state = secrets.token_urlsafe(32)
        row = self._row
        extra = {"command_enc": self._cipher.encrypt(command)} if command else {}

        def work() -> None:
            now = self._database.now_ms()  # expired ones stay expired: that is what their pages should say
            live = list(
                row.select(row.id, row.command_enc)
                .where(self._open_of(identity) & (row.purpose == LOGIN) & (row.expires_at_ms > now))
                .order_by(row.id.desc())
            )
            # By primary key: a range UPDATE would lock index gaps on MySQL and deadlock with other people's inserts.
            ids = [found.id for found in live]
            if ids:
                row.update(voided_at_ms=now).where(row.id.in_(ids)).execute()
            kept = next((found.command_enc for found in live if found.command_enc), None)
            carried = {"command_enc": kept} if kept and not extra else {}
            self._insert(state, identity, ttl_seconds, purpose=LOGIN, **extra, **carried)

        self._database.run(work, write=True, retry_conflicts=True)
        return state

    def sent(self, state: str, channel: str, message_ts: str) -> tuple[str, str] | None:
        """Record that login `state`'s link was sent in message (`channel`, `message_ts`); return the message of
        the same person's previous link, if one is recorded (forgotten here: it is taken down once)."""
        row = self._row
        state_hash = self._cipher.lookup_hash(state)

        def work() -> tuple[str, str] | None:
            this = row.get_or_none((row.state_hash == state_hash) & (row.purpose == LOGIN))
            if this is None:
                return None
            earlier = (
                row.select()
                .where(
                    (row.team_id == this.team_id)
                    & (row.user_id == this.user_id)
                    & (row.id != this.id)
                    & row.dm_ts.is_null(False)
                )
                .order_by(row.id.desc())
            )
            previous = [(str(r.dm_channel), str(r.dm_ts)) for r in earlier]
            row.update(dm_channel=None, dm_ts=None).where(row.id.in_([r.id for r in earlier])).execute()
            row.update(dm_channel=channel, dm_ts=message_ts).where(row.id == this.id).execute()
            return previous[0] if previous else None

        return self._database.run(work, write=True)

    def offer_resume(self, state: str, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str | None:
        """After login `state` was used: a one-off id that opens the command it carried (None when it carried
        none), valid for `ttl_seconds`."""
        row = self._row
        resume_id = secrets.token_urlsafe(32)

        def work() -> int:
            expires = self._database.now_ms() + int(ttl_seconds * 1000)
            return (
                row.update(resume_hash=self._cipher.lookup_hash(resume_id), resume_expires_at_ms=expires)
                .where(
                    (row.state_hash == self._cipher.lookup_hash(state))
                    & (row.purpose == LOGIN)
                    & row.used_at_ms.is_null(False)
                    & row.command_enc.is_null(False)
                    & row.resume_hash.is_null()
                )
                .execute()
            )

        return resume_id if self._database.run(work, write=True) == 1 else None

    def resume(self, resume_id: str, identity: ChatIdentity) -> str | None:
        """The command a one-off `resume_id` opens, used up; None when it is not `identity`'s, used, or expired
        (another person's click uses nothing up)."""
        if not _plausible(resume_id):
            return None
        row = self._row
        resume_hash = self._cipher.lookup_hash(resume_id)

        def work() -> str | None:
            now = self._database.now_ms()
            won = (
                row.update(resume_used_at_ms=now)
                .where(
                    (row.resume_hash == resume_hash)
                    & (row.team_id == identity.team_id)
                    & (row.user_id == identity.user_id)
                    & row.resume_used_at_ms.is_null()
                    & (row.resume_expires_at_ms > now)
                )
                .execute()
            )
            if won != 1:
                return None
            found = row.get(row.resume_hash == resume_hash)
            return self._cipher.decrypt(found.command_enc)

        return self._database.run(work, write=True)

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
            return row.update(voided_at_ms=self._database.now_ms()).where(self._open_of(identity)).execute()

        return self._database.run(work, write=True)

    def _open_of(self, identity: ChatIdentity):
        row = self._row
        return (
            (row.team_id == identity.team_id)
            & (row.user_id == identity.user_id)
            & row.used_at_ms.is_null()
            & row.voided_at_ms.is_null()
        )

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
