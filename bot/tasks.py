"""Background tasks the bot starts after answering Slack, tracked so that a shutdown can finish them.

bolt starts listeners as detached tasks and keeps no handle on them; everything slow that the bot does after
`ack()` runs through `BackgroundTasks.spawn` instead, so SIGTERM can wait for it (or give up after a deadline).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)

Job = Coroutine[Any, Any, Any]


class BackgroundTasks:
    """The running background tasks: started, counted, and waited for at shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def running(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Job, *, name: str) -> asyncio.Task[Any]:
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
        """Wait up to `timeout` s for the running tasks, cancel the rest; return how many were cut."""
        if not self._tasks:
            return 0
        done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)
        return len(pending)
