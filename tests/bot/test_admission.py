"""Admission of work: round-robin across people, a person's own commands a few at a time and queued (not
refused), new starts held while the event loop lags, whoever waited too long told rather than left hanging, a
newcomer refused at the door only when at the recent pace it could not start in time, and a shutdown tells
those still waiting."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.admission import STARTS_PER_TICK, Admission
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
    """Submits work that holds its turn for a while (or until released); records what became of each."""

    def __init__(self, work: Queue) -> None:
        self.work = work
        self.now: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.outcomes: dict[str, str] = {}
        self.waited: dict[str, float] = {}
        self.started: list[str] = []
        self.release = asyncio.Event()

    def submit(self, key: str, label: str, seconds: float | None) -> None:
        """`seconds` None: hold the turn until `release` is set."""

        async def run(waited: float) -> None:
            self.started.append(label)
            self.waited[label] = waited
            self.now[key] = self.now.get(key, 0) + 1
            self.most[key] = max(self.most.get(key, 0), self.now[key])
            try:
                if seconds is None:
                    await self.release.wait()
                else:
                    await asyncio.sleep(seconds)
            finally:
                self.now[key] -= 1
            self.outcomes[label] = "done"

        async def turned_away() -> None:
            self.outcomes[label] = "turned away"

        self.work.submit(key, run, turned_away, name=label)

    async def settled(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.outcomes) < count:
                await asyncio.sleep(0.005)

    async def started_count(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.started) < count:
                await asyncio.sleep(0.005)


async def test_one_persons_burst_of_twenty_all_runs_two_at_a_time_and_anothers_command_goes_between() -> None:
    gauge = Gauge(Queue(per_person=2))

    for n in range(20):
        gauge.submit("ann", f"ann{n}", None)
    gauge.submit("bob", "bob0", None)
    await gauge.started_count(3)
    gauge.release.set()
    await gauge.settled(21)

    assert set(gauge.outcomes.values()) == {"done"} and gauge.work.turned_away == 0  # queued, not refused
    assert gauge.started[:3] == ["ann0", "ann1", "bob0"]  # Bob came after twenty of Ann's and is not behind them
    assert gauge.started[3:] == [f"ann{n}" for n in range(2, 20)]  # Ann's own, oldest first
    assert gauge.most["ann"] == 2


async def test_people_take_turns_round_robin() -> None:
    gauge = Gauge(Queue(per_person=1))
    gauge.submit("hold", "hold", None)  # keeps nobody from starting: each person runs one at a time anyway
    for n in range(3):
        gauge.submit("ann", f"ann{n}", 0.001)
    for n in range(3):
        gauge.submit("bob", f"bob{n}", 0.001)
    gauge.submit("cy", "cy0", 0.001)
    await gauge.started_count(8)
    gauge.release.set()
    await gauge.settled(8)

    others = [label for label in gauge.started if label != "hold"]
    assert others[:3] == ["ann0", "bob0", "cy0"]  # one each before anyone's second
    assert sorted(others[3:5]) == ["ann1", "bob1"] and sorted(others[5:]) == ["ann2", "bob2"]


async def test_a_burst_from_many_people_starts_a_few_per_tick_not_all_at_once() -> None:
    gauge = Gauge(Queue(per_person=2))

    for n in range(3 * STARTS_PER_TICK):
        gauge.submit(f"U{n}", f"c{n}", 0.001)
    started_at_once = gauge.work.active  # no await since: what started before the next tick
    await gauge.settled(3 * STARTS_PER_TICK)

    assert started_at_once == STARTS_PER_TICK and gauge.work.turned_away == 0  # the rest waited for later ticks
    assert gauge.work.active == 0 and len(gauge.started) == 3 * STARTS_PER_TICK


async def test_while_the_event_loop_lags_new_work_is_held_not_refused() -> None:
    work = Queue(per_person=2, loop_lag_s=0.05)
    gauge = Gauge(work)
    gauge.submit("ann", "running", None)  # keeps the lag being measured
    await gauge.started_count(1)
    time.sleep(0.12)  # something hogs the loop; the next tick finds it late
    async with asyncio.timeout(5):
        while work.lag < 0.05:
            await asyncio.sleep(0)

    gauge.submit("bob", "held", 0.001)
    held = work.waiting

    await gauge.settled(1)
    gauge.release.set()
    await gauge.settled(2)
    assert held == 1  # not started while the loop was behind
    assert gauge.outcomes == {"held": "done", "running": "done"} and work.turned_away == 0


async def test_waiting_longer_than_max_wait_is_turned_away_and_never_runs() -> None:
    gauge = Gauge(Queue(per_person=1, answer_within_s=0.2, max_wait_s=0.2))

    gauge.submit("a", "slow", None)
    gauge.submit("a", "late", 0.01)
    await gauge.settled(1)

    assert gauge.outcomes == {"late": "turned away"} and gauge.work.turned_away == 1
    gauge.release.set()
    await gauge.settled(2)
    assert gauge.outcomes["slow"] == "done" and gauge.started == ["slow"] and gauge.work.waiting == 0


@pytest.mark.parametrize("error", [ValueError, asyncio.CancelledError])
async def test_a_turn_is_given_back_whatever_happens_inside(error: type[BaseException]) -> None:
    work = Queue(per_person=1, max_wait_s=5.0)
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

    assert ran == ["fails", "next"]  # Ann's turn did not leak


async def test_a_shutdown_tells_whoever_is_still_waiting_and_finishes_the_running() -> None:
    gauge = Gauge(Queue(per_person=1, max_wait_s=30.0))
    gauge.submit("a", "running", 0.2)
    gauge.submit("a", "waiting", 0.01)
    await gauge.started_count(1)

    cut = await gauge.work.drain(timeout=5.0)

    assert cut == 0 and gauge.outcomes == {"running": "done", "waiting": "turned away"}
    assert gauge.work.try_again_in("c") is not None  # the command handler tells a newcomer at once
    gauge.submit("c", "after", 0.01)  # and one submitted anyway during the shutdown is not started
    await gauge.settled(3)
    assert gauge.outcomes["after"] == "turned away"


async def learn_the_pace(gauge: Gauge, seconds: float) -> None:
    """One command finished: the queue now knows how long work takes.

    Its outcome is written before its task ends, and the queue learns the pace only in the task's done callback,
    one loop iteration later: wait for that too (on a loaded machine the test could otherwise go on with no pace
    known, and the door would stay open).
    """
    gauge.submit("pace", "pace", seconds)
    await gauge.settled(len(gauge.outcomes) + 1)
    async with asyncio.timeout(10):
        while gauge.work.active:
            await asyncio.sleep(0.005)


async def test_before_any_command_finished_nobody_is_refused_at_the_door() -> None:
    work = Queue(per_person=1, answer_within_s=0.5, max_wait_s=5.0)
    gauge = Gauge(work)
    gauge.submit("a", "running", None)

    for n in range(50):  # no pace known yet: all of them wait for their turn
        assert work.try_again_in("a") is None
        gauge.submit("a", f"a{n}", 0.001)
    gauge.release.set()
    await gauge.settled(51)

    assert work.turned_away_at_door == 0


async def test_one_persons_long_queue_closes_the_door_to_them_and_not_to_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    work = Queue(per_person=1, answer_within_s=1.0, max_wait_s=2.0)
    gauge = Gauge(work)
    await learn_the_pace(gauge, 0.1)  # about 0.1 s a command: Ann's one turn at a time answers ~9 within 1 s
    gauge.submit("ann", "running", None)

    admitted = 0
    while work.try_again_in("ann") is None:
        gauge.submit("ann", f"ann{admitted}", 0.001)
        admitted += 1
        assert admitted < 1000

    assert 5 <= admitted <= 9  # 9 at exactly 0.1 s a command; fewer if the machine made the first one slower
    assert work.try_again_in("bob") is None  # Bob would not wait behind Ann's queue
    refused_for = work.try_again_in("ann")
    assert refused_for is not None and refused_for >= 5 and refused_for % 5 == 0  # "try again in about 5 s"
    for _ in range(500):  # what the command handler does for each one it tells at once
        work.turn_away_at_door("/lead list")
    logged = [r.getMessage() for r in caplog.records if "turned away at once" in r.getMessage()]
    assert work.turned_away_at_door == 500 and len(logged) == 1  # a flood is logged in summary, not line by line
    gauge.release.set()
    await gauge.settled(2 + admitted)
    assert work.try_again_in("ann") is None  # the queue is empty again


async def test_while_the_loop_cannot_keep_up_a_newcomer_behind_a_crowd_is_told_at_once() -> None:
    work = Queue(per_person=1, answer_within_s=5.0, max_wait_s=5.0, loop_lag_s=0.05)
    gauge = Gauge(work)
    gauge.submit("hold", "running", None)  # keeps the lag being measured
    for n in range(300):  # more than start in one tick: most wait
        gauge.submit(f"U{n}", f"U{n}", 0.001)
    assert work.try_again_in("newcomer") is None  # the loop keeps up: starting them takes a moment
    hogging = True

    async def hog() -> None:  # something keeps the loop busy: every tick comes late, nothing new starts
        while hogging:
            time.sleep(0.1)
            await asyncio.sleep(0)

    hogger = asyncio.ensure_future(hog())
    try:
        async with asyncio.timeout(20):
            while work.try_again_in("newcomer") is None:
                await asyncio.sleep(0)
    finally:
        hogging = False
        await hogger
    held = work.waiting

    gauge.release.set()
    await gauge.settled(301)
    assert held >= 1 and work.turned_away == 0  # those already in waited for their turn and were not refused
    assert set(gauge.outcomes.values()) == {"done"}
