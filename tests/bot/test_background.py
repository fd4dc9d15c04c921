"""Admission of background work: a few at a time, one person never takes every slot, a flood narrows the gate,
and whoever waits too long is turned away rather than left hanging."""

from __future__ import annotations

import asyncio

import pytest

from bot.background import BackgroundWork, Overloaded


class Gauge:
    """How many blocks are inside at once, and the most there ever were."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    async def hold(self, work: BackgroundWork, key: str, seconds: float) -> str:
        try:
            async with work.admitted(key):
                self.now += 1
                self.most = max(self.most, self.now)
                await asyncio.sleep(seconds)
                self.now -= 1
                return "done"
        except Overloaded:
            return "turned away"


async def test_at_most_max_active_work_at_once_and_the_rest_wait_their_turn() -> None:
    work = BackgroundWork(max_active=3, max_wait=5.0, max_per_key=10, flood_per_second=1000)
    gauge = Gauge()

    outcomes = await asyncio.gather(*(gauge.hold(work, f"U{n}", 0.05) for n in range(10)))

    assert outcomes == ["done"] * 10 and gauge.most == 3


async def test_one_key_holds_at_most_its_share() -> None:
    work = BackgroundWork(max_active=10, max_wait=5.0, max_per_key=2, flood_per_second=1000)
    ann, bob = Gauge(), Gauge()

    await asyncio.gather(
        *(ann.hold(work, "ann", 0.05) for _ in range(6)), *(bob.hold(work, "bob", 0.05) for _ in range(6))
    )

    assert ann.most == 2 and bob.most == 2


async def test_waiting_longer_than_max_wait_is_turned_away() -> None:
    work = BackgroundWork(max_active=1, max_wait=0.2, max_per_key=10, flood_per_second=1000)
    gauge = Gauge()

    outcomes = await asyncio.gather(gauge.hold(work, "a", 0.6), gauge.hold(work, "b", 0.01))

    assert outcomes == ["done", "turned away"] and work.turned_away == 1


async def test_in_a_flood_new_work_passes_a_narrower_gate() -> None:
    work = BackgroundWork(max_active=4, max_wait=5.0, max_per_key=100, max_active_in_flood=1, flood_per_second=5)
    early, flood = Gauge(), Gauge()

    # The first four arrive before the flood is recognised; the next six arrive in it.
    first = [asyncio.ensure_future(early.hold(work, f"E{n}", 0.1)) for n in range(4)]
    await asyncio.sleep(0)
    rest = [asyncio.ensure_future(flood.hold(work, f"F{n}", 0.02)) for n in range(6)]
    outcomes = await asyncio.gather(*first, *rest)

    assert outcomes == ["done"] * 10
    assert early.most == 4 and flood.most == 1


@pytest.mark.parametrize("error", [ValueError, asyncio.CancelledError])
async def test_a_slot_is_given_back_whatever_happens_inside(error: type[BaseException]) -> None:
    work = BackgroundWork(max_active=1, max_wait=0.5, max_per_key=1, flood_per_second=1000)

    with pytest.raises(error):
        async with work.admitted("ann"):
            raise error()

    async with work.admitted("ann"):  # neither the global nor Ann's slot leaked
        pass
