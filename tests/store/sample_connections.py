"""Plausible connection values for tests, overridable one field at a time."""

from __future__ import annotations

from typing import Any

from store import ChatIdentity, Connection, NewConnection, PeeweeTokenStore

HOUR_MS = 3600 * 1000


def sample_connection(**overrides: Any) -> NewConnection:
    """A login's result with sample values, `overrides` replacing some of them (NewConnection's field names)."""
    fields: dict[str, Any] = {
        "zoho_email": "ann@acme.test",
        "zoho_user_id": "4150868000000225013",
        "org_id": "60012345",
        "org_name": "Acme",
        "location": "eu",
        "accounts_server": "https://accounts.zoho.eu",
        "api_domain": "https://www.zohoapis.eu",
        "client_id": "1000.CLIENTID",
        "client_secret": "client-secret-value-0001",
        "refresh_token": "1000.refresh-token-value-0001",
        "access_token": "1000.access-token-value-0001",
        "expires_at_ms": 1_900_000_000_000,
        "redirect_uri": "https://bot.example/zoho/callback",
    }
    fields.update(overrides)
    return NewConnection(**fields)


def save_sample_connection(store: PeeweeTokenStore, identity: ChatIdentity, **overrides: Any) -> Connection:
    """Save a connection for `identity` with sample values, `overrides` replacing some of them."""
    connection, _ = store.connections.save(identity, sample_connection(**overrides))
    return connection
