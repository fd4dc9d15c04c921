"""`org_slots`: Zoho calls in flight per org, counted as leases in the shared database. At most the limit per
org, whoever asks (threads, stores, processes); a released or expired lease frees its slot; a process killed
while holding slots does not leak them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.zoho.org_slots import OrgSlots

from .conftest import Backend, FakeClock

REPO = Path(__file__).resolve().parents[2]


def test_at_most_the_limit_per_org_and_other_orgs_are_counted_apart(backend: Backend) -> None:
    store = backend.open()
    slots = store.org_slots

    acme = [slots.acquire("acme", 3, 30) for _ in range(4)]
    globex = slots.acquire("globex", 3, 30)

    assert None not in [asked.lease for asked in acme[:3]] and acme[3].lease is None and globex.lease is not None
    slots.release("acme", acme[0].lease)
    assert slots.in_flight("acme") == 2 and slots.acquire("acme", 3, 30, acme[3].ticket).lease is not None


def test_an_expired_lease_stops_counting_and_renewal_keeps_live_ones(backend: Backend) -> None:
    clock = FakeClock()
    store = backend.open(clock=clock)
    other = backend.open(clock=clock)  # another process's store: its own holder
    mine = store.org_slots.acquire("acme", 2, 10).lease
    theirs = other.org_slots.acquire("acme", 2, 10).lease
    refused = store.org_slots.acquire("acme", 2, 10)
    assert mine is not None and theirs is not None and refused.lease is None

    clock.advance(6)
    assert store.org_slots.renew([mine], 10) == 1
    clock.advance(6)  # theirs is 12 s old, never renewed; mine was renewed 6 s ago

    assert store.org_slots.in_flight("acme") == 1
    assert other.org_slots.renew([theirs], 10) == 0  # an expired lease is not revived
    assert store.org_slots.acquire("acme", 2, 10, refused.ticket).lease is not None


def test_many_threads_on_two_stores_never_hold_more_than_the_limit(backend: Backend) -> None:
    stores = [backend.open(), backend.open()]
    held: list[int] = []
    most = 0

    def call(n: int) -> None:
        nonlocal most
        store = stores[n % 2]
        lease, ticket = store.org_slots.acquire("acme", 4, 30)
        while lease is None:
            time.sleep(0.002)
            lease, ticket = store.org_slots.acquire("acme", 4, 30, ticket)
        held.append(lease)
        most = max(most, store.org_slots.in_flight("acme"))
        time.sleep(0.01)
        held.remove(lease)
        store.org_slots.release("acme", lease)

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(call, range(60)))

    assert most <= 4 and stores[0].org_slots.in_flight("acme") == 0


HOLDER = """
import sys, time
from store import PeeweeTokenStore
store = PeeweeTokenStore(sys.argv[1], sys.argv[2] or None)
leases = [store.org_slots.acquire("acme", 5, float(sys.argv[3])).lease for _ in range(3)]
print("held" if None not in leases else "refused", flush=True)
while True:
    store.org_slots.renew(leases, float(sys.argv[3]))  # calls still running: their leases are kept alive
    time.sleep(0.2)
"""


def start_process(script: str, backend: Backend, lease_s: float) -> subprocess.Popen[str]:
    """Another process on the backend's database running `script`, its lines readable from stdout."""
    return subprocess.Popen(
        [sys.executable, "-c", script, backend.url, backend.key or "", str(lease_s)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_a_process_killed_while_holding_slots_does_not_leak_them(backend: Backend) -> None:
    store = backend.open()
    lease_s = 1.5
    holder = start_process(HOLDER, backend, lease_s)
    try:
        assert holder.stdout.readline().strip() == "held"
        time.sleep(lease_s + 0.5)  # renewed meanwhile: still held, past their first expiry
        assert store.org_slots.in_flight("acme") == 3 and store.org_slots.acquire("acme", 5, 30).lease is not None
        assert store.org_slots.acquire("acme", 5, 30).lease is not None
        refused = store.org_slots.acquire("acme", 5, 30)
        assert refused.lease is None
        store.org_slots.cancel("acme", refused.ticket)  # this caller gives up: its place in line keeps nobody waiting
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(20)
        holder.stdout.close()

    deadline = time.monotonic() + 30
    while store.org_slots.in_flight("acme") > 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.org_slots.in_flight("acme") == 2  # the killed process's three expired; this one's two remain
    assert [store.org_slots.acquire("acme", 5, 30).lease is not None for _ in range(4)] == [True, True, True, False]


def test_a_slot_given_back_goes_to_the_oldest_waiter_of_another_process_not_to_the_givers_next_call(
    backend: Backend,
) -> None:
    giver, other = backend.open().org_slots, backend.open().org_slots
    held = [giver.acquire("acme", 2, 30).lease for _ in range(2)]
    theirs = other.acquire("acme", 2, 30)  # every slot taken: in line, first
    mine = giver.acquire("acme", 2, 30)  # the giver's next call: in line, second
    assert None not in held and theirs.lease is None and mine.lease is None and other.waiting("acme") == 2

    giver.release("acme", held[0])

    assert giver.acquire("acme", 2, 30, mine.ticket).lease is None  # asks first, but the other waited longer
    assert giver.acquire("acme", 2, 30).ticket not in (None, mine.ticket)  # a newcomer goes to the end of the line
    granted = other.acquire("acme", 2, 30, theirs.ticket)
    assert granted.lease is not None and granted.ticket is None and giver.in_flight("acme") == 2


def test_a_waiter_that_stops_renewing_keeps_nobody_waiting_past_its_expiry_and_one_that_leaves_at_once(
    backend: Backend,
) -> None:
    clock = FakeClock()
    giver, gone, renewing = (backend.open(clock=clock).org_slots for _ in range(3))
    held = [giver.acquire("acme", 2, 10).lease for _ in range(2)]
    dead = gone.acquire("acme", 2, 10)  # its process is killed while it waits: never renewed, never cancelled
    alive = renewing.acquire("acme", 2, 10)
    clock.advance(6)
    giver.renew(held, 10)
    renewing.renew([], 10, [alive.ticket])
    giver.release("acme", held[0])
    mine = giver.acquire("acme", 2, 10)
    assert giver.acquire("acme", 2, 10, mine.ticket).lease is None  # both others have waited longer

    clock.advance(6)  # the dead waiter's ticket is 12 s old; the renewed one was renewed 6 s ago
    assert giver.waiting("acme") == 2  # the renewed one and the giver's own
    renewing.cancel("acme", alive.ticket)  # it stops waiting
    assert dead.ticket is not None and giver.acquire("acme", 2, 10, mine.ticket).lease is not None
    assert giver.waiting("acme") == 0


ASKER = """
import sys, time
from store import PeeweeTokenStore
store = PeeweeTokenStore(sys.argv[1], sys.argv[2] or None)
asked = store.org_slots.acquire("acme", 1, float(sys.argv[3]))
print("waiting" if asked.ticket is not None else "granted", flush=True)
while True:
    store.org_slots.renew([], float(sys.argv[3]), [asked.ticket])  # still waiting: its place in line is kept
    time.sleep(0.2)
"""


def test_a_process_killed_while_waiting_in_line_keeps_nobody_waiting_once_its_ticket_expires(
    backend: Backend,
) -> None:
    store = backend.open()
    lease_s = 1.5
    held = store.org_slots.acquire("acme", 1, 30).lease
    asker = start_process(ASKER, backend, lease_s)
    try:
        assert asker.stdout.readline().strip() == "waiting"
        store.org_slots.release("acme", held)
        time.sleep(lease_s + 0.5)  # renewed meanwhile: still first in line
        mine = store.org_slots.acquire("acme", 1, 30)
        assert mine.lease is None and store.org_slots.waiting("acme") == 2
    finally:
        asker.send_signal(signal.SIGKILL)
        asker.wait(20)
        asker.stdout.close()

    deadline = time.monotonic() + 30
    while (asked := store.org_slots.acquire("acme", 1, 30, mine.ticket)).lease is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert asked.lease is not None and store.org_slots.waiting("acme") == 0


async def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert condition()


async def test_two_workers_a_slot_one_gives_back_goes_to_the_others_older_call_not_to_its_own_newer_one(
    backend: Backend,
) -> None:
    stores = [backend.open(), backend.open()]  # two workers' stores on one database
    giver, other = (OrgSlots(2, store.org_slots, 15) for store in stores)
    held = [await giver.take("acme") for _ in range(2)]
    theirs = asyncio.create_task(other.take("acme"))
    await until(lambda: stores[0].org_slots.waiting("acme") == 1)  # the other worker's call waits for a slot
    mine = asyncio.create_task(giver.take("acme"))  # the giver's next call, waiting for the giver's own turn

    await asyncio.to_thread(giver.give_back, held[0])  # from the SDK job's thread, as when a call ends
    first, _ = await asyncio.wait([theirs, mine], return_when=asyncio.FIRST_COMPLETED)

    assert first == {theirs} and not mine.done()
    await asyncio.to_thread(giver.give_back, held[1])
    assert (await mine).org_key == "acme" and stores[0].org_slots.in_flight("acme") == 2
    for slots, slot in ((giver, mine.result()), (other, theirs.result())):
        await asyncio.to_thread(slots.give_back, slot)
        await slots.close()


async def test_a_call_that_gives_up_waiting_leaves_the_line_and_keeps_nobody_waiting(backend: Backend) -> None:
    stores = [backend.open(), backend.open()]
    giver, other = (OrgSlots(1, store.org_slots, 60) for store in stores)  # tickets outlive the wait below
    held = await giver.take("acme")
    gives_up = asyncio.create_task(other.take("acme"))
    await until(lambda: stores[0].org_slots.waiting("acme") == 1)

    gives_up.cancel()
    await asyncio.gather(gives_up, return_exceptions=True)
    await until(lambda: stores[0].org_slots.waiting("acme") == 0)
    await asyncio.to_thread(giver.give_back, held)
    again = await giver.take("acme")  # not held up by a call nobody waits for any more

    assert again.lease is not None and stores[0].org_slots.in_flight("acme") == 1
    await asyncio.to_thread(giver.give_back, again)
    await giver.close()
    await other.close()


async def test_a_workers_calls_beyond_its_own_turns_keep_their_place_in_line_too(backend: Backend) -> None:
    stores = [backend.open(), backend.open()]
    giver, other = (OrgSlots(2, store.org_slots, 15) for store in stores)
    held = [await giver.take("acme") for _ in range(2)]
    theirs = []
    for queued in range(1, 4):  # one more than the worker's own turns, lined up one after the other
        theirs.append(asyncio.create_task(other.take("acme")))
        await until(lambda queued=queued: stores[0].org_slots.waiting("acme") == queued)
    mine = asyncio.create_task(giver.take("acme"))  # the giver's next call, after all three
    for slot in held:
        await asyncio.to_thread(giver.give_back, slot)
    done, _ = await asyncio.wait(theirs[:2], timeout=30)
    assert done == set(theirs[:2])  # the two slots went to the other worker's two oldest calls
    await until(lambda: stores[0].org_slots.waiting("acme") == 2)  # its third call and the giver's are in line

    await asyncio.to_thread(other.give_back, theirs[0].result())
    first, _ = await asyncio.wait([theirs[2], mine], timeout=30, return_when=asyncio.FIRST_COMPLETED)

    assert first == {theirs[2]} and not mine.done()
    await asyncio.to_thread(other.give_back, theirs[1].result())
    await asyncio.wait_for(mine, 30)
    for slots, slot in ((giver, mine.result()), (other, theirs[2].result())):
        await asyncio.to_thread(slots.give_back, slot)
    await giver.close()
    await other.close()


def test_calls_of_several_busy_orgs_lining_up_at_once_all_get_their_place_in_line(backend: Backend) -> None:
    stores = [backend.open() for _ in range(8)]  # eight workers, each with calls of its own org, all orgs busy
    for n, store in enumerate(stores):
        assert store.org_slots.acquire(f"org{n}", 1, 60).lease is not None
    failed: list[str] = []

    def line_up_and_leave(n: int) -> None:
        slots = stores[n].org_slots
        for _ in range(30):
            try:
                asked = slots.acquire(f"org{n}", 1, 60)
                assert asked.ticket is not None
                slots.cancel(f"org{n}", asked.ticket)
            except Exception as exc:  # a database error: the person's command would fail
                failed.append(f"{type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(line_up_and_leave, range(8)))

    assert failed == [] and all(stores[0].org_slots.waiting(f"org{n}") == 0 for n in range(8))


def test_a_new_ticket_clears_the_orgs_expired_ones_from_the_table(backend: Backend) -> None:
    store = backend.open()
    slots = store.org_slots
    slots.acquire("acme", 1, 30)  # the org's one slot, taken
    slots.acquire("acme", 1, 0.2)  # a call in line whose process died: its ticket is never renewed
    slots.acquire("globex", 1, 30)
    elsewhere = slots.acquire("globex", 1, 0.2).ticket  # another org's, expired too
    time.sleep(0.5)

    newest = slots.acquire("acme", 1, 30).ticket

    rows = store._database.models.org_ticket  # the raw rows are the point: the table does not grow
    assert sorted(row.id for row in rows.select()) == sorted([elsewhere, newest])
