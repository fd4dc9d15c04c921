"""The writers of one process take their turns on an SQLite file in the order they came, an ack's write first,
and none waits for ever."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from store import PeeweeTokenStore
from store.writer_turns import WriterTurns

from .conftest import FakeClock

PATIENT_S = 30.0  # far beyond anything these tests wait for: only a broken line would use it up


def wait_until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.005)


class Writers:
    """Threads that each take a turn, note their name when they have it, and let it go."""

    def __init__(self, turns: WriterTurns) -> None:
        self.turns = turns
        self.order: list[str] = []
        self.had_turn: dict[str, bool] = {}
        self.threads: list[threading.Thread] = []

    def come(self, name: str, *, urgent: bool = False, timeout: float = PATIENT_S) -> None:
        """Start a writer and return once it waits in line (or has its turn)."""
        before = self.turns.waiting

        def write() -> None:
            with self.turns.turn(timeout, urgent=urgent) as had_turn:
                self.order.append(name)
                self.had_turn[name] = had_turn

        thread = threading.Thread(target=write)
        thread.start()
        self.threads.append(thread)
        wait_until(lambda: self.turns.waiting > before or name in self.order)

    def finish(self) -> None:
        for thread in self.threads:
            thread.join(PATIENT_S)
            assert not thread.is_alive()


def test_writers_waiting_get_their_turns_in_the_order_they_came() -> None:
    turns, release = WriterTurns(), threading.Event()
    held_until(turns, release)
    writers = Writers(turns)
    for name in ("first", "second", "third", "fourth", "fifth"):
        writers.come(name)

    release.set()
    writers.finish()

    assert writers.order == ["first", "second", "third", "fourth", "fifth"]


def test_a_write_an_ack_waits_on_goes_ahead_of_the_writers_already_waiting() -> None:
    turns, release = WriterTurns(), threading.Event()
    held_until(turns, release)
    writers = Writers(turns)
    for name in ("lease 1", "lease 2", "lease 3"):
        writers.come(name)
    writers.come("replay check", urgent=True)
    writers.come("lease 4")

    release.set()
    writers.finish()

    assert writers.order == ["replay check", "lease 1", "lease 2", "lease 3", "lease 4"]


def test_a_turn_is_taken_again_by_the_thread_that_holds_it() -> None:
    turns = WriterTurns()
    with turns.turn(PATIENT_S) as outer, turns.turn(0.01) as inner:
        assert (outer, inner) == (True, True)
    writers = Writers(turns)
    writers.come("after")  # the nested turns were all given back
    writers.finish()
    assert writers.had_turn == {"after": True}


def test_a_writer_that_waited_too_long_goes_on_without_its_turn_and_the_line_still_moves() -> None:
    turns, release = WriterTurns(), threading.Event()
    held_until(turns, release)
    writers = Writers(turns)
    writers.come("patient")
    writers.come("impatient", urgent=True, timeout=0.2)  # in the lane ahead, and it gives up

    wait_until(lambda: "impatient" in writers.order)
    assert writers.had_turn["impatient"] is False  # it went on, and SQLite's own wait would decide
    assert "patient" not in writers.order
    release.set()
    writers.finish()
    assert writers.had_turn["patient"] is True


def test_a_writer_coming_back_at_once_waits_behind_those_already_in_line() -> None:
    turns, release, again = WriterTurns(), threading.Event(), threading.Event()
    order: list[str] = []

    def busy_writer() -> None:  # writes, and at once writes again: the others' turns come first
        with turns.turn(PATIENT_S):
            again.set()
            release.wait(PATIENT_S)
        with turns.turn(PATIENT_S):
            order.append("busy writer again")

    busy = threading.Thread(target=busy_writer)
    busy.start()
    assert again.wait(PATIENT_S)
    writers = Writers(turns)
    writers.order = order
    writers.come("first")
    writers.come("second")

    release.set()
    busy.join(PATIENT_S)
    writers.finish()

    assert order == ["first", "second", "busy writer again"]


def held_until(turns: WriterTurns, release: threading.Event) -> None:
    """Another thread takes the turn and keeps it until `release` is set; returns once it has it."""
    holding = threading.Event()

    def hold() -> None:
        with turns.turn(PATIENT_S):
            holding.set()
            release.wait(PATIENT_S)

    threading.Thread(target=hold).start()
    assert holding.wait(PATIENT_S)


@pytest.mark.backends("sqlite")
def test_on_sqlite_the_replay_check_before_an_ack_is_not_stuck_behind_a_burst_of_slot_writes(
    store: PeeweeTokenStore, clock: FakeClock
) -> None:
    database, release, holding = store._database, threading.Event(), threading.Event()  # its writers are the point
    turns = database._writer_turns
    assert turns is not None
    done: list[str] = []

    def long_write() -> None:
        database.run(lambda: holding.set() or release.wait(PATIENT_S), write=True)

    def take_slot(n: int) -> None:
        store.org_slots.acquire("org-1", 100, 60)
        done.append(f"slot {n}")

    def replay_check() -> None:
        assert store.seen_requests.first_sighting("v0=" + "c3" * 32, int((clock.now + 300) * 1000)) is True
        done.append("replay check")

    threads = [threading.Thread(target=long_write)]
    threads[0].start()
    assert holding.wait(PATIENT_S)
    for n in range(5):
        threads.append(threading.Thread(target=take_slot, args=(n,)))
        threads[-1].start()
        wait_until(lambda n=n: turns.waiting == n + 1)
    threads.append(threading.Thread(target=replay_check))
    threads[-1].start()
    wait_until(lambda: turns.waiting == 6)

    release.set()
    for thread in threads:
        thread.join(PATIENT_S)

    assert done == ["replay check", "slot 0", "slot 1", "slot 2", "slot 3", "slot 4"]


@pytest.mark.backends("sqlite")
def test_on_sqlite_a_write_inside_a_transaction_does_not_wait_for_a_turn_it_cannot_get(
    store: PeeweeTokenStore, clock: FakeClock
) -> None:
    """A writer that waited too long for its turn went on and holds the file's write lock: its transaction's own
    writes must not queue behind the thread with the turn, which is waiting for that very lock."""
    database, release = store._database, threading.Event()
    turns = database._writer_turns
    assert turns is not None
    held_until(turns, release)  # the turn is someone else's for the whole test
    finished: list[bool] = []

    def without_its_turn() -> None:
        with database.db.atomic("IMMEDIATE"):  # as after giving up on the turn: the write lock, no turn
            finished.append(store.seen_requests.first_sighting("v0=" + "d4" * 32, int((clock.now + 300) * 1000)))

    writer = threading.Thread(target=without_its_turn)
    writer.start()
    writer.join(10)
    release.set()

    assert finished == [True]  # done while the turn was still held elsewhere, not after it
