"""One conformance suite, three databases.

Every test taking `backend` runs on SQLite (a temporary file) and, when TEST_POSTGRES_URL / TEST_MYSQL_URL
name a reachable server, on PostgreSQL and MySQL too. With REQUIRE_DB_SERVERS=1 (CI) a server that is not
configured or not reachable fails those tests instead of skipping them. Each test starts from an empty
database: the store's tables are dropped before and after it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee
import pytest

from store import PeeweeTokenStore, generate_key
from store.database import connect_database

STORE_TABLES = (
    "zoho_org_tickets",
    "zoho_org_leases",
    "zoho_org_slots",
    "org_field_metadata",
    "seen_slack_requests",
    "pending_revocations",
    "audit_entries",
    "login_states",
    "zoho_connections",
    "store_meta",
    "schema_version",
)

_SERVERS = {
    "postgres": "TEST_POSTGRES_URL",
    "mysql": "TEST_MYSQL_URL",
}
_reachability: dict[str, str | None] = {}


class FakeClock:
    """A clock the test moves by hand (seconds since the epoch, like time.time)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Backend:
    """A database for one test: its URL, the key to use, and the stores opened on it."""

    name: str
    url: str
    key: str | None
    opened: list[PeeweeTokenStore] = field(default_factory=list)

    @property
    def is_server(self) -> bool:
        return self.name != "sqlite"

    def open(self, **kwargs: Any) -> PeeweeTokenStore:
        """A store on this database (closed at teardown); `encryption_key` defaults to the backend's."""
        kwargs.setdefault("encryption_key", self.key)
        store = PeeweeTokenStore(self.url, **kwargs)
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self.opened:
            store.close()
        self.opened.clear()


def _unreachable_reason(name: str) -> str | None:
    """None when the server is configured and answers, else why not (cached per session)."""
    if name in _reachability:
        return _reachability[name]
    url = os.environ.get(_SERVERS[name], "").strip()
    reason: str | None = None
    if not url:
        reason = f"{_SERVERS[name]} is not set"
    else:
        db = connect_database(url)
        try:
            db.connect()
            db.execute_sql("SELECT 1")
        except peewee.DatabaseError as exc:
            reason = f"{_SERVERS[name]} is not reachable: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        finally:
            if not db.is_closed():
                db.close()
    _reachability[name] = reason
    return reason


def drop_store_tables(url: str) -> None:
    """Drop every table the store creates (the server databases are shared by all tests)."""
    db = connect_database(url)
    with db.connection_context():
        for table in STORE_TABLES:
            db.execute_sql(f"DROP TABLE IF EXISTS {table}")  # names are the constants above


_BACKEND_PARAMS = {
    "sqlite": pytest.param("sqlite", id="sqlite"),
    "postgres": pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    "mysql": pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends(*names): run only on these of sqlite, postgres, mysql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("backends")
        names = only.args if only else tuple(_BACKEND_PARAMS)
        metafunc.parametrize("backend", [_BACKEND_PARAMS[name] for name in names], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    name = request.param
    if name == "sqlite":
        chosen = Backend(name, f"sqlite:///{tmp_path / 'store.db'}", None)
        yield chosen
        chosen.close_all()
        return
    reason = _unreachable_reason(name)
    if reason is not None:
        if os.environ.get("REQUIRE_DB_SERVERS") == "1":
            pytest.fail(f"REQUIRE_DB_SERVERS=1 but {reason}")
        pytest.skip(reason)
    url = os.environ[_SERVERS[name]].strip()
    drop_store_tables(url)
    chosen = Backend(name, url, generate_key())
    try:
        yield chosen
    finally:
        chosen.close_all()
        drop_store_tables(url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(backend: Backend, clock: FakeClock) -> PeeweeTokenStore:
    """A fresh store on the backend under test, on a hand-moved clock."""
    return backend.open(clock=clock)
