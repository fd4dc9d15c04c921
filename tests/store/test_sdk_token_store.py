"""The six TokenStore methods behave like the SDK's own FileStore, on every database."""

from __future__ import annotations

from pathlib import Path

import pytest
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store.file_store import FileStore
from zohocrmsdk.src.com.zoho.crm.api.exception.sdk_exception import SDKException
from zohocrmsdk.src.com.zoho.crm.api.user_signature import UserSignature

from store import ChatIdentity, PeeweeTokenStore
from tests.store.sample_connections import save_sample_connection

from .conftest import Backend


def fields(token: OAuthToken | None) -> tuple | None:
    """Everything a token carries, comparable between stores."""
    if token is None:
        return None
    signature = token.get_user_signature()
    return (
        token.get_id(),
        signature.get_name() if signature is not None else None,
        token.get_client_id(),
        token.get_client_secret(),
        token.get_refresh_token(),
        token.get_access_token(),
        token.get_grant_token(),
        token.get_expires_in(),
        token.get_redirect_url(),
        token.get_api_domain(),
    )


def sdk_token(**values: object) -> OAuthToken:
    """An OAuthToken as the SDK holds it after a token exchange: constructor values, then the answer."""
    answer = {key: values.pop(key) for key in ("expires_in", "api_domain") if key in values}
    token = OAuthToken(**values)
    if "expires_in" in answer:
        token.set_expires_in(answer["expires_in"])
    if "api_domain" in answer:
        token.set_api_domain(answer["api_domain"])
    return token


def play_sdk_script(store: object) -> list:
    """Drive a store the way the SDK does and record every answer."""
    seen: list = []
    ann = sdk_token(client_id="c1", client_secret="s1", grant_token="g-ann", redirect_url="https://r.test/cb")
    ann.set_access_token("a-ann-1")
    ann.set_refresh_token("r-ann")
    ann.set_expires_in("1900000000000")
    ann.set_api_domain("https://www.zohoapis.com")
    ann.set_user_signature(UserSignature("ann@acme.test:111"))
    store.save_token(ann)
    seen.append(("saved ann", fields(ann)))

    bob = sdk_token(client_id="c1", client_secret="s1", refresh_token="r-bob", expires_in="1900000000001")
    bob.set_access_token("a-bob-1")
    store.save_token(bob)
    seen.append(("saved bob", fields(bob)))

    carol = OAuthToken(access_token="a-carol")
    store.save_token(carol)
    seen.append(("saved carol", fields(carol)))

    # Re-login of ann (same user signature, no id): updates her row.
    again = sdk_token(client_id="c1", client_secret="s1", grant_token="g-ann-2", redirect_url="https://r.test/cb")
    again.set_access_token("a-ann-2")
    again.set_refresh_token("r-ann-2")
    again.set_user_signature(UserSignature("ann@acme.test:111"))
    store.save_token(again)
    seen.append(("re-saved ann", fields(again)))

    # A refresh of bob's token, saved by id.
    refreshed = store.find_token_by_id(bob.get_id())
    refreshed.set_access_token("a-bob-2")
    refreshed.set_expires_in("1900000000999")
    store.save_token(refreshed)

    lookups = {
        "signature": OAuthToken(user_signature=UserSignature("ann@acme.test:111")),
        "unknown signature": OAuthToken(user_signature=UserSignature("zed@acme.test:1")),
        "empty signature": OAuthToken(user_signature=UserSignature("")),
        "signature wins over refresh": OAuthToken(
            client_id="c1", client_secret="s1", refresh_token="r-bob", user_signature=UserSignature("x:1")
        ),
        "access token alone": OAuthToken(access_token="a-carol"),
        "access token with client": OAuthToken(client_id="c1", client_secret="s1", access_token="a-carol"),
        "refresh token": OAuthToken(client_id="c1", client_secret="s1", refresh_token="r-bob"),
        "old grant token": OAuthToken(client_id="c1", client_secret="s1", grant_token="g-ann"),
        "new grant token": OAuthToken(client_id="c1", client_secret="s1", grant_token="g-ann-2"),
        "grant misses, refresh hits": OAuthToken(
            client_id="c1", client_secret="s1", grant_token="g-none", refresh_token="r-ann-2"
        ),
        "unknown refresh token": OAuthToken(client_id="c1", client_secret="s1", refresh_token="r-none"),
    }
    for name, probe in lookups.items():
        found = store.find_token(probe)
        assert found is None or found is probe, "find_token returns the token it was given, merged"
        seen.append((name, fields(found)))

    seen.append(("by id 1", fields(store.find_token_by_id("1"))))
    seen.append(("all", sorted(fields(t) for t in store.get_tokens())))
    store.delete_token("2")
    seen.append(("after delete", sorted(fields(t) for t in store.get_tokens())))
    store.delete_tokens()
    seen.append(("after delete all", store.get_tokens()))
    return seen


def test_the_store_answers_the_sdk_exactly_like_the_sdks_file_store(
    backend: Backend, store: PeeweeTokenStore, tmp_path: Path
) -> None:
    file_store = FileStore(str(tmp_path / "sdk_tokens.csv"))

    ours = play_sdk_script(store)
    theirs = play_sdk_script(file_store)

    assert ours == theirs
    assert ("signature", fields(None)) not in ours, "the script really finds things"


def test_find_token_by_id_returns_a_complete_oauth_token(store: PeeweeTokenStore) -> None:
    token = sdk_token(client_id="c1", client_secret="s1", grant_token="g1", redirect_url="https://r.test/cb")
    token.set_access_token("a1")
    token.set_refresh_token("r1")
    token.set_expires_in("1900000000123")
    token.set_api_domain("https://www.zohoapis.eu")
    token.set_user_signature(UserSignature("ann@acme.test:111"))
    store.save_token(token)

    found = store.find_token_by_id(token.get_id())

    assert isinstance(found, OAuthToken)
    assert isinstance(found.get_id(), str)
    assert isinstance(found.get_user_signature(), UserSignature)
    assert fields(found) == (
        token.get_id(),
        "ann@acme.test:111",
        "c1",
        "s1",
        "r1",
        "a1",
        "g1",
        "1900000000123",
        "https://r.test/cb",
        "https://www.zohoapis.eu",
    )


def test_saving_the_same_user_again_never_duplicates_the_row(store: PeeweeTokenStore) -> None:
    for attempt in range(5):
        token = OAuthToken(client_id="c1", client_secret="s1", grant_token=f"g{attempt}")
        token.set_access_token(f"a{attempt}")
        token.set_user_signature(UserSignature("ann@acme.test:111"))
        store.save_token(token)

    tokens = store.get_tokens()
    assert len(tokens) == 1
    assert tokens[0].get_access_token() == "a4"


def test_a_token_with_an_id_updates_that_row_even_under_a_new_signature(store: PeeweeTokenStore) -> None:
    first = OAuthToken(client_id="c1", client_secret="s1", refresh_token="r1")
    store.save_token(first)
    moved = OAuthToken(id=first.get_id(), access_token="a2", user_signature=UserSignature("new@acme.test:1"))

    store.save_token(moved)

    [only] = store.get_tokens()
    assert only.get_id() == first.get_id()
    assert only.get_user_signature().get_name() == "new@acme.test:1"
    assert (only.get_refresh_token(), only.get_access_token()) == ("r1", "a2")


def test_unknown_ids_are_sdk_errors_and_a_deleted_token_is_not_brought_back(store: PeeweeTokenStore) -> None:
    token = OAuthToken(client_id="c1", client_secret="s1", refresh_token="r1")
    store.save_token(token)
    store.delete_token(token.get_id())

    with pytest.raises(SDKException):
        store.find_token_by_id(token.get_id())
    with pytest.raises(SDKException):
        store.find_token_by_id("not-a-number")
    with pytest.raises(SDKException):
        store.delete_token(token.get_id())
    # The SDK saves after a refresh; a logout in between must stay a logout.
    token.set_access_token("a-after-logout")
    with pytest.raises(SDKException):
        store.save_token(token)
    assert store.get_tokens() == []


def test_a_signature_without_any_token_cannot_be_saved(store: PeeweeTokenStore) -> None:
    with pytest.raises(SDKException):
        store.save_token(OAuthToken(user_signature=UserSignature("ann@acme.test:111")))
    assert store.get_tokens() == []


def test_objects_that_are_not_oauth_tokens_pass_through(store: PeeweeTokenStore) -> None:
    marker = object()
    assert store.find_token(marker) is marker
    store.save_token(marker)
    assert store.get_tokens() == []


def test_the_sdk_finds_a_bot_connection_by_its_user_signature_and_refreshes_it_in_place(
    store: PeeweeTokenStore,
) -> None:
    identity = ChatIdentity("T1", "U1")
    connection = save_sample_connection(store, identity, access_token="a-old")

    found = store.find_token(OAuthToken(user_signature=UserSignature(connection.user_signature)))
    found.set_access_token("a-new")
    found.set_expires_in("1900000009999")
    store.save_token(found)

    assert found.get_id() == connection.id
    after = store.connections.get(identity)
    assert after.id == connection.id and after.org_name == "Acme" and after.zoho_email == "ann@acme.test"
    assert store.connections.secrets(connection.id).access_token == "a-new"
    assert store.find_token_by_id(connection.id).get_expires_in() == "1900000009999"
    assert len(store.get_tokens()) == 1


def test_delete_tokens_forgets_bot_connections_too(store: PeeweeTokenStore) -> None:
    save_sample_connection(store, ChatIdentity("T1", "U1"))
    store.delete_tokens()
    assert store.connections.get(ChatIdentity("T1", "U1")) is None
