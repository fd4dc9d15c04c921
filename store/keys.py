"""Where the store's encryption key comes from, and whether it fits the database it opens.

- TOKEN_ENCRYPTION_KEY given: used (a comma-separated list rotates keys: the first encrypts).
- Not given, SQLite file: a key file `<db path>.key` beside the database, created 0600 on first start.
- Not given, SQLite in memory: a throw-away key (nothing outlives the process anyway).
- Not given, PostgreSQL/MySQL: refused. Replicas share the database, so they must share the key.

On every start the key is checked against a value encrypted at first start, so a wrong key stops the
start with a clear error instead of failing on the first token read. When the first key changed (rotation),
every secret is re-encrypted under it and every lookup hash recomputed, once, under the schema lock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peewee
from peewee import Model

from store.crypto import KEY_SETTING, TokenCipher, generate_key, load_or_create_key_file, parse_keys
from store.database import Dialect, StoreDatabase
from store.errors import StoreConfigError

log = logging.getLogger(__name__)

_KEY_CHECK = "key_check"
_LOOKUP_KEY_ID = "lookup_key_id"
_KEY_CHECK_TEXT = "zohobot token store: key check"
_SECRET_COLUMNS = ("client_secret", "refresh_token", "access_token", "grant_token")
_HASHED = ("refresh_token", "access_token", "grant_token")


def resolve_keys(database: StoreDatabase, sqlite_file: Path | None, encryption_key: str | None) -> list[bytes]:
    """The Fernet keys to use, first one encrypting; raises StoreConfigError as described above. A SQLite
    database that holds tokens already never gets a new key file: its own is missing, and must be restored."""
    if encryption_key is not None and encryption_key.strip():
        return parse_keys(encryption_key)
    if database.dialect is not Dialect.SQLITE:
        raise StoreConfigError(f"{KEY_SETTING} is required for postgresql/mysql databases")
    if sqlite_file is None:
        return [generate_key().encode("ascii")]
    key_file = key_file_for(sqlite_file)
    if not key_file.exists() and _has_key_check(database):
        raise StoreConfigError(
            f"{missing_key_file(key_file, sqlite_file)}. No new key file was made: it could not read them"
        )
    return [load_or_create_key_file(key_file)]


def missing_key_file(key_file: Path, sqlite_file: Path) -> str:
    """What to say when a SQLite database that holds tokens has lost its key file."""
    return (
        f"{key_file} is missing: the tokens in {sqlite_file} cannot be read without it; restore it from its backup "
        f"(or set {KEY_SETTING} to the key it held)"
    )


def _has_key_check(database: StoreDatabase) -> bool:
    """Whether the database was ever opened with a key (its key check is written at the first start)."""
    meta = database.models.meta
    try:
        return meta.select().where(meta.name == _KEY_CHECK).exists()
    except peewee.DatabaseError:  # no such table: a new, empty database
        return False


def key_file_for(sqlite_file: Path) -> Path:
    """The generated key file kept beside a SQLite database."""
    return sqlite_file.with_name(sqlite_file.name + ".key")


def check_key(database: StoreDatabase, cipher: TokenCipher) -> None:
    """Record the key on first start, refuse a wrong one, finish a rotation. Call under the schema lock."""
    meta = database.models.meta
    with database.db.atomic():
        stored = {row.name: row.value for row in meta.select()}
        if _KEY_CHECK not in stored:
            meta.insert(name=_KEY_CHECK, value=cipher.encrypt(_KEY_CHECK_TEXT)).execute()
            meta.insert(name=_LOOKUP_KEY_ID, value=cipher.lookup_key_id()).execute()
            return
        try:
            text = cipher.decrypt(stored[_KEY_CHECK])
        except StoreConfigError:
            raise StoreConfigError(
                f"{KEY_SETTING} does not match the key this database was encrypted with "
                "(to rotate keys, list the new key first and the old one after it, comma-separated)"
            ) from None
        if text != _KEY_CHECK_TEXT:
            raise StoreConfigError(f"{KEY_SETTING}: this database's key check value is not ours")
        if stored.get(_LOOKUP_KEY_ID) == cipher.lookup_key_id():
            return
        _rotate(database, cipher)
        meta.update(value=cipher.rotate(stored[_KEY_CHECK])).where(meta.name == _KEY_CHECK).execute()
        meta.delete().where(meta.name == _LOOKUP_KEY_ID).execute()
        meta.insert(name=_LOOKUP_KEY_ID, value=cipher.lookup_key_id()).execute()


def _rotate(database: StoreDatabase, cipher: TokenCipher) -> None:
    models = database.models
    connection = models.connection
    rotated = 0
    for row in _in_batches(connection):
        changes: dict[str, str] = {}
        for column in _SECRET_COLUMNS:
            ciphertext = getattr(row, f"{column}_enc")
            if ciphertext is None:
                continue
            changes[f"{column}_enc"] = cipher.rotate(ciphertext)
            if column in _HASHED:
                changes[f"{column}_hash"] = cipher.lookup_hash(cipher.decrypt(ciphertext))
        if changes:
            connection.update(changes).where(connection.id == row.id).execute()
            rotated += 1
    pending = models.pending_revocation
    for row in _in_batches(pending):
        pending.update(
            refresh_token_enc=cipher.rotate(row.refresh_token_enc),
            refresh_token_hash=cipher.lookup_hash(cipher.decrypt(row.refresh_token_enc)),
        ).where(pending.id == row.id).execute()
    # Login states are hashed under the old lookup key and live ten minutes: let them go.
    models.login_state.delete().execute()
    log.info("token encryption key rotated: %d connections re-encrypted", rotated)


def _in_batches(model: type[Model], size: int = 500) -> Iterator[Any]:
    """Every row by ascending id, fetched a batch at a time (rows may be updated while walking)."""
    last_id = 0
    while True:
        batch = list(model.select().where(model.id > last_id).order_by(model.id).limit(size))
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id


def key_fit(database: StoreDatabase, cipher: TokenCipher) -> str:
    """How `cipher` fits the database, reading only (for `--check`): "new" (no key recorded yet), "fits",
    "rotates" (an older listed key opens it; the next start re-encrypts under the first) or "wrong"."""
    stored = {row.name: row.value for row in database.models.meta.select()}
    if _KEY_CHECK not in stored:
        return "new"
    try:
        cipher.decrypt(stored[_KEY_CHECK])
    except StoreConfigError:
        return "wrong"
    return "fits" if stored.get(_LOOKUP_KEY_ID) == cipher.lookup_key_id() else "rotates"
