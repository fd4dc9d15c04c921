"""Database connections: per thread, re-made after the server drops them, health-checked, closed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.crm.api.user_signature import UserSignature

from store import ChatIdentity, PeeweeTokenStore, StoreClosedError, StoreUnavailable, generate_key
from store.database import StoreDatabase, connect_database
from tests.store.sample_connections import save_sample_connection

from .conftest import Backend


def test_a_thread_pool_can_use_one_store_for_everything_at_once(store: PeeweeTokenStore) -> None:
    identities = [ChatIdentity("T1", f"U{n}") for n in range(32)]

    def one_user(identity: ChatIdentity) -> bool:
        connection = save_sample_connection(store, identity, refresh_token=f"1000.r-{identity.user_id}")
        found = store.find_token(OAuthToken(user_signature=UserSignature(identity.user_signature)))
        state = store.login_states.issue(identity)
        store.audit.record("T1", identity.user_id, "login", identity.user_id, None, "ok")
        with store.refresh_locks.hold(connection.id):
            store.connections.update_access_token(connection.id, f"1000.a-{identity.user_id}", 1)
        return (
            found.get_refresh_token() == f"1000.r-{identity.user_id}"
            and store.login_states.consume(state) == identity
            and store.find_token_by_id(connection.id).get_access_token() == f"1000.a-{identity.user_id}"
        )

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(one_user, identities))

    assert len(store.connections.list("T1")) == 32
    assert len(store.audit.list("T1", limit=100)) == 32


def _kill_connections_of(backend: Backend) -> int:
    """Have the server end every other session of the test user, as a restart or idle timeout would."""
    admin = connect_database(backend.url)
    with admin.connection_context():
        if backend.name == "postgres":
            cursor = admin.execute_sql(
                # Sessions of this role only: an autovacuum worker in the database is a superuser's, which a
                # role without superuser may not end (the test failed when one happened to be running).
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND usename = current_user "
                "AND backend_type = 'client backend'"
            )
            return len(cursor.fetchall())
        sessions = admin.execute_sql(
            "SELECT ID FROM information_schema.PROCESSLIST "
            "WHERE USER = SUBSTRING_INDEX(USER(), '@', 1) AND ID <> CONNECTION_ID()"
        ).fetchall()
        for (session,) in sessions:
            admin.execute_sql("KILL %s", (int(session),))
        return len(sessions)


@pytest.mark.backends("postgres", "mysql")
def test_after_the_server_drops_the_connection_the_next_call_reconnects(backend: Backend) -> None:
    store = backend.open()
    identity = ChatIdentity("T1", "U1")
    saved = save_sample_connection(store, identity)
    assert _kill_connections_of(backend) >= 1

    assert store.connections.get(identity) == saved
    assert store.ping() is True
    _kill_connections_of(backend)
    assert store.connections.update_access_token(saved.id, "1000.after-drop", 1) is True
    _kill_connections_of(backend)
    assert store.find_token_by_id(saved.id).get_access_token() == "1000.after-drop"


def test_ping_answers_true_while_the_database_answers(store: PeeweeTokenStore) -> None:
    assert store.ping() is True


def test_describe_names_the_database_but_never_the_password(backend: Backend) -> None:
    described = backend.open().describe()

    assert described.startswith(backend.name if backend.name != "postgres" else "postgresql")
    assert "schema version" in described


@pytest.mark.parametrize(
    ("url", "described"),
    [
        ("postgresql://bot:s3cret-pw@db.internal:5433/zohobot", "postgresql bot@db.internal:5433/zohobot"),
        ("mysql://bot:s3cret-pw@db.internal/zohobot", "mysql bot@db.internal/zohobot"),
        ("sqlite:///var/zohobot.db", "sqlite var/zohobot.db"),
    ],
)
def test_the_database_is_described_without_its_password(
    url: str, described: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative SQLite path is made where the test runs: not in the checkout
    assert StoreDatabase(url).describe() == described


@pytest.mark.parametrize(
    "url",
    ["postgresql://zohobot:secret-pw@127.0.0.1:1/zohobot", "mysql://zohobot:secret-pw@127.0.0.1:1/zohobot"],
)
def test_an_unreachable_server_is_a_clear_error_without_the_password(url: str) -> None:
    with pytest.raises(StoreUnavailable) as failed:
        PeeweeTokenStore(url, generate_key())

    assert "DATABASE_URL (" in str(failed.value) and "zohobot@127.0.0.1:1/zohobot)" in str(failed.value)  # which one
    assert "secret-pw" not in str(failed.value)


def test_a_closed_store_refuses_work_and_reports_unhealthy(backend: Backend) -> None:
    store = backend.open()
    identity = ChatIdentity("T1", "U1")
    save_sample_connection(store, identity)
    with ThreadPoolExecutor(4) as pool:  # connections opened in other threads are closed too
        list(pool.map(lambda _: store.connections.get(identity), range(8)))

    store.close()

    assert store.ping() is False
    with pytest.raises(StoreClosedError):
        store.connections.get(identity)
    assert backend.open().connections.get(identity) is not None, "the data outlives the store object"


def test_an_in_memory_sqlite_store_works_across_threads() -> None:
    store = PeeweeTokenStore("sqlite:///:memory:")
    identity = ChatIdentity("T1", "U1")
    saved = save_sample_connection(store, identity)

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda _: store.connections.get(identity), range(4))) == [saved] * 4
    store.close()


@pytest.mark.backends("postgres")
def test_a_dba_sees_the_bots_sessions_by_name(backend: Backend) -> None:
    store = backend.open()
    assert store.ping()
    admin = connect_database(backend.url)
    with admin.connection_context():
        admin.execute_sql("SET application_name = 'a dba'")
        names = admin.execute_sql(
            "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
            "pg_backend_pid()"
        ).fetchall()

    assert ("zoho-slack-bot",) in names
