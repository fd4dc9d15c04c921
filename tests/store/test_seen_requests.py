"""A Slack request's signature is accepted once, by every store on the database, and forgotten once stale."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from store import PeeweeTokenStore
from store.seen_requests import SWEEP_EVERY

from .conftest import Backend, FakeClock

SIGNATURE = "v0=" + "a1" * 32


def in_five_minutes(clock: FakeClock) -> int:
    return int((clock.now + 300) * 1000)


def test_a_signature_is_accepted_once(store: PeeweeTokenStore, clock: FakeClock) -> None:
    assert store.seen_requests.first_sighting(SIGNATURE, in_five_minutes(clock)) is True
    assert store.seen_requests.first_sighting(SIGNATURE, in_five_minutes(clock)) is False
    assert store.seen_requests.first_sighting("v0=" + "b2" * 32, in_five_minutes(clock)) is True


def test_another_store_on_the_same_database_refuses_it_too(backend: Backend, clock: FakeClock) -> None:
    one, other = backend.open(clock=clock), backend.open(clock=clock)

    assert one.seen_requests.first_sighting(SIGNATURE, in_five_minutes(clock)) is True
    assert other.seen_requests.first_sighting(SIGNATURE, in_five_minutes(clock)) is False


def test_of_many_at_once_exactly_one_is_first(backend: Backend, clock: FakeClock) -> None:
    stores = [backend.open(clock=clock) for _ in range(2)]
    start = threading.Barrier(8)

    def try_once(n: int) -> bool:
        start.wait()
        return stores[n % 2].seen_requests.first_sighting(SIGNATURE, in_five_minutes(clock))

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(try_once, range(8)))

    assert outcomes.count(True) == 1


def test_stale_signatures_are_deleted_by_later_ones_a_batch_at_a_time_not_on_every_request(
    store: PeeweeTokenStore, clock: FakeClock
) -> None:
    for n in range(120):
        store.seen_requests.first_sighting(f"v0=old-{n}", in_five_minutes(clock))
    clock.advance(301)

    store.seen_requests.first_sighting("v0=new-0", in_five_minutes(clock))
    assert remembered(store) == 121  # no sweep query on this request
    for n in range(1, 3 * SWEEP_EVERY):
        store.seen_requests.first_sighting(f"v0=new-{n}", in_five_minutes(clock))
    assert remembered(store) == 3 * SWEEP_EVERY  # three sweeps of at most 50 took the 120 stale ones, none new


def remembered(store: PeeweeTokenStore) -> int:
    return store._database.models.seen_request.select().count()  # how many rows is what this test is about
