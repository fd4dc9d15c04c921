"""How secrets are encrypted at rest and looked up without storing them in clear.

Secrets (access, refresh and grant tokens, client secrets) are Fernet tokens. TOKEN_ENCRYPTION_KEY may list
several Fernet keys separated by commas: the first encrypts, all of them decrypt (MultiFernet), so a key is
rotated by putting the new one first. Rows are found by a token's value through an HMAC-SHA256 of it under a
subkey derived (HKDF) from the first key; the clear token is never stored or compared in SQL.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from store.errors import StoreConfigError

log = logging.getLogger(__name__)

KEY_SETTING = "TOKEN_ENCRYPTION_KEY"
_LOOKUP_INFO = b"zohobot store: token lookup hash v1"


class TokenCipher:
    """Encrypts, decrypts and hashes secrets with one TOKEN_ENCRYPTION_KEY (possibly a rotation list)."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise StoreConfigError(f"{KEY_SETTING} is empty")
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        primary = base64.urlsafe_b64decode(keys[0])
        self._lookup_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LOOKUP_INFO).derive(primary)
        self.key_count = len(keys)

    def __repr__(self) -> str:
        return f"TokenCipher(keys={self.key_count})"

    def encrypt(self, secret: str) -> str:
        """Return the Fernet token of `secret` under the first key."""
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """Return the clear text; raises StoreConfigError when no configured key opens it."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except InvalidToken:
            raise StoreConfigError(
                f"{KEY_SETTING} does not decrypt the tokens in this database (wrong or removed key)"
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the first key (after a key rotation)."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise StoreConfigError(
                f"{KEY_SETTING} does not decrypt the tokens in this database (wrong or removed key)"
            ) from None

    def lookup_hash(self, secret: str) -> str:
        """Return the keyed hash (64 hex chars) under which rows holding `secret` are indexed."""
        return hmac.new(self._lookup_key, secret.encode(), hashlib.sha256).hexdigest()

    def lookup_key_id(self) -> str:
        """A fingerprint of the lookup subkey: tells whether stored hashes were made with this key."""
        return hmac.new(self._lookup_key, b"lookup key id", hashlib.sha256).hexdigest()[:32]


def parse_keys(value: str) -> list[bytes]:
    """Split a TOKEN_ENCRYPTION_KEY value into Fernet keys; raises StoreConfigError (never echoing it)."""
    entries = [entry.strip() for entry in value.split(",")]
    keys = [entry.encode("ascii", "replace") for entry in entries if entry]
    if not keys:
        raise StoreConfigError(f"{KEY_SETTING} is empty")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            which = f"entry {position} of {len(keys)}" if len(keys) > 1 else "it"
            raise StoreConfigError(
                f"{KEY_SETTING} is malformed: {which} is not a Fernet key "
                "(32 bytes, url-safe base64; make one with "
                '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`)'
            ) from None
    return keys


def load_or_create_key_file(path: Path) -> bytes:
    """Return the key stored in `path`, creating it (mode 0600, atomically) when it does not exist yet.

    Two processes starting at once end up with the same key: the file is written under a temporary name
    and published with a hard link, which fails if someone else published first.
    """
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as temp_file:
            os.fchmod(temp_file.fileno(), 0o600)
            temp_file.write(Fernet.generate_key() + b"\n")
            temp_file.flush()
            os.fsync(temp_file.fileno())
        # Publishing fails if another process published first: then its key is the one to use.
        with contextlib.suppress(FileExistsError):
            os.link(temp_name, path)
    finally:
        os.unlink(temp_name)
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:
        log.warning("the key file %s can be read by other users; it should be chmod 600", path)
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise StoreConfigError(f"the key file {path} is not a Fernet key; restore it or set {KEY_SETTING}") from None
    return key


def generate_key() -> str:
    """A fresh Fernet key (for tests, the bench and in-memory databases)."""
    return Fernet.generate_key().decode("ascii")
