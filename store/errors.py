"""The failures the store reports on purpose; anything else is a bug or a database outage."""

from __future__ import annotations

import peewee


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The start of what a database driver said: its first line (a server's reason; drivers put no password
    there), cut at `limit`; "" when it said nothing."""
    lines = str(exc).strip().splitlines()
    return lines[0][:limit] if lines else ""


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class StoreConfigError(StoreError):
    """DATABASE_URL or TOKEN_ENCRYPTION_KEY is missing, malformed or does not fit the database.

    The message names the setting and never contains a key or a password.
    """


class StoreUnavailable(StoreError):
    """The database could not be reached or opened at start-up (the message has no password)."""


class StoreClosedError(StoreError):
    """The store was used after `close()`."""


class NotConnected(StoreError):
    """This chat identity has no Zoho connection (never connected, or logged out / revoked, possibly while a
    command ran)."""


class LoginStateError(StoreError):
    """A login link's state cannot be used; the subclass says why."""


class LoginStateUnknown(LoginStateError):
    """The state was never issued by this store, or was altered on the way."""


class LoginStateUsed(LoginStateError):
    """The state was already consumed: login links are single-use."""


class LoginStateExpired(LoginStateError):
    """The state's lifetime has passed."""


class LoginStateVoided(LoginStateError):
    """The person connected or logged out after the state was issued, which closes every link they still had."""


class LoginStateStale(LoginStateError):
    """An undo token whose connection has changed since (a newer login, or already gone): it undoes nothing."""


class RefreshLockTimeout(StoreError):
    """Another thread or process held a connection's refresh lock for longer than the timeout."""


# The database going away (a restart, a failover, a network cut, a lock held too long): what callers that can
# wait for it to come back catch, to say so in one line instead of a traceback.
STORE_OUTAGE = (StoreUnavailable, peewee.OperationalError, peewee.InterfaceError)
