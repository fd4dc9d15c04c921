"""The token store: Zoho connections per chat identity, login states, audit trail, pending revocations.

`PeeweeTokenStore` is a zohocrmsdk `TokenStore` over SQLite, PostgreSQL or MySQL (Peewee), with every
secret encrypted at rest. It knows nothing of Slack or aiohttp.
"""

from store.audit import AUDIT_ACTIONS, AuditAction, AuditEntry
from store.connections import Connection, ConnectionSecrets, DeletedConnection, NewConnection
from store.crypto import generate_key
from store.errors import (
    LoginStateError,
    LoginStateExpired,
    LoginStateStale,
    LoginStateUnknown,
    LoginStateUsed,
    LoginStateVoided,
    NotConnected,
    RefreshLockTimeout,
    StoreClosedError,
    StoreConfigError,
    StoreError,
    StoreUnavailable,
)
from store.identity import ChatIdentity
from store.revocations import PendingRevocation, WaitingRevocation
from store.token_store import PeeweeTokenStore

__all__ = [
    "AUDIT_ACTIONS",
    "AuditAction",
    "AuditEntry",
    "ChatIdentity",
    "Connection",
    "ConnectionSecrets",
    "DeletedConnection",
    "LoginStateError",
    "LoginStateExpired",
    "LoginStateStale",
    "LoginStateUnknown",
    "LoginStateUsed",
    "LoginStateVoided",
    "NewConnection",
    "NotConnected",
    "PeeweeTokenStore",
    "PendingRevocation",
    "RefreshLockTimeout",
    "StoreClosedError",
    "StoreConfigError",
    "StoreError",
    "StoreUnavailable",
    "WaitingRevocation",
    "generate_key",
]
