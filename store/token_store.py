"""`PeeweeTokenStore`: the Zoho SDK's TokenStore, and the app's one door to the token database.

The store itself is what the SDK sees: its six TokenStore methods keep the SDK's semantics (store.sdk_tokens),
plus `describe()`, `ping()` and `close()`. The app's API is in its parts, each an attribute answered by its
own module, and reached only that way (the store does not repeat their methods):

- `store.connections` (store.connections): each chat identity's connection: `save(identity, NewConnection)`,
  `get`, `delete`, `list`, `secrets`, `update_access_token`;
- `store.login_states` (store.login_states): single-use login links and undo tokens: `issue`, `peek`, `consume`,
  `issue_undo`, `redeem_undo`, `void_open`, `browser_binding`;
- `store.audit` (store.audit): `record`, `list`;
- `store.revocations` (store.revocations): refresh tokens still to revoke at Zoho: `queue`, `hold_grant`,
  `due`, `mark_done`, `reschedule`;
- `store.seen_requests` (store.seen_requests): signatures of accepted Slack requests: `first_sighting`;
- `store.org_slots` (store.org_slots): Zoho calls in flight per org, as expiring leases: `acquire`, `release`,
  `renew`, `in_flight`;
- `store.org_fields` (store.org_fields): each Zoho org's Leads field metadata: `get`, `put`, `forget`;
- `store.refresh_locks` (store.locks): `hold(connection_id, timeout)`, single-flight refresh across processes.

The one method of the store's own beyond those is `forget_connection`: it spans two parts (delete the
connection, queue its token for revocation) in one transaction, which only the owner of the database can open.
Every method is synchronous and thread-safe (one database connection per thread); call them from worker
threads (`asyncio.to_thread`), never on an event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import peewee
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store.token_store import TokenStore

from store.audit import AuditTrail
from store.connections import Connections, DeletedConnection
from store.crypto import TokenCipher, parse_keys
from store.database import StoreDatabase, sqlite_path
from store.errors import StoreUnavailable, first_line
from store.identity import ChatIdentity
from store.keys import resolve_keys
from store.locks import RefreshLocks
from store.login_states import LoginStates
from store.org_fields import OrgFieldCache
from store.org_slots import OrgSlots
from store.revocations import RevocationQueue
from store.schema import open_schema
from store.sdk_tokens import SdkTokens
from store.seen_requests import SeenRequests


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
        if encryption_key is not None and encryption_key.strip():
            parse_keys(encryption_key)  # a malformed key is refused before any file is made (blank: as unset)
        database = StoreDatabase(database_url, clock=clock)
        try:
            cipher = TokenCipher(resolve_keys(database, sqlite_path(database_url), encryption_key))
        except BaseException:
            database.close()
            raise
        try:
            self.schema_version = open_schema(database, cipher)
        except peewee.OperationalError as exc:
            database.close()
            said = first_line(exc, limit=4000) or type(exc).__name__
            where = f"the {database.dialect.value} database at DATABASE_URL ({database.describe()})"
            raise StoreUnavailable(f"cannot open {where}: {said}") from None
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
        self.refresh_locks = RefreshLocks(database)
        self.seen_requests = SeenRequests(database)
        self.org_slots = OrgSlots(database)
        self.org_fields = OrgFieldCache(database)

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

    # Spanning two parts ------------------------------------------------------------------------------

    def forget_connection(
        self, identity: ChatIdentity, revoke_after: datetime
    ) -> tuple[DeletedConnection | None, str | None]:
        """Delete `identity`'s connection and queue its refresh token for revocation, in one transaction.

        Returns the deleted connection (None if there was none) and the queue entry's id (None when there was
        no refresh token to revoke). The entry comes due at `revoke_after`: drop it (`revocations.mark_done`)
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

    # Health, lifecycle -------------------------------------------------------------------------------

    def describe(self) -> str:
        """Which database this is and its schema version, without any password (for `--check`)."""
        return f"{self._database.describe()}, schema version {self.schema_version}"

    def ping(self) -> bool:
        """True when the database answers (for /healthz); never raises."""
        return self._database.ping()

    def ping_problem(self) -> str | None:
        """None when the database answers; else why not, in one line without credentials. Never raises."""
        return self._database.ping_problem()

    def close(self) -> None:
        """Close the store's connections in every thread; later calls raise StoreClosedError."""
        self._database.close()
