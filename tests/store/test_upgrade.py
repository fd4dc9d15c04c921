"""Upgrading: a database written at schema version 1 opens with today's store, its data intact, at the newest
version (what the README's "Upgrading" promises an operator who replaces the code and restarts)."""

from __future__ import annotations

import logging

import store.schema
from store import ChatIdentity
from store.schema import LATEST_VERSION, MIGRATIONS
from tests.store.sample_connections import save_sample_connection

from .conftest import Backend

ANN = ChatIdentity("T0001", "U0001")


def test_a_version_1_database_opens_upgraded_with_its_connections_and_audit(
    backend: Backend, monkeypatch, caplog
) -> None:
    # The program as it was at version 1: only the first migration step exists.
    monkeypatch.setattr(store.schema, "MIGRATIONS", MIGRATIONS[:1])
    monkeypatch.setattr(store.schema, "LATEST_VERSION", MIGRATIONS[0].version)
    old = backend.open()
    assert old.schema_version == 1
    saved = save_sample_connection(old, ANN)
    old.audit.record("T0001", "U0001", "login", "U0001", "ann@acme.test", "ok")
    old.close()
    monkeypatch.undo()
    caplog.set_level(logging.INFO, logger="store.schema")

    upgraded = backend.open()

    assert f"database schema upgraded from version 1: version {LATEST_VERSION} (2: " in caplog.text

    assert upgraded.schema_version == LATEST_VERSION
    table = upgraded._database.models.schema_version  # the recorded steps are what this test is about
    assert sorted(row.version for row in table.select()) == [m.version for m in MIGRATIONS]
    connection = upgraded.connections.get(ANN)
    assert connection is not None and connection.zoho_email == "ann@acme.test"
    secrets = upgraded.connections.secrets(saved.id)
    assert secrets is not None and secrets.refresh_token == "1000.refresh-token-value-0001"
    assert [(e.action, e.zoho_email) for e in upgraded.audit.list("T0001")] == [("login", "ann@acme.test")]
