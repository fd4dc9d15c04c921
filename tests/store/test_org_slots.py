"""`org_slots`: Zoho calls in flight per org, counted as leases in the shared database. At most the limit per
org, whoever asks (threads, stores, processes); a released or expired lease frees its slot; a process killed
while holding slots does not leak them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .conftest import Backend, FakeClock

REPO = Path(__file__).resolve().parents[2]


def test_at_most_the_limit_per_org_and_other_orgs_are_counted_apart(backend: Backend) -> None:
    store = backend.open()
    slots = store.org_slots

    acme = [slots.acquire("acme", 3, 30) for _ in range(4)]
    globex = slots.acquire("globex", 3, 30)

    assert None not in acme[:3] and acme[3] is None and globex is not None
    slots.release("acme", acme[0])
    assert slots.in_flight("acme") == 2 and slots.acquire("acme", 3, 30) is not None


def test_an_expired_lease_stops_counting_and_renewal_keeps_live_ones(backend: Backend) -> None:
    clock = FakeClock()
    store = backend.open(clock=clock)
    other = backend.open(clock=clock)  # another process's store: its own holder
    mine = store.org_slots.acquire("acme", 2, 10)
    theirs = other.org_slots.acquire("acme", 2, 10)
    assert mine is not None and theirs is not None and store.org_slots.acquire("acme", 2, 10) is None

    clock.advance(6)
    assert store.org_slots.renew([mine], 10) == 1
    clock.advance(6)  # theirs is 12 s old, never renewed; mine was renewed 6 s ago

    assert store.org_slots.in_flight("acme") == 1
    assert other.org_slots.renew([theirs], 10) == 0  # an expired lease is not revived
    assert store.org_slots.acquire("acme", 2, 10) is not None


def test_many_threads_on_two_stores_never_hold_more_than_the_limit(backend: Backend) -> None:
    stores = [backend.open(), backend.open()]
    held: list[int] = []
    most = 0

    def call(n: int) -> None:
        nonlocal most
        store = stores[n % 2]
        while (lease := store.org_slots.acquire("acme", 4, 30)) is None:
            time.sleep(0.002)
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
leases = [store.org_slots.acquire("acme", 5, float(sys.argv[3])) for _ in range(3)]
print("held" if None not in leases else "refused", flush=True)
while True:
    store.org_slots.renew(leases, float(sys.argv[3]))  # calls still running: their leases are kept alive
    time.sleep(0.2)
"""


def test_a_process_killed_while_holding_slots_does_not_leak_them(backend: Backend) -> None:
    store = backend.open()
    lease_s = 1.5
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, backend.url, backend.key or "", str(lease_s)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        time.sleep(lease_s + 0.5)  # renewed meanwhile: still held, past their first expiry
        assert store.org_slots.in_flight("acme") == 3 and store.org_slots.acquire("acme", 5, 30) is not None
        assert store.org_slots.acquire("acme", 5, 30) is not None and store.org_slots.acquire("acme", 5, 30) is None
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(20)
        holder.stdout.close()

    deadline = time.monotonic() + 30
    while store.org_slots.in_flight("acme") > 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.org_slots.in_flight("acme") == 2  # the killed process's three expired; this one's two remain
    assert [store.org_slots.acquire("acme", 5, 30) is not None for _ in range(4)] == [True, True, True, False]
