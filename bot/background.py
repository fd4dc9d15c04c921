"""Work that runs after Slack has been answered, tracked so a shutdown can finish it.

bolt starts listeners as detached tasks and keeps no handle on them; everything slow that the bot does after
`ack()` goes through `BackgroundWork.spawn` instead, so SIGTERM can wait for it (or give up after a deadline).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Overloaded(Exception):
    """Too much work was ahead of this one for too long: it was not started."""


# How many commands work at once in one process. Each mostly waits on Zoho, but the CPU it needs (the Zoho SDK,
# the store) competes with the event loop for the GIL. Normally 6 may work at once. In a flood (50 or more
# commands arrived within the last second) new ones also pass a 2-wide gate, so the CPU goes to acking every
# request within Slack's 3 s rather than to finishing a few sooner. Whoever cannot start within `max_wait` is
# told nothing was done; `max_wait` plus the CRM call limit (12 s) keeps every answer within 15 s.
MAX_ACTIVE = 6
MAX_ACTIVE_IN_FLOOD = 2
FLOOD_PER_SECOND = 50
MAX_ACTIVE_PER_KEY = 2  # one person's slow or hung commands cannot take every slot
MAX_WAIT_S = 3.0


class BackgroundWork:
    """A set of running tasks that can be drained, and the admission that keeps acks fast under a burst."""

    def __init__(
        self,
        max_active: int = MAX_ACTIVE,
        max_wait: float = MAX_WAIT_S,
        max_per_key: int = MAX_ACTIVE_PER_KEY,
        *,
        max_active_in_flood: int = MAX_ACTIVE_IN_FLOOD,
        flood_per_second: int = FLOOD_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._slots = asyncio.Semaphore(max_active)
        self._flood_slots = asyncio.Semaphore(max_active_in_flood)
        self._flood_per_second = flood_per_second
        self._arrivals: deque[float] = deque()
        self._clock = clock
        self._max_per_key = max_per_key
        self._key_slots: dict[Any, tuple[asyncio.Semaphore, int]] = {}
        self._max_wait = max_wait
        self.turned_away = 0

    def _in_flood(self) -> bool:
        """Count this arrival; True when at least `flood_per_second` arrived within the last second."""
        now = self._clock()
        arrivals = self._arrivals
        arrivals.append(now)
        while arrivals and arrivals[0] < now - 1.0:
            arrivals.popleft()
        return len(arrivals) >= self._flood_per_second

    @contextlib.asynccontextmanager
    async def admitted(self, key: Any) -> AsyncIterator[None]:
        """Hold a working slot (and one of `key`'s) for the block; raises Overloaded after `max_wait` s."""
        gates = [self._flood_slots, self._slots] if self._in_flood() else [self._slots]
        mine, users = self._key_slots.get(key, (None, 0))
        if mine is None:
            mine = asyncio.Semaphore(self._max_per_key)
        self._key_slots[key] = (mine, users + 1)
        held: list[asyncio.Semaphore] = []
        try:
            try:
                async with asyncio.timeout(self._max_wait):  # no extra task per waiting command, unlike wait_for
                    for slots in (mine, *gates):  # always in this order: no two commands wait on each other
                        await slots.acquire()
                        held.append(slots)
            except TimeoutError:
                self.turned_away += 1
                raise Overloaded from None
            yield
        finally:
            for slots in held:
                slots.release()
            mine, users = self._key_slots[key]
            if users == 1:
                del self._key_slots[key]
            else:
                self._key_slots[key] = (mine, users - 1)

    @property
    def running(self) -> int:
        return len(self._tasks)

    @property
    def closing(self) -> bool:
        return self._closing

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run `coro` in the background; its failure is logged once, never lost silently."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self, timeout: float) -> int:
        """Stop taking new work in spirit, wait up to `timeout` s for running work; return how many were cut."""
        self._closing = True
        if not self._tasks:
            return 0
        done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)
        return len(pending)
