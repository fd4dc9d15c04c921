"""Admission of commands: a few at a time, oldest first, one person never takes every slot, a flood narrows the
gate, whoever waits too long is turned away rather than left hanging (at once, when the queue ahead clearly could
not move in time), and a shutdown tells those still waiting."""

from __future__ import annotations

import asyncio

import pytest

from bot.admission import Admission
from bot.limits import AdmissionLimits
from bot.tasks import BackgroundTasks


class Queue(Admission):
    """The admission queue with its own tasks, paired as the composition root pairs them."""

    def __init__(self, **limits: float) -> None:
        self.tasks = BackgroundTasks()
        super().__init__(self.tasks, AdmissionLimits(**limits))  # type: ignore[arg-type]

    @property
    def running(self) -> int:
        return self.tasks.running

    async def drain(self, timeout: float) -> int:
        """What a shutdown does: stop admitting, then wait for what runs."""
        self.close()
        return await self.tasks.drain(timeout)


class Gauge:
    """Submits commands that hold a slot for a while; records how many ran at once and what became of each."""

    def __init__(self, work: Queue) -> None:
        self.work = work
        self.now = 0
        self.most = 0
        self.outcomes: dict[str, str] = {}
        self.waited: dict[str, float] = {}
        self.started: list[str] = []

    def submit(self, key: str, label: str, seconds: float) -> None:
        async def run(waited: float) -> None:
            self.started.append(label)
            self.waited[label] = waited
            self.now += 1
            self.most = max(self.most, self.now)
            try:
                await asyncio.sleep(seconds)
            finally:
                self.now -= 1
            self.outcomes[label] = "done"

        async def turned_away() -> None:
            self.outcomes[label] = "turned away"

        self.work.submit(key, run, turned_away, name=label)

    async def settled(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.outcomes) < count:
                await asyncio.sleep(0.01)


async def test_at_most_max_active_work_at_once_and_the_rest_wait_their_turn_oldest_first() -> None:
    gauge = Gauge(Queue(max_active=3, max_wait_s=5.0, max_per_person=10, flood_per_second=1000))

    for n in range(10):
        gauge.submit(f"U{n}", f"c{n}", 0.05)
    await gauge.settled(10)

    assert set(gauge.outcomes.values()) == {"done"} and gauge.most == 3
    assert gauge.started == [f"c{n}" for n in range(10)]
    assert gauge.waited["c0"] < 0.01 <= gauge.waited["c9"]  # the wait is measured and handed to the work


async def test_one_key_holds_at_most_its_share_and_others_pass_it() -> None:
    gauge = Gauge(Queue(max_active=10, max_wait_s=5.0, max_per_person=2, flood_per_second=1000))
    ann, bob = Gauge(gauge.work), Gauge(gauge.work)

    for n in range(6):
        ann.submit("ann", f"ann{n}", 0.1)
    bob.submit("bob", "bob0", 0.01)
    await bob.settled(1, timeout=0.5)  # Bob came after six of Ann's and is not behind them
    await ann.settled(6)

    assert ann.most == 2 and bob.outcomes == {"bob0": "done"}


async def test_waiting_longer_than_max_wait_is_turned_away_and_never_runs() -> None:
    gauge = Gauge(Queue(max_active=1, max_wait_s=0.2, max_per_person=10, flood_per_second=1000))

    gauge.submit("a", "slow", 0.6)
    gauge.submit("b", "late", 0.01)
    await gauge.settled(1, timeout=0.45)

    assert gauge.outcomes == {"late": "turned away"} and gauge.work.turned_away == 1
    await gauge.settled(2)
    assert gauge.outcomes["slow"] == "done" and gauge.started == ["slow"] and gauge.work.waiting == 0


async def test_in_a_flood_new_work_starts_only_while_few_are_working() -> None:
    work = Queue(max_active=4, max_wait_s=5.0, max_per_person=100, max_active_in_flood=1, flood_per_second=5)
    early, flood = Gauge(work), Gauge(work)

    # The first four arrive before the flood is recognised; the next six arrive in it.
    for n in range(4):
        early.submit(f"E{n}", f"E{n}", 0.1)
    for n in range(6):
        flood.submit(f"F{n}", f"F{n}", 0.02)
    await early.settled(4)
    await flood.settled(6)

    assert set(early.outcomes.values()) == set(flood.outcomes.values()) == {"done"}
    assert early.most == 4 and flood.most == 1
    assert min(flood.waited.values()) >= 0.09  # none started beside the early four


@pytest.mark.parametrize("error", [ValueError, asyncio.CancelledError])
async def test_a_slot_is_given_back_whatever_happens_inside(error: type[BaseException]) -> None:
    work = Queue(max_active=1, max_wait_s=0.5, max_per_person=1, flood_per_second=1000)
    ran: list[str] = []

    async def fails(_waited: float) -> None:
        ran.append("fails")
        raise error()

    async def next_one(_waited: float) -> None:
        ran.append("next")

    async def never() -> None:
        ran.append("turned away")

    work.submit("ann", fails, never, name="fails")
    work.submit("ann", next_one, never, name="next")
    async with asyncio.timeout(2):
        while len(ran) < 2:
            await asyncio.sleep(0.01)

    assert ran == ["fails", "next"]  # neither the global nor Ann's slot leaked


async def test_a_shutdown_tells_whoever_is_still_waiting_and_finishes_the_running() -> None:
    gauge = Gauge(Queue(max_active=1, max_wait_s=30.0, max_per_person=10, flood_per_second=1000))
    gauge.submit("a", "running", 0.2)
    gauge.submit("b", "waiting", 0.01)
    await asyncio.sleep(0.05)

    cut = await gauge.work.drain(timeout=5.0)

    assert cut == 0 and gauge.outcomes == {"running": "done", "waiting": "turned away"}
    assert not gauge.work.has_room("c")  # the command handler tells a newcomer at once
    gauge.submit("c", "after", 0.01)  # and one submitted anyway during the shutdown is not started
    await gauge.settled(3)
    assert gauge.outcomes["after"] == "turned away"


async def idle(work: Queue) -> None:
    """Until no work runs: every finished command counted."""
    async with asyncio.timeout(5):
        while work.running:
            await asyncio.sleep(0.01)


def fill_while_room(gauge: Gauge, key: str, seconds: float = 0.01) -> int:
    """Submit commands of `key` for as long as the door says there is room; how many got in."""
    admitted = 0
    while gauge.work.has_room(key):
        gauge.submit(key, f"{key}{admitted}", seconds)
        admitted += 1
        assert admitted < 1000
    return admitted


async def test_before_any_command_finished_nobody_is_turned_away_at_the_door() -> None:
    work = Queue(max_active=1, max_wait_s=0.5, max_per_person=1, flood_per_second=1000)
    gauge = Gauge(work)
    gauge.submit("a", "running", 0.7)

    for n in range(50):  # no pace known yet: all of them wait for their turn as before
        assert work.has_room("a")
        gauge.submit("a", f"a{n}", 0.01)
    await gauge.settled(51)

    assert gauge.outcomes["running"] == "done" and work.turned_away == 50 and work.turned_away_at_door == 0


async def test_once_the_pace_is_known_who_could_not_start_in_time_is_told_at_the_door(
    caplog: pytest.LogCaptureFixture,
) -> None:
    work = Queue(max_active=1, max_wait_s=0.5, max_per_person=100, flood_per_second=1000)
    gauge = Gauge(work)
    gauge.submit("a", "first", 0.1)
    await idle(work)  # commands take 0.1 s: one slot starts 5 within 0.5 s; twice that may wait
    gauge.submit("a", "running", 1.0)

    admitted = fill_while_room(gauge, "b")

    assert 5 <= admitted <= 10  # 10 at exactly 0.1 s a command; fewer if the machine made it slower
    assert not work.has_room("c")  # the queue is everyone's: a newcomer would wait behind the same ones
    for _ in range(500):  # what the command handler does for each one it tells at once
        work.turn_away_at_door("/lead list")
    logged = [r.getMessage() for r in caplog.records if "turned away at once" in r.getMessage()]
    assert work.turned_away_at_door == 500 and len(logged) == 1  # a flood is logged in summary, not line by line
    await gauge.settled(2 + admitted)  # those let in waited their 0.5 s behind "running" and were told then
    assert work.has_room("c")  # the queue is empty again


async def test_one_persons_long_queue_closes_the_door_to_them_and_not_to_others() -> None:
    work = Queue(max_active=4, max_wait_s=0.5, max_per_person=1, flood_per_second=1000)
    gauge = Gauge(work)
    gauge.submit("ann", "first", 0.1)
    await idle(work)  # 0.1 s a command: Ann's one slot starts 5 within 0.5 s; four slots start 20
    gauge.submit("ann", "running", 1.0)

    admitted = fill_while_room(gauge, "ann")

    assert 5 <= admitted <= 10  # 10 at exactly 0.1 s a command; fewer if the machine made it slower
    assert work.has_room("bob")
    await gauge.settled(2 + admitted)
