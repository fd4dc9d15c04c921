"""`PeeweeTokenStore`: the Zoho SDK's TokenStore, and the app's one door to the token database.

The six SDK methods keep the SDK's semantics (store.sdk_tokens). The rest is the app's API, each part
answered by its own module and reachable both as a method here and as a sibling object:
`store.connections`, `store.login_states`, `store.audit`, `store.revocations`.
Every method is synchronous and thread-safe (one database connection per thread); call them from worker
threads (`asyncio.to_thread`), never on an event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import peewee
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store.token_store import TokenStore

from store.audit import AuditAction, AuditEntry, AuditTrail
from store.connections import Connection, Connections, ConnectionSecrets, DeletedConnection
from store.crypto import TokenCipher
from store.database import StoreDatabase, sqlite_path
from store.errors import StoreUnavailable
from store.identity import ChatIdentity
from store.keys import resolve_keys
from store.locks import DEFAULT_TIMEOUT_S, RefreshLocks
from store.login_states import DEFAULT_TTL_SECONDS, LoginStates
from store.revocations import PendingRevocation, RevocationQueue
from store.schema import open_schema
from store.sdk_tokens import SdkTokens


class PeeweeTokenStore(TokenStore):
    """Zoho tokens and login bookkeeping in SQLite, PostgreSQL or MySQL, secrets encrypted at rest.

    `database_url` is a Peewee db_url (`sqlite:///path`, `postgresql://…`, `mysql://…`);
    `encryption_key` is TOKEN_ENCRYPTION_KEY (see store.keys for what happens without one).
    Creates or upgrades the schema on first use. Raises StoreConfigError for a bad URL or key and
    StoreUnavailable when the database cannot be reached.
    """

    def __init__(
        self,
        database_url: str,
        encryption_key: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        database = StoreDatabase(database_url, clock=clock)
        cipher = TokenCipher(resolve_keys(database.dialect, sqlite_path(database_url), encryption_key))
        try:
            self.schema_version = open_schema(database, cipher)
        except peewee.OperationalError as exc:
            database.close()
            raise StoreUnavailable(
                f"cannot open the {database.dialect.value} database at DATABASE_URL: {_first_line(exc)}"
            ) from None
        except BaseException:
            database.close()
            raise
        self._database = database
        self.dialect = database.dialect
        self._tokens = SdkTokens(database, cipher)
        self.connections = Connections(database, cipher)
        self.login_states = LoginStates(database, cipher)
        self.audit = AuditTrail(database)
        self.revocations = RevocationQueue(database, cipher)
        self._refresh_locks = RefreshLocks(database)

    def __repr__(self) -> str:
        return f"PeeweeTokenStore({self._database!r})"

    # The SDK's TokenStore ------------------------------------------------------------------------

    def find_token(self, token: Any) -> Any:
        """The stored token matching `token` (merged into it, FileStore-style), or None."""
        return self._tokens.find(token)

    def save_token(self, token: Any) -> None:
        """Insert or update `token`'s row; never duplicates (see store.sdk_tokens for the match rules)."""
        self._tokens.save(token)

    def delete_token(self, id: str) -> None:  # noqa: A002 - the SDK's parameter name
        """Delete the row with this id; SDKException if there is none."""
        self._tokens.delete(id)

    def get_tokens(self) -> list[OAuthToken]:
        """Every stored token, by id."""
        return self._tokens.get_all()

    def delete_tokens(self) -> None:
        """Delete every stored token (connections included)."""
        self._tokens.delete_all()

    def find_token_by_id(self, id: str) -> OAuthToken:  # noqa: A002 - the SDK's parameter name
        """The stored token with this id; SDKException if there is none."""
        return self._tokens.find_by_id(id)

    # Connections -------------------------------------------------------------------------------------

    def save_connection(
        self,
        identity: ChatIdentity,
        *,
        zoho_email: str,
        zoho_user_id: str | None,
        org_id: str,
        org_name: str | None,
        location: str,
        accounts_server: str,
        api_domain: str,
        client_id: str,
        client_secret: str | None = None,
        refresh_token: str,
        access_token: str | None,
        expires_at_ms: int | None,
        redirect_uri: str | None,
    ) -> Connection:
        """Store `identity`'s Zoho connection, replacing its previous one (store.connections).

        Without `client_secret` the row holds none, and the SDK cannot refresh that token by itself.
        """
        connection, _ = self.replace_connection(
            identity,
            zoho_email=zoho_email,
            zoho_user_id=zoho_user_id,
            org_id=org_id,
            org_name=org_name,
            location=location,
            accounts_server=accounts_server,
            api_domain=api_domain,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            access_token=access_token,
            expires_at_ms=expires_at_ms,
            redirect_uri=redirect_uri,
        )
        return connection

    def replace_connection(
        self,
        identity: ChatIdentity,
        *,
        zoho_email: str,
        zoho_user_id: str | None,
        org_id: str,
        org_name: str | None,
        location: str,
        accounts_server: str,
        api_domain: str,
        client_id: str,
        client_secret: str | None = None,
        refresh_token: str,
        access_token: str | None,
        expires_at_ms: int | None,
        redirect_uri: str | None,
    ) -> tuple[Connection, DeletedConnection | None]:
        """`save_connection`, also returning the replaced connection's refresh token (to revoke), or None."""
        return self.connections.save(
            identity,
            zoho_email=zoho_email,
            zoho_user_id=zoho_user_id,
            org_id=org_id,
            org_name=org_name,
            location=location,
            accounts_server=accounts_server,
            api_domain=api_domain,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            access_token=access_token,
            expires_at_ms=expires_at_ms,
            redirect_uri=redirect_uri,
        )

    def get_connection(self, identity: ChatIdentity) -> Connection | None:
        """`identity`'s connection, or None."""
        return self.connections.get(identity)

    def delete_connection(self, identity: ChatIdentity) -> DeletedConnection | None:
        """Forget `identity`'s connection; return what is needed to revoke it at Zoho, or None."""
        return self.connections.delete(identity)

    def forget_connection(
        self, identity: ChatIdentity, revoke_after: datetime
    ) -> tuple[DeletedConnection | None, str | None]:
        """Delete `identity`'s connection and queue its refresh token for revocation, in one transaction.

        Returns the deleted connection (None if there was none) and the queue entry's id (None when there was
        no refresh token to revoke). The entry comes due at `revoke_after`: drop it (`mark_revocation_done`)
        once Zoho confirms; if this process dies first, the background retry still revokes the token.
        """

        def work() -> tuple[DeletedConnection | None, str | None]:
            deleted = self.connections.delete(identity)
            if deleted is None or not deleted.refresh_token or not deleted.accounts_server:
                return deleted, None
            held = self.revocations.queue(
                deleted.refresh_token, deleted.accounts_server, identity.team_id, identity.user_id, revoke_after
            )
            return deleted, held

        return self._database.run(work, write=True)

    def list_connections(self, team_id: str) -> list[Connection]:
        """Every connection of one workspace, oldest first."""
        return self.connections.list(team_id)

    def connection_secrets(self, id: str) -> ConnectionSecrets | None:  # noqa: A002
        """Client id/secret, refresh and access token of connection `id`, or None if it is gone."""
        return self.connections.secrets(id)

    def update_access_token(self, id: str, access_token: str, expires_at_ms: int) -> bool:  # noqa: A002
        """Store a refreshed access token; False when the connection is gone."""
        return self.connections.update_access_token(id, access_token, expires_at_ms)

    # Login states ------------------------------------------------------------------------------------

    def issue_login_state(self, identity: ChatIdentity, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
        """A new single-use login state bound to `identity`."""
        return self.login_states.issue(identity, ttl_seconds)

    def peek_login_state(self, state: str) -> ChatIdentity:
        """The identity of a valid, unused state, without using it; raises a LoginStateError."""
        return self.login_states.peek(state)

    def consume_login_state(self, state: str) -> ChatIdentity:
        """Use the state up (once, atomically) and return its identity; raises a LoginStateError."""
        return self.login_states.consume(state)

    # Audit trail -------------------------------------------------------------------------------------

    def record_audit(
        self,
        team_id: str,
        actor_user_id: str,
        action: AuditAction,
        subject_user_id: str | None,
        zoho_email: str | None,
        outcome: str,
        detail: str = "",
    ) -> None:
        """Append an audit entry (action: login, logout, revoke, revoke_all or uninstall)."""
        self.audit.record(team_id, actor_user_id, action, subject_user_id, zoho_email, outcome, detail)

    def list_audit(self, team_id: str, limit: int = 20) -> list[AuditEntry]:
        """A workspace's newest audit entries, newest first."""
        return self.audit.list(team_id, limit)

    # Pending revocations -----------------------------------------------------------------------------

    def queue_revocation(
        self,
        refresh_token: str,
        accounts_server: str,
        team_id: str | None,
        subject_user_id: str | None,
        next_attempt_at: datetime | None = None,
    ) -> str:
        """Queue a refresh token (kept encrypted) for a later revocation at Zoho; return the entry's id."""
        return self.revocations.queue(refresh_token, accounts_server, team_id, subject_user_id, next_attempt_at)

    def due_revocations(self, now: datetime, limit: int = 50) -> list[PendingRevocation]:
        """Queued revocations due at `now`, soonest first."""
        return self.revocations.due(now, limit)

    def mark_revocation_done(self, id: str) -> bool:  # noqa: A002
        """Drop a queued revocation that succeeded."""
        return self.revocations.mark_done(id)

    def reschedule_revocation(self, id: str, next_attempt_at: datetime, error: str) -> bool:  # noqa: A002
        """Count a failed attempt and set the next one."""
        return self.revocations.reschedule(id, next_attempt_at, error)

    def save_pending_grant(
        self, identity: ChatIdentity, *, accounts_server: str, refresh_token: str, grace_seconds: int = 600
    ) -> str:
        """Persist a fresh refresh token before using it; return the entry's id (store.revocations).

        Saving a connection with this refresh token cancels the entry; otherwise it comes due for
        revocation after `grace_seconds`, so a crash mid-login leaves no live token unaccounted for.
        """
        return self.revocations.hold_grant(
            identity.team_id, identity.user_id, accounts_server, refresh_token, grace_seconds
        )

    def discard_pending_grant(self, pending_id: str) -> bool:
        """Drop a pending grant (used or already revoked); False if it was gone already."""
        return self.revocations.mark_done(pending_id)

    # Locks, health, lifecycle ------------------------------------------------------------------------

    def refresh_lock(self, connection_id: str, timeout: float = DEFAULT_TIMEOUT_S) -> AbstractContextManager[None]:
        """Hold connection `connection_id`'s refresh lock across threads and processes (store.locks).

        Raises RefreshLockTimeout when not acquired within `timeout` seconds. Make the store calls of the
        block from the thread that entered it.
        """
        return self._refresh_locks.hold(connection_id, timeout)

    def describe(self) -> str:
        """Which database this is and its schema version, without any password (for `--check`)."""
        return f"{self._database.describe()}, schema version {self.schema_version}"

    def ping(self) -> bool:
        """True when the database answers (for /healthz); never raises."""
        return self._database.ping()

    def close(self) -> None:
        """Close the store's connections in every thread; later calls raise StoreClosedError."""
        self._database.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
