"""The schema is created on first start, versioned, and re-opening (even by many at once) changes nothing."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from store import ChatIdentity, PeeweeTokenStore, StoreConfigError
from store.schema import LATEST_VERSION, MIGRATIONS
from tests.store.sample_connections import save_sample_connection

from .conftest import Backend

ANN = ChatIdentity("T0001", "U0001")


def versions(backend: Backend) -> list[tuple[int, str]]:
    store = backend.open()
    table = store._database.models.schema_version  # the recorded steps are what this test is about
    return [(row.version, row.description) for row in table.select().order_by(table.version)]


def test_first_start_creates_the_newest_schema_and_records_each_step(backend: Backend, caplog) -> None:
    caplog.set_level(logging.INFO, logger="store")

    store = backend.open()

    assert store.schema_version == LATEST_VERSION
    assert versions(backend) == [(m.version, m.description) for m in MIGRATIONS]
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("database schema")]
    assert said == [
        f"database schema created: version {LATEST_VERSION} ("
        + "; ".join(f"{m.version}: {m.description}" for m in MIGRATIONS)
        + ")"
    ]


def test_reopening_keeps_the_data_and_applies_nothing_twice(backend: Backend, caplog) -> None:
    saved = save_sample_connection(backend.open(), ANN)
    backend.close_all()
    caplog.set_level(logging.INFO, logger="store")
    caplog.clear()  # the first open's lines

    for _ in range(3):
        again = backend.open()
        assert again.connections.get(ANN) == saved
        backend.close_all()

    assert versions(backend) == [(m.version, m.description) for m in MIGRATIONS]
    assert "database schema" not in caplog.text  # nothing to create or upgrade: nothing said


def test_many_stores_starting_at_once_on_an_empty_database_all_come_up(backend: Backend) -> None:
    start = threading.Barrier(6)

    def start_one(_: int) -> int:
        start.wait()
        return backend.open().schema_version

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(start_one, range(6))) == [LATEST_VERSION] * 6

    assert versions(backend) == [(m.version, m.description) for m in MIGRATIONS]
    save_sample_connection(backend.opened[0], ANN)
    assert all(store.connections.get(ANN) is not None for store in backend.opened)


def test_a_database_from_a_newer_program_is_refused(backend: Backend) -> None:
    store = backend.open()
    table = store._database.models.schema_version
    table.insert(version=LATEST_VERSION + 1, description="from the future", applied_at_ms=0).execute()
    backend.close_all()

    with pytest.raises(StoreConfigError) as refused:
        backend.open()

    assert f"schema version {LATEST_VERSION + 1}" in str(refused.value)


def test_a_version_1_database_gets_the_login_state_columns_and_keeps_its_states(backend: Backend) -> None:
    from playhouse.migrate import SchemaMigrator, migrate

    store = backend.open()
    database = store._database  # rebuilding the version 1 table is the point here
    table = database.models.login_state._meta.table_name
    migrator = SchemaMigrator.from_database(database.db)
    migrate(
        migrator.drop_index(table, "login_states_team_id_user_id"),
        *(migrator.drop_column(table, c) for c in ("purpose", "connection_id", "refresh_token_hash", "voided_at_ms")),
    )
    columns = "state_hash, team_id, user_id, created_at_ms, expires_at_ms"
    database.db.execute_sql(f"INSERT INTO {table} ({columns}) VALUES ('{'x' * 64}', 'T0001', 'U0001', 0, 0)")
    database.models.schema_version.delete().where(database.models.schema_version.version > 1).execute()
    backend.close_all()

    upgraded = backend.open()

    assert versions(backend) == [(m.version, m.description) for m in MIGRATIONS]
    columns = {c.name for c in upgraded._database.db.get_columns(table)}
    assert {"purpose", "connection_id", "refresh_token_hash", "voided_at_ms"} <= columns
    [old] = upgraded._database.models.login_state.select()
    assert old.purpose == "login" and old.voided_at_ms is None
    state = upgraded.login_states.issue(ANN)
    assert upgraded.login_states.consume(state) == ANN


def test_a_version_3_database_gets_the_link_message_and_command_columns_and_keeps_its_states(backend: Backend) -> None:
    from playhouse.migrate import SchemaMigrator, migrate

    store = backend.open()
    database = store._database  # rebuilding the version 3 table is the point here
    table = database.models.login_state._meta.table_name
    new = ("dm_channel", "dm_ts", "command_enc", "resume_hash", "resume_expires_at_ms", "resume_used_at_ms")
    state = store.login_states.issue(ANN)  # a link open when the bot of version 3 stopped
    migrator = SchemaMigrator.from_database(database.db)
    migrate(migrator.drop_index(table, "login_states_resume_hash"), *(migrator.drop_column(table, c) for c in new))
    database.models.schema_version.delete().where(database.models.schema_version.version > 3).execute()
    backend.close_all()

    upgraded = backend.open()

    assert versions(backend) == [(m.version, m.description) for m in MIGRATIONS]
    assert set(new) <= {c.name for c in upgraded._database.db.get_columns(table)}
    assert upgraded.login_states.consume(state) == ANN
    again = upgraded.login_states.issue(ANN, command="list")
    upgraded.login_states.consume(again)
    assert upgraded.login_states.resume(upgraded.login_states.offer_resume(again) or "", ANN) == "list"


def test_a_new_sqlite_file_gets_its_missing_folder_made_private_and_both_are_told(tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="store")
    path = tmp_path / "data" / "bot.db"

    store = PeeweeTokenStore(f"sqlite:///{path}")
    store.close()

    assert path.is_file() and (path.parent.stat().st_mode & 0o777) == 0o700
    assert f"created the folder {path.parent} for the SQLite database" in caplog.text
    assert f"created a new, empty SQLite database at {path}" in caplog.text


def test_a_sqlite_file_whose_folder_is_two_levels_from_any_is_refused_and_nothing_made(tmp_path) -> None:
    path = tmp_path / "srv" / "zohobot" / "bot.db"

    with pytest.raises(StoreConfigError) as refused:
        PeeweeTokenStore(f"sqlite:///{path}")

    assert str(refused.value) == (
        f"DATABASE_URL names the SQLite file {path}, but the folder {path.parent} does not exist (a start creates "
        "one missing folder, not more): create it, or correct the path"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_file_whose_folder_is_a_file_is_refused_naming_it(tmp_path) -> None:
    (tmp_path / "data").write_text("not a folder")

    with pytest.raises(StoreConfigError) as refused:
        PeeweeTokenStore(f"sqlite:///{tmp_path / 'data' / 'bot.db'}")

    assert str(refused.value) == (
        f"DATABASE_URL names the SQLite file {tmp_path / 'data' / 'bot.db'}, but {tmp_path / 'data'} is not a folder"
    )
