"""Secrets are encrypted at rest, the key is handled with care, and a wrong key is refused clearly."""

from __future__ import annotations

import logging
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken

from store import ChatIdentity, PeeweeTokenStore, StoreConfigError, generate_key
from tests.store.sample_connections import save_sample_connection

from .conftest import Backend

ANN = ChatIdentity("T0001", "U0001")

SECRETS = {
    "client_secret": "CLIENT-SECRET-2b7f9c",
    "refresh_token": "1000.REFRESH-TOKEN-8d1e4a",
    "access_token": "1000.ACCESS-TOKEN-5c3b2f",
}
SDK_SECRETS = {"grant": "1000.GRANT-CODE-77aa11", "refresh": "1000.SDK-REFRESH-66bb22", "access": "1000.SDK-AT-55cc"}
QUEUED_REFRESH = "1000.QUEUED-REFRESH-44dd33"


def fill_with_secrets(store: PeeweeTokenStore) -> str:
    save_sample_connection(store, ANN, **SECRETS)
    sdk = OAuthToken(client_id="c1", client_secret=SECRETS["client_secret"], grant_token=SDK_SECRETS["grant"])
    sdk.set_refresh_token(SDK_SECRETS["refresh"])
    sdk.set_access_token(SDK_SECRETS["access"])
    store.save_token(sdk)
    store.revocations.queue(QUEUED_REFRESH, "https://accounts.zoho.eu", "T0001", "U0001")
    return store.login_states.issue(ANN)


def every_secret(state: str) -> list[str]:
    return [*SECRETS.values(), *SDK_SECRETS.values(), QUEUED_REFRESH, state]


def test_no_secret_is_readable_in_the_sqlite_files(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    store = PeeweeTokenStore(f"sqlite:///{db}")
    state = fill_with_secrets(store)

    files = [path for path in tmp_path.iterdir() if path.name.startswith("store.db") and not path.name.endswith(".key")]
    content = b"".join(path.read_bytes() for path in files)
    store.close()
    content += b"".join(path.read_bytes() for path in files if path.exists())

    assert {path.name for path in files} >= {"store.db", "store.db-wal"}
    assert b"ann@acme.test" in content, "the files really hold the rows"
    for secret in every_secret(state):
        assert secret.encode() not in content, f"{secret[:12]}… is stored in clear"


@pytest.mark.backends("postgres", "mysql")
def test_no_secret_is_readable_in_the_server_tables(backend: Backend) -> None:
    store = backend.open()
    state = fill_with_secrets(store)
    models = store._database.models  # reading the raw rows is the point here

    dumped = repr(
        [list(model.select().dicts()) for model in (models.connection, models.login_state, models.pending_revocation)]
    )

    assert "ann@acme.test" in dumped
    for secret in every_secret(state):
        assert secret not in dumped


def test_no_secret_reaches_the_logs(backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = backend.open()
    state = fill_with_secrets(store)
    store.login_states.consume(state)
    store.find_token(OAuthToken(client_id="c1", client_secret="x", refresh_token=SDK_SECRETS["refresh"]))
    store.revocations.due(datetime.now(UTC))
    with store.refresh_locks.hold(store.connections.get(ANN).id):
        store.connections.update_access_token(store.connections.get(ANN).id, "1000.NEW-AT-99", 1)

    logged = caplog.text + repr(store)
    for secret in [*every_secret(state), "1000.NEW-AT-99", backend.key or ""]:
        if secret:
            assert secret not in logged


def test_a_sqlite_store_without_a_key_makes_a_private_key_file_and_reuses_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    first = PeeweeTokenStore(url)
    save_sample_connection(first, ANN)
    first.close()
    key_file = tmp_path / "bot.db.key"
    key = key_file.read_bytes()

    second = PeeweeTokenStore(url)

    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.read_bytes() == key
    assert second.connections.secrets(second.connections.get(ANN).id).refresh_token == "1000.refresh-token-value-0001"
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".bot.db.key")] == []


def test_a_new_sqlite_database_and_its_journal_are_private_and_a_shared_one_is_pointed_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    private = tmp_path / "private.db"
    store = PeeweeTokenStore(f"sqlite:///{private}")
    save_sample_connection(store, ANN)
    files = [p for p in (private, tmp_path / "private.db-wal", tmp_path / "private.db-shm") if p.exists()]
    modes = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in files}
    store.close()

    shared = tmp_path / "shared.db"
    shared.touch(mode=0o644)
    os.chmod(shared, 0o644)
    PeeweeTokenStore(f"sqlite:///{shared}").close()

    assert len(modes) >= 2 and set(modes.values()) == {0o600}, modes
    assert any("shared.db can be read by other users" in r.getMessage() for r in caplog.records)


def test_stores_starting_together_on_a_new_sqlite_file_agree_on_one_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"

    with ThreadPoolExecutor(6) as pool:
        stores = list(pool.map(lambda _: PeeweeTokenStore(url), range(6)))
    save_sample_connection(stores[0], ANN)

    for store in stores:
        assert store.connections.get(ANN) is not None
        assert store.connections.secrets(store.connections.get(ANN).id).client_secret == "client-secret-value-0001"
        store.close()


@pytest.mark.parametrize("url", ["postgresql://u:p@127.0.0.1:9/db", "mysql://u:p@127.0.0.1:9/db"])
def test_a_server_database_without_a_key_is_refused_before_connecting(url: str) -> None:
    with pytest.raises(StoreConfigError) as refused:
        PeeweeTokenStore(url)
    assert str(refused.value) == "TOKEN_ENCRYPTION_KEY is required for postgresql/mysql databases"


@pytest.mark.parametrize(
    "bad_key",
    ["not-a-key", "c2hvcnQ=", generate_key() + ",garbage!!", "  ,  "],
    ids=["words", "too-short", "second-entry-bad", "empty-list"],
)
def test_a_malformed_key_is_named_but_never_echoed(tmp_path: Path, bad_key: str) -> None:
    with pytest.raises(StoreConfigError) as refused:
        PeeweeTokenStore(f"sqlite:///{tmp_path / 'x.db'}", bad_key)

    message = str(refused.value)
    assert "TOKEN_ENCRYPTION_KEY" in message
    for part in bad_key.split(","):
        if part.strip():
            assert part.strip() not in message
    assert list(tmp_path.iterdir()) == []  # refused before any database file was made


def test_a_wrong_key_is_refused_with_a_clear_error(backend: Backend) -> None:
    key = backend.key or generate_key()
    save_sample_connection(backend.open(encryption_key=key), ANN)
    wrong = generate_key()

    with pytest.raises(StoreConfigError) as refused:
        backend.open(encryption_key=wrong)

    assert "TOKEN_ENCRYPTION_KEY does not match" in str(refused.value)
    assert wrong not in str(refused.value) and key not in str(refused.value)


def test_a_key_is_rotated_by_listing_the_new_key_first(backend: Backend) -> None:
    old, new = backend.key or generate_key(), generate_key()
    before = backend.open(encryption_key=old)
    saved = save_sample_connection(before, ANN)
    sdk = OAuthToken(client_id="c1", client_secret="s1", refresh_token="1000.sdk-refresh")
    before.save_token(sdk)
    before.revocations.queue("1000.queued", "https://accounts.zoho.eu", "T0001", "U0001")
    backend.close_all()

    rotating = backend.open(encryption_key=f"{new},{old}")
    backend.close_all()
    after = backend.open(encryption_key=new)

    assert after.connections.secrets(saved.id).refresh_token == "1000.refresh-token-value-0001"
    found = after.find_token(OAuthToken(client_id="c1", client_secret="s1", refresh_token="1000.sdk-refresh"))
    assert found is not None and found.get_id() == sdk.get_id(), "lookups by token value survive the rotation"
    assert [r.refresh_token for r in after.revocations.due(datetime(2100, 1, 1, tzinfo=UTC))] == ["1000.queued"]
    assert rotating is not after
    backend.close_all()
    with pytest.raises(StoreConfigError):
        backend.open(encryption_key=old)
