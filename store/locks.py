"""Locks that hold across threads and processes sharing one database.

- PostgreSQL: `pg_advisory_xact_lock` inside a transaction (released at commit/rollback, or if the
  connection dies), bounded by `lock_timeout`.
- MySQL/MariaDB: `GET_LOCK(name, timeout)` ... `RELEASE_LOCK(name)` on the thread's session.
- SQLite: a `BEGIN IMMEDIATE` transaction: SQLite has one writer at a time, so this serialises every writer
  of the file, in every process, until the block ends (waiting at most the busy timeout).

On PostgreSQL and SQLite the block runs inside that transaction: store calls made in the block from the
same thread join it. Make them from the same thread; another thread's writes would wait for the block.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import peewee

from store.database import SQLITE_BUSY_TIMEOUT_MS, Dialect, StoreDatabase, postgres_error_code
from store.errors import RefreshLockTimeout

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 30.0


@contextmanager
def named_lock(database: StoreDatabase, name: str, timeout: float = DEFAULT_TIMEOUT_S) -> Iterator[None]:
    """Hold the database-wide lock called `name` for the block; raises RefreshLockTimeout after `timeout`."""
    if database.dialect is Dialect.POSTGRES:
        with _postgres_lock(database, name, timeout):
            yield
    elif database.dialect is Dialect.MYSQL:
        with _mysql_lock(database, name, timeout):
            yield
    else:
        with _sqlite_lock(database, timeout):
            yield


class RefreshLocks:
    """Single-flight token refresh: one holder per connection id, across threads and processes."""

    def __init__(self, database: StoreDatabase) -> None:
        self._database = database
        self._guard = threading.Lock()
        self._in_process: dict[str, threading.RLock] = {}

    @contextmanager
    def hold(self, connection_id: str, timeout: float = DEFAULT_TIMEOUT_S) -> Iterator[None]:
        """Hold connection `connection_id`'s refresh lock; raises RefreshLockTimeout after `timeout` s.

        Threads of this process queue on an in-process lock first, so only one of them at a time waits on
        the database. Re-entrant within one thread.
        """
        with self._guard:
            local = self._in_process.setdefault(str(connection_id), threading.RLock())
        if not local.acquire(timeout=timeout):
            raise RefreshLockTimeout(f"refresh lock of connection {connection_id} not acquired in {timeout:g} s")
        try:
            with named_lock(self._database, f"refresh:{connection_id}", timeout):
                yield
        finally:
            local.release()


def _lock_key(database: StoreDatabase, name: str) -> bytes:
    return hashlib.blake2b(f"zohobot-store:{database.database_name}:{name}".encode(), digest_size=8).digest()


@contextmanager
def _postgres_lock(database: StoreDatabase, name: str, timeout: float) -> Iterator[None]:
    key = int.from_bytes(_lock_key(database, name), "big", signed=True)
    db = database.db

    def acquire() -> None:
        previous = db.execute_sql("SELECT current_setting('lock_timeout')").fetchone()[0]
        db.execute_sql("SELECT set_config('lock_timeout', %s, true)", (f"{max(1, int(timeout * 1000))}ms",))
        try:
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (key,))
        except peewee.OperationalError as exc:
            if postgres_error_code(exc) == "55P03":  # lock_not_available
                raise RefreshLockTimeout(f"lock {name!r} not acquired in {timeout:g} s") from None
            raise
        db.execute_sql("SELECT set_config('lock_timeout', %s, true)", (previous,))

    transaction = database.db.atomic()
    database.run(lambda: transaction.__enter__())
    try:
        acquire()
    except BaseException as exc:
        transaction.__exit__(type(exc), exc, exc.__traceback__)
        raise
    with _exit_on_leave(transaction):
        yield


@contextmanager
def _exit_on_leave(transaction: object) -> Iterator[None]:
    try:
        yield
    except BaseException as exc:
        if not transaction.__exit__(type(exc), exc, exc.__traceback__):  # type: ignore[attr-defined]
            raise
    else:
        transaction.__exit__(None, None, None)  # type: ignore[attr-defined]


@contextmanager
def _mysql_lock(database: StoreDatabase, name: str, timeout: float) -> Iterator[None]:
    lock_name = "zohobot:" + _lock_key(database, name).hex()
    seconds = max(0, math.ceil(timeout))
    got = database.run(lambda: database.db.execute_sql("SELECT GET_LOCK(%s, %s)", (lock_name, seconds)).fetchone())
    if not got or got[0] != 1:
        raise RefreshLockTimeout(f"lock {name!r} not acquired in {timeout:g} s")
    try:
        yield
    finally:
        try:
            database.db.execute_sql("SELECT RELEASE_LOCK(%s)", (lock_name,))
        except peewee.DatabaseError as exc:
            # The session is gone, and the server released its locks with it.
            log.warning("RELEASE_LOCK failed, the session is gone (%s)", type(exc).__name__)


@contextmanager
def _sqlite_lock(database: StoreDatabase, timeout: float) -> Iterator[None]:
    db = database.db
    if db.transaction_depth() > 0:  # the outer transaction already decides who writes
        yield
        return
    deadline = time.monotonic() + timeout
    # First this process's writers, then SQLite's lock: within `timeout` in all.
    with database.writer_turn(timeout), _sqlite_write_lock(db, deadline - time.monotonic(), timeout):
        yield


@contextmanager
def _sqlite_write_lock(db: peewee.Database, wait: float, timeout: float) -> Iterator[None]:
    wait_ms = max(1, int(wait * 1000))
    db.pragma("busy_timeout", wait_ms)
    transaction = db.atomic("IMMEDIATE")
    try:
        transaction.__enter__()
    except peewee.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise RefreshLockTimeout(f"database write lock not acquired in {timeout:g} s") from None
        raise
    finally:
        db.pragma("busy_timeout", SQLITE_BUSY_TIMEOUT_MS)
    with _exit_on_leave(transaction):
        yield
