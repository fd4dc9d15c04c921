"""Work that runs after Slack has been answered, tracked so a shutdown can finish it.

bolt starts listeners as detached tasks and keeps no handle on them; everything slow that the bot does after
`ack()` goes through `BackgroundWork.spawn` instead, so SIGTERM can wait for it (or give up after a deadline).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Overloaded(Exception):
    """Too much work was ahead of this one for too long: it was not started."""


# Commands working at once in one process. Each mostly waits on Zoho, but what CPU it needs (the Zoho SDK, the
# store) competes with the event loop for the GIL: past this, acks would slow down. Others wait their turn.
MAX_ACTIVE = 4
MAX_ACTIVE_PER_KEY = 2  # one person's slow or hung commands cannot take every slot
MAX_WAIT_S = 10.0


class BackgroundWork:
    """A set of running tasks that can be drained, and the admission that keeps acks fast under a burst."""

    def __init__(
        self, max_active: int = MAX_ACTIVE, max_wait: float = MAX_WAIT_S, max_per_key: int = MAX_ACTIVE_PER_KEY
    ) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._slots = asyncio.Semaphore(max_active)
        self._max_per_key = max_per_key
        self._key_slots: dict[Any, tuple[asyncio.Semaphore, int]] = {}
        self._max_wait = max_wait
        self.turned_away = 0

    @contextlib.asynccontextmanager
    async def admitted(self, key: Any) -> AsyncIterator[None]:
        """Hold one of the working slots (and one of `key`'s) for the block; Overloaded after `max_wait` s."""
        mine, users = self._key_slots.get(key, (None, 0))
        if mine is None:
            mine = asyncio.Semaphore(self._max_per_key)
        self._key_slots[key] = (mine, users + 1)
        held: list[asyncio.Semaphore] = []
        try:
            try:
                async with asyncio.timeout(self._max_wait):  # no extra task per waiting command, unlike wait_for
                    for slots in (mine, self._slots):
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
