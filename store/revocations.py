"""Refresh tokens still to be revoked at Zoho: queued when Zoho could not be reached at logout.

The token is kept encrypted until a retry succeeds (`mark_done` deletes the row) or the caller gives up.
`attempts` counts the failed retries recorded with `reschedule`.

A pending grant is the same thing, due only after a grace period: the login flow records a fresh refresh
token here before it uses it. If the login finishes, saving the connection cancels the entry (same
transaction); if the process dies first, the retry loop revokes the orphaned token. Nothing Zoho gave us
is lost or left alive unaccounted for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from store.clock import datetime_from_ms, ms_from_datetime
from store.crypto import TokenCipher
from store.database import StoreDatabase
from store.identity import ChatIdentity
from store.models import row_key

_MAX_ERROR = 500


@dataclass(frozen=True)
class PendingRevocation:
    id: str
    accounts_server: str
    team_id: str | None
    subject_user_id: str | None
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    refresh_token: str = field(repr=False)


@dataclass(frozen=True)
class WaitingRevocation:
    """A queued revocation as an admin may see it: whose, since when, how often tried (never the token)."""

    subject_user_id: str | None
    attempts: int
    created_at: datetime
    last_error: str


class RevocationQueue:
    def __init__(self, database: StoreDatabase, cipher: TokenCipher) -> None:
        self._database = database
        self._cipher = cipher
        self._row = database.models.pending_revocation

    def queue(
        self,
        refresh_token: str,
        accounts_server: str,
        team_id: str | None,
        subject_user_id: str | None,
        next_attempt_at: datetime | None = None,
    ) -> str:
        """Queue `refresh_token` for revocation (first try at `next_attempt_at`, default now); return its id."""
        row = self._row

        def work() -> str:
            now = self._database.now_ms()
            new_id = row.insert(
                refresh_token_enc=self._cipher.encrypt(refresh_token),
                refresh_token_hash=self._cipher.lookup_hash(refresh_token),
                accounts_server=accounts_server,
                team_id=team_id,
                subject_user_id=subject_user_id,
                attempts=0,
                next_attempt_at_ms=ms_from_datetime(next_attempt_at) if next_attempt_at else now,
                last_error="",
                created_at_ms=now,
            ).execute()
            return str(new_id)

        return self._database.run(work, write=True)

    def hold_grant(
        self, identity: ChatIdentity, *, accounts_server: str, refresh_token: str, grace_seconds: int = 600
    ) -> str:
        """Record a fresh refresh token before it is used; return the entry's id.

        Saving a connection with this refresh token cancels the entry; otherwise it comes due for revocation
        after `grace_seconds`. Drop it with `mark_done` when the login fails and the token was revoked.
        """
        due_at = datetime_from_ms(self._database.now_ms() + grace_seconds * 1000)
        return self.queue(refresh_token, accounts_server, identity.team_id, identity.user_id, next_attempt_at=due_at)

    def due(self, now: datetime, limit: int = 50) -> list[PendingRevocation]:
        """Queued revocations whose next attempt is at or before `now`, soonest first."""
        row = self._row
        now_ms = ms_from_datetime(now)

        def work() -> list[PendingRevocation]:
            query = (
                row.select()
                .where(row.next_attempt_at_ms <= now_ms)
                .order_by(row.next_attempt_at_ms, row.id)
                .limit(max(0, limit))
            )
            return [
                PendingRevocation(
                    id=str(found.id),
                    accounts_server=found.accounts_server,
                    team_id=found.team_id,
                    subject_user_id=found.subject_user_id,
                    attempts=found.attempts,
                    next_attempt_at=datetime_from_ms(found.next_attempt_at_ms),
                    last_error=found.last_error,
                    created_at=datetime_from_ms(found.created_at_ms),
                    refresh_token=self._cipher.decrypt(found.refresh_token_enc),
                )
                for found in query
            ]

        return self._database.run(work)

    def waiting(self, team_id: str, limit: int = 20) -> tuple[int, list[WaitingRevocation]]:
        """How many revocations of workspace `team_id` are queued, and the oldest `limit` of them (nothing is
        decrypted). A login in progress holds its fresh grant here for a moment too (`hold_grant`)."""
        row = self._row

        def work() -> tuple[int, list[WaitingRevocation]]:
            mine = row.select().where(row.team_id == team_id)
            count = mine.count()
            oldest = mine.order_by(row.created_at_ms, row.id).limit(max(0, limit))
            return count, [
                WaitingRevocation(
                    subject_user_id=found.subject_user_id,
                    attempts=found.attempts,
                    created_at=datetime_from_ms(found.created_at_ms),
                    last_error=found.last_error,
                )
                for found in oldest
            ]

        return self._database.run(work)

    def count(self) -> int:
        """How many revocations are queued, of every workspace (a login's held grant included)."""
        row = self._row
        return self._database.run(lambda: row.select().count())

    def mark_done(self, revocation_id: str) -> bool:
        """Forget a revocation that succeeded; False if it was not queued (any more)."""
        row = self._row
        key = row_key(revocation_id)
        if key is None:
            return False
        return self._database.run(lambda: row.delete().where(row.id == key).execute() == 1, write=True)

    def reschedule(self, revocation_id: str, next_attempt_at: datetime, error: str) -> bool:
        """Record a failed attempt (`attempts` + 1, the error) and when to try next; False if not queued."""
        row = self._row
        key = row_key(revocation_id)
        if key is None:
            return False

        def work() -> bool:
            changed = (
                row.update(
                    attempts=row.attempts + 1,
                    next_attempt_at_ms=ms_from_datetime(next_attempt_at),
                    last_error=error[:_MAX_ERROR],
                )
                .where(row.id == key)
                .execute()
            )
            return changed == 1

        return self._database.run(work, write=True)
