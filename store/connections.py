"""Each chat identity's Zoho connection: saving it after a login, reading it, forgetting it.

The rule: a row belongs to one chat identity. Logging in again replaces that identity's row in place (same
id, new tokens, possibly another Zoho user or org). Two chat identities logged in as the same Zoho user and
org have two rows, each with its own refresh token: Zoho issues one per consent, and revoking one person's
must not sign the other out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store.clock import datetime_from_ms
from store.crypto import TokenCipher
from store.database import StoreDatabase
from store.identity import ChatIdentity
from store.models import row_key
from store.prepared import PreparedQuery, slot


@dataclass(frozen=True)
class Connection:
    """A chat identity's Zoho connection, without its secrets."""

    id: str
    identity: ChatIdentity
    zoho_email: str | None
    zoho_user_id: str | None
    org_id: str | None
    org_name: str | None
    location: str | None
    accounts_server: str | None
    api_domain: str | None
    created_at: datetime
    updated_at: datetime
    access_expires_at: datetime | None  # when the stored access token expires; None when there is none

    @property
    def user_signature(self) -> str:
        """The SDK user signature stored on this connection's row."""
        return self.identity.user_signature


@dataclass(frozen=True)
class DeletedConnection:
    """What is left of a forgotten connection: enough to revoke its refresh token at Zoho."""

    id: str
    identity: ChatIdentity
    zoho_email: str | None
    accounts_server: str | None
    refresh_token: str | None = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class NewConnection:
    """What a finished login hands the store: the Zoho user and org, where they live, and the tokens.

    Without `client_secret` the row holds none, and the SDK cannot refresh that token by itself.
    Keyword-only: thirteen values in a row are too easy to swap.
    """

    zoho_email: str
    zoho_user_id: str | None
    org_id: str
    org_name: str | None
    location: str
    accounts_server: str
    api_domain: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    refresh_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    expires_at_ms: int | None
    redirect_uri: str | None


@dataclass(frozen=True)
class ConnectionSecrets:
    """The secrets needed to refresh a connection's access token (never printed)."""

    id: str
    accounts_server: str | None
    api_domain: str | None
    client_id: str | None
    client_secret: str | None = field(repr=False)
    refresh_token: str | None = field(repr=False)
    access_token: str | None = field(repr=False)
    expires_at_ms: int | None = None


class Connections:
    """Connections by chat identity, in one store's database."""

    def __init__(self, database: StoreDatabase, cipher: TokenCipher) -> None:
        self._database = database
        self._cipher = cipher
        self._row = row = database.models.connection
        self._by_identity = PreparedQuery(
            database,
            row.select().where((row.team_id == slot("team_id")) & (row.user_id == slot("user_id"))).limit(1),
        )

    def save(self, identity: ChatIdentity, new: NewConnection) -> tuple[Connection, DeletedConnection | None]:
        """Store `identity`'s connection, replacing its previous one atomically.

        Returns what is stored now and, when a previous connection was replaced, its refresh token and
        accounts server (to revoke it unless it is the same token). A pending grant of the same refresh
        token (store.revocations) is cancelled in the same transaction: the token is kept now.
        """
        row = self._row
        cipher = self._cipher
        pending = self._database.models.pending_revocation

        def work() -> tuple[Connection, DeletedConnection | None]:
            now = self._database.now_ms()
            values: dict[str, Any] = {
                "team_id": identity.team_id,
                "user_id": identity.user_id,
                "user_signature": identity.user_signature,
                "zoho_email": new.zoho_email,
                "zoho_user_id": new.zoho_user_id,
                "org_id": new.org_id,
                "org_name": new.org_name,
                "location": new.location,
                "accounts_server": new.accounts_server,
                "api_domain": new.api_domain,
                "redirect_url": new.redirect_uri,
                "client_id": new.client_id,
                "client_secret_enc": cipher.encrypt(new.client_secret) if new.client_secret else None,
                "refresh_token_enc": cipher.encrypt(new.refresh_token),
                "refresh_token_hash": cipher.lookup_hash(new.refresh_token),
                "access_token_enc": cipher.encrypt(new.access_token) if new.access_token else None,
                "access_token_hash": cipher.lookup_hash(new.access_token) if new.access_token else None,
                "grant_token_enc": None,
                "grant_token_hash": None,
                "access_expires_at_ms": new.expires_at_ms,
                "updated_at_ms": now,
            }
            existing = self._existing_row_id(identity)
            replaced = None
            if existing is None:
                values["created_at_ms"] = now
                new_id = row.insert(values).execute()
                found = row.get_by_id(new_id)
            else:
                before = row.get_by_id(existing)
                replaced = DeletedConnection(
                    id=str(before.id),
                    identity=identity,
                    zoho_email=before.zoho_email,
                    accounts_server=before.accounts_server,
                    refresh_token=self._decrypt(before.refresh_token_enc),
                )
                row.update(values).where(row.id == existing).execute()
                found = row.get_by_id(existing)
            pending.delete().where(pending.refresh_token_hash == values["refresh_token_hash"]).execute()
            return to_connection(found), replaced

        return self._database.run(work, write=True, retry_conflicts=True)

    def get(self, identity: ChatIdentity) -> Connection | None:
        """`identity`'s connection, or None when it has none."""

        def work() -> Connection | None:
            found = self._by_identity.first(team_id=identity.team_id, user_id=identity.user_id)
            return to_connection(found) if found is not None else None

        return self._database.run(work)

    def delete(self, identity: ChatIdentity) -> DeletedConnection | None:
        """Forget `identity`'s connection; return its refresh token and accounts server for revoking."""
        row = self._row

        def work() -> DeletedConnection | None:
            found = row.get_or_none((row.team_id == identity.team_id) & (row.user_id == identity.user_id))
            if found is None:
                return None
            if row.delete().where(row.id == found.id).execute() != 1:
                return None
            return DeletedConnection(
                id=str(found.id),
                identity=identity,
                zoho_email=found.zoho_email,
                accounts_server=found.accounts_server,
                refresh_token=self._decrypt(found.refresh_token_enc),
            )

        return self._database.run(work, write=True)

    def list(self, team_id: str) -> list[Connection]:
        """Every connection of one workspace, oldest first."""
        row = self._row

        def work() -> list[Connection]:
            query = row.select().where(row.team_id == team_id).order_by(row.created_at_ms, row.id)
            return [to_connection(found) for found in query if found.user_id is not None]

        return self._database.run(work)

    def secrets(self, connection_id: str) -> ConnectionSecrets | None:
        """The secrets of connection `connection_id`, or None when it does not exist (any more)."""
        row = self._row
        key = row_key(connection_id)
        if key is None:
            return None

        def work() -> ConnectionSecrets | None:
            found = row.get_or_none(row.id == key)
            if found is None:
                return None
            return ConnectionSecrets(
                id=str(found.id),
                accounts_server=found.accounts_server,
                api_domain=found.api_domain,
                client_id=found.client_id,
                client_secret=self._decrypt(found.client_secret_enc),
                refresh_token=self._decrypt(found.refresh_token_enc),
                access_token=self._decrypt(found.access_token_enc),
                expires_at_ms=found.access_expires_at_ms,
            )

        return self._database.run(work)

    def update_access_token(self, connection_id: str, access_token: str, expires_at_ms: int) -> bool:
        """Store a refreshed access token; False when the connection is gone (e.g. logged out meanwhile)."""
        row = self._row
        key = row_key(connection_id)
        if key is None:
            return False
        cipher = self._cipher

        def work() -> bool:
            changed = (
                row.update(
                    access_token_enc=cipher.encrypt(access_token),
                    access_token_hash=cipher.lookup_hash(access_token),
                    access_expires_at_ms=expires_at_ms,
                    updated_at_ms=self._database.now_ms(),
                )
                .where(row.id == key)
                .execute()
            )
            return changed == 1

        return self._database.run(work, write=True)

    def _existing_row_id(self, identity: ChatIdentity) -> int | None:
        row = self._row
        found = (
            row.select(row.id, row.team_id)
            .where(
                ((row.team_id == identity.team_id) & (row.user_id == identity.user_id))
                | (row.user_signature == identity.user_signature)
            )
            .order_by(row.team_id.is_null())
            .limit(1)
            .first()
        )
        return found.id if found is not None else None

    def _decrypt(self, ciphertext: str | None) -> str | None:
        return self._cipher.decrypt(ciphertext) if ciphertext is not None else None


def to_connection(found: Any) -> Connection:
    """The Connection value of a row that has a chat identity."""
    return Connection(
        id=str(found.id),
        identity=ChatIdentity(found.team_id, found.user_id),
        zoho_email=found.zoho_email,
        zoho_user_id=found.zoho_user_id,
        org_id=found.org_id,
        org_name=found.org_name,
        location=found.location,
        accounts_server=found.accounts_server,
        api_domain=found.api_domain,
        created_at=datetime_from_ms(found.created_at_ms),
        updated_at=datetime_from_ms(found.updated_at_ms),
        access_expires_at=(
            datetime_from_ms(found.access_expires_at_ms)
            if found.access_expires_at_ms is not None and found.access_token_enc is not None
            else None
        ),
    )
