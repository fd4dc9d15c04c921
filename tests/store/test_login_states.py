"""A login link's state is bound to one chat identity, single-use, and expires."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from store import (
    ChatIdentity,
    LoginStateError,
    LoginStateExpired,
    LoginStateStale,
    LoginStateUnknown,
    LoginStateUsed,
    LoginStateVoided,
    PeeweeTokenStore,
)
from tests.store.sample_connections import sample_connection

from .conftest import Backend, FakeClock

ANN = ChatIdentity("T0001", "U0001")
BOB = ChatIdentity("T0001", "U0002")


def test_a_state_leads_back_to_the_identity_it_was_sent_to(store: PeeweeTokenStore) -> None:
    ann_state = store.login_states.issue(ANN)
    bob_state = store.login_states.issue(BOB)

    assert store.login_states.peek(ann_state) == ANN
    assert store.login_states.peek(ann_state) == ANN, "peeking does not use the state up"
    assert store.login_states.consume(bob_state) == BOB
    assert store.login_states.consume(ann_state) == ANN


def test_states_are_long_random_and_url_safe(store: PeeweeTokenStore) -> None:
    states = {store.login_states.issue(ANN) for _ in range(50)}

    assert len(states) == 50
    for state in states:
        assert len(state) >= 22  # 22 url-safe base64 characters carry 128 bits
        assert set(state) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_state_works_once(store: PeeweeTokenStore) -> None:
    state = store.login_states.issue(ANN)
    store.login_states.consume(state)

    with pytest.raises(LoginStateUsed):
        store.login_states.consume(state)
    with pytest.raises(LoginStateUsed):
        store.login_states.peek(state)


def test_a_state_expires_after_its_lifetime(store: PeeweeTokenStore, clock: FakeClock) -> None:
    state = store.login_states.issue(ANN, ttl_seconds=600)
    clock.advance(599)
    assert store.login_states.peek(state) == ANN

    clock.advance(1)

    with pytest.raises(LoginStateExpired):
        store.login_states.peek(state)
    with pytest.raises(LoginStateExpired):
        store.login_states.consume(state)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),
        lambda s: s + "x",
        lambda s: s[1:],
        lambda s: "",
        lambda s: "x" * 10_000,
        lambda s: "' OR 1=1; --",
    ],
    ids=["last-char", "appended", "shortened", "empty", "huge", "sql"],
)
def test_an_altered_or_unknown_state_is_refused(store: PeeweeTokenStore, tamper) -> None:
    state = store.login_states.issue(ANN)

    with pytest.raises(LoginStateUnknown):
        store.login_states.peek(tamper(state))
    with pytest.raises(LoginStateUnknown):
        store.login_states.consume(tamper(state))
    assert store.login_states.consume(state) == ANN, "the real state is untouched"


def test_eight_threads_racing_for_one_state_let_exactly_one_win(backend: Backend, clock: FakeClock) -> None:
    issuer = backend.open(clock=clock)
    state = issuer.login_states.issue(ANN)
    # Separate stores too: separate connections, as separate processes would have.
    stores = [issuer, backend.open(clock=clock)]
    start = threading.Barrier(8)

    def race(index: int) -> str:
        start.wait()
        try:
            return repr(stores[index % 2].login_states.consume(state))
        except LoginStateError as refused:
            return type(refused).__name__

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(race, range(8)))

    assert outcomes == sorted([repr(ANN)] + ["LoginStateUsed"] * 7)


def test_the_state_itself_is_not_stored(store: PeeweeTokenStore) -> None:
    state = store.login_states.issue(ANN)
    rows = list(store._database.models.login_state.select().dicts())  # the raw rows are the point here

    assert len(rows) == 1
    assert state not in repr(rows)


def test_an_undo_token_undoes_its_connection_once_and_opens_no_login(store: PeeweeTokenStore) -> None:
    connection, _ = store.connections.save(ANN, sample_connection())
    token = store.login_states.issue_undo(ANN, connection.id)

    with pytest.raises(LoginStateUnknown):
        store.login_states.peek(token)
    with pytest.raises(LoginStateUnknown):
        store.login_states.consume(token)
    assert store.login_states.redeem_undo(token) == (ANN, connection.id)
    with pytest.raises(LoginStateUsed):
        store.login_states.redeem_undo(token)


def test_a_login_state_is_no_undo_token(store: PeeweeTokenStore) -> None:
    store.connections.save(ANN, sample_connection())
    state = store.login_states.issue(ANN)

    with pytest.raises(LoginStateUnknown):
        store.login_states.redeem_undo(state)
    assert store.login_states.consume(state) == ANN


def test_an_undo_token_is_stale_once_the_connection_holds_another_token(store: PeeweeTokenStore) -> None:
    connection, _ = store.connections.save(ANN, sample_connection())
    token = store.login_states.issue_undo(ANN, connection.id)
    again, _ = store.connections.save(ANN, sample_connection(refresh_token="1000.refresh-token-value-0002"))
    assert again.id == connection.id  # the same row, a newer login

    with pytest.raises(LoginStateStale):
        store.login_states.redeem_undo(token)
    with pytest.raises(LoginStateStale):
        store.login_states.issue_undo(BOB, connection.id)  # not Bob's connection


def test_connecting_or_logging_out_voids_every_open_value_of_that_person_only(store: PeeweeTokenStore) -> None:
    connection, _ = store.connections.save(ANN, sample_connection())
    used = store.login_states.issue(ANN)
    store.login_states.consume(used)
    open_link, undo, bobs = (
        store.login_states.issue(ANN),
        store.login_states.issue_undo(ANN, connection.id),
        store.login_states.issue(BOB),
    )

    assert store.login_states.void_open(ANN) == 2

    with pytest.raises(LoginStateVoided):
        store.login_states.consume(open_link)
    with pytest.raises(LoginStateVoided):
        store.login_states.redeem_undo(undo)
    with pytest.raises(LoginStateUsed):
        store.login_states.peek(used)
    assert store.login_states.consume(bobs) == BOB


def test_the_browser_binding_is_keyed_and_per_stage(backend: Backend) -> None:
    store = backend.open()
    state = store.login_states.issue(ANN)
    binding = store.login_states.browser_binding(state, "continued")

    assert binding == store.login_states.browser_binding(state, "continued")
    assert binding != store.login_states.browser_binding(state, "seen")
    assert binding != hashlib.sha256(state.encode()).hexdigest()
    assert binding != store.login_states.browser_binding(state + "x", "continued")
    stored = [row.state_hash for row in store._database.models.login_state.select()]  # the raw rows are the point
    assert binding not in stored


def test_a_new_login_link_voids_the_persons_older_ones_and_hands_back_the_old_links_message(
    store: PeeweeTokenStore,
) -> None:
    first = store.login_states.issue(ANN)
    assert store.login_states.sent(first, "D0ANN", "1.000001") is None
    bobs = store.login_states.issue(BOB)
    second = store.login_states.issue(ANN)

    assert store.login_states.sent(second, "D0ANN", "1.000002") == ("D0ANN", "1.000001")
    with pytest.raises(LoginStateVoided):
        store.login_states.consume(first)
    assert store.login_states.peek(bobs) == BOB  # another person's link stays
    third = store.login_states.issue(ANN)
    assert store.login_states.sent(third, "D0ANN", "1.000003") == ("D0ANN", "1.000002")  # each taken down once


def test_the_command_a_link_carried_opens_once_for_that_person_after_the_login(
    store: PeeweeTokenStore, clock: FakeClock
) -> None:
    plain = store.login_states.issue(BOB)
    state = store.login_states.issue(ANN, command="list acme")
    assert store.login_states.offer_resume(state) is None  # not logged in yet
    store.login_states.consume(state)
    store.login_states.consume(plain)
    assert store.login_states.offer_resume(plain) is None  # it carried no command

    resume_id = store.login_states.offer_resume(state)
    assert resume_id and store.login_states.offer_resume(state) is None  # offered once

    assert store.login_states.resume(resume_id, BOB) is None  # not Bob's: nothing used up
    assert store.login_states.resume(resume_id, ANN) == "list acme"
    assert store.login_states.resume(resume_id, ANN) is None  # once
    stored = [row.command_enc for row in store._database.models.login_state.select()]  # the raw rows are the point
    assert all("acme" not in (value or "") for value in stored)


def test_the_command_offer_expires(store: PeeweeTokenStore, clock: FakeClock) -> None:
    state = store.login_states.issue(ANN, command="list")
    store.login_states.consume(state)
    resume_id = store.login_states.offer_resume(state, ttl_seconds=600)
    clock.advance(601)

    assert resume_id and store.login_states.resume(resume_id, ANN) is None


def test_a_new_link_without_a_command_keeps_offering_the_command_the_voided_one_kept(store: PeeweeTokenStore) -> None:
    kept = store.login_states.issue(ANN, command="create last=Doe")
    again = store.login_states.issue(ANN)  # `/lead login` after the command typed while not connected

    with pytest.raises(LoginStateError):
        store.login_states.consume(kept)  # the old link is void
    store.login_states.consume(again)
    resume_id = store.login_states.offer_resume(again)
    assert resume_id and store.login_states.resume(resume_id, ANN) == "create last=Doe"

    store.login_states.issue(BOB, command="list")
    newer = store.login_states.issue(BOB, command="show 1")  # a command typed since wins over the older one
    store.login_states.consume(newer)
    assert store.login_states.resume(store.login_states.offer_resume(newer), BOB) == "show 1"
