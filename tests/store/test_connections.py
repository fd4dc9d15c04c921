"""Each chat identity's Zoho connection: saved after login, replaced on re-login, forgotten on logout."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from store import ChatIdentity, PeeweeTokenStore
from tests.store.sample_connections import sample_connection, save_sample_connection

from .conftest import FakeClock

ANN = ChatIdentity("T0001", "U0001")
BOB = ChatIdentity("T0001", "U0002")
OTHER_TEAM = ChatIdentity("T0002", "U0001")

AWKWARD_TEXT = [
    "O'Brien",
    "名前",
    "'; DROP TABLE zoho_connections; --",
    'Robert"); DELETE FROM login_states; --',
    "emoji 🦄 and \\backslash\\ and %percent%",
]


def test_a_saved_connection_reads_back_whole_and_without_secrets(store: PeeweeTokenStore) -> None:
    saved = save_sample_connection(store, ANN)

    got = store.connections.get(ANN)

    assert got == saved
    assert (got.identity, got.zoho_email, got.zoho_user_id, got.org_id, got.org_name) == (
        ANN,
        "ann@acme.test",
        "4150868000000225013",
        "60012345",
        "Acme",
    )
    assert (got.location, got.accounts_server, got.api_domain) == (
        "eu",
        "https://accounts.zoho.eu",
        "https://www.zohoapis.eu",
    )
    assert int(got.access_expires_at.timestamp() * 1000) == 1_900_000_000_000
    shown = repr(got) + repr(store.connections.secrets(got.id)) + repr(store.connections.delete(ANN))
    shown += repr(sample_connection())  # what a login hands the store may be logged too
    for secret in ("client-secret-value-0001", "refresh-token-value-0001", "access-token-value-0001"):
        assert secret not in shown


def test_logging_in_again_replaces_the_connection_in_place(store: PeeweeTokenStore, clock: FakeClock) -> None:
    first = save_sample_connection(store, ANN)
    clock.advance(60)

    second = save_sample_connection(
        store, ANN, zoho_email="ann@beta.test", org_id="777", org_name="Beta", refresh_token="1000.r-2"
    )

    assert second.id == first.id
    assert second.created_at == first.created_at and second.updated_at > first.updated_at
    assert (second.zoho_email, second.org_id, second.org_name) == ("ann@beta.test", "777", "Beta")
    assert store.connections.secrets(first.id).refresh_token == "1000.r-2"
    assert len(store.get_tokens()) == 1


def test_two_people_on_the_same_zoho_account_have_separate_connections(store: PeeweeTokenStore) -> None:
    ann = save_sample_connection(store, ANN, refresh_token="1000.r-ann")
    bob = save_sample_connection(store, BOB, refresh_token="1000.r-bob")

    assert ann.id != bob.id
    deleted = store.connections.delete(ANN)

    assert deleted.refresh_token == "1000.r-ann"
    assert store.connections.get(BOB) == bob
    assert store.connections.secrets(bob.id).refresh_token == "1000.r-bob"


def test_forgetting_a_connection_hands_back_what_revoking_needs(store: PeeweeTokenStore) -> None:
    saved = save_sample_connection(store, ANN)

    deleted = store.connections.delete(ANN)

    assert (deleted.id, deleted.identity, deleted.zoho_email) == (saved.id, ANN, "ann@acme.test")
    assert (deleted.refresh_token, deleted.accounts_server) == (
        "1000.refresh-token-value-0001",
        "https://accounts.zoho.eu",
    )
    assert store.connections.get(ANN) is None
    assert store.connections.delete(ANN) is None
    assert store.connections.secrets(saved.id) is None


def test_a_workspace_lists_only_its_own_connections_oldest_first(store: PeeweeTokenStore, clock: FakeClock) -> None:
    bob = save_sample_connection(store, BOB)
    clock.advance(1)
    ann = save_sample_connection(store, ANN)
    save_sample_connection(store, OTHER_TEAM)

    assert store.connections.list("T0001") == [bob, ann]
    assert store.connections.list("T-nobody") == []


def test_a_refreshed_access_token_is_stored_and_a_gone_connection_says_so(store: PeeweeTokenStore) -> None:
    saved = save_sample_connection(store, ANN)

    assert store.connections.update_access_token(saved.id, "1000.access-2", 1_950_000_000_000) is True

    secrets = store.connections.secrets(saved.id)
    assert (secrets.access_token, secrets.expires_at_ms) == ("1000.access-2", 1_950_000_000_000)
    assert (secrets.client_id, secrets.client_secret, secrets.refresh_token) == (
        "1000.CLIENTID",
        "client-secret-value-0001",
        "1000.refresh-token-value-0001",
    )
    store.connections.delete(ANN)
    assert store.connections.update_access_token(saved.id, "1000.access-3", 1) is False
    assert store.connections.update_access_token("no-such-id", "1000.access-3", 1) is False


@pytest.mark.parametrize("text", AWKWARD_TEXT)
def test_quotes_unicode_and_sql_looking_text_are_stored_verbatim(store: PeeweeTokenStore, text: str) -> None:
    identity = ChatIdentity(f"T{text}", f"U{text}")
    saved = save_sample_connection(
        store, identity, zoho_email=f"{text}@acme.test", org_name=text, org_id=text, access_token=f"a{text}"
    )

    assert store.connections.get(identity) == saved
    assert (saved.org_name, saved.zoho_email, saved.identity) == (text, f"{text}@acme.test", identity)
    assert store.connections.list(f"T{text}") == [saved]
    assert store.connections.secrets(saved.id).access_token == f"a{text}"
    save_sample_connection(store, ANN)
    assert len(store.get_tokens()) == 2, "no table was dropped or emptied"


def test_eight_threads_saving_one_identity_leave_one_row(store: PeeweeTokenStore) -> None:
    def login(attempt: int) -> str:
        connection, _ = store.connections.save(ANN, sample_connection(refresh_token=f"1000.r-{attempt}"))
        return connection.id

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(login, range(8)))

    assert len(ids) == 1
    assert len(store.get_tokens()) == 1
    assert store.connections.secrets(ids.pop()).refresh_token.startswith("1000.r-")


def test_replacing_a_connection_hands_back_the_old_refresh_token_to_revoke(store: PeeweeTokenStore) -> None:
    first, replaced = store.connections.save(ANN, sample_connection(refresh_token="1000.r-old"))
    assert replaced is None

    second, replaced = store.connections.save(
        ANN, sample_connection(refresh_token="1000.r-new", accounts_server="https://accounts.zoho.com")
    )

    assert second.id == first.id
    assert (replaced.refresh_token, replaced.accounts_server, replaced.identity) == (
        "1000.r-old",
        "https://accounts.zoho.eu",
        ANN,
    )
    assert "1000.r-old" not in repr(replaced)


def test_a_connection_may_be_saved_without_the_client_secret(store: PeeweeTokenStore) -> None:
    without_secret = sample_connection(client_secret=None)

    saved, _ = store.connections.save(ANN, without_secret)

    assert store.connections.secrets(saved.id).client_secret is None
    assert store.find_token_by_id(saved.id).get_client_secret() is None
