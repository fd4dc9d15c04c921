"""Whose turn it is to write to an SQLite file, among the threads of one process.

SQLite lets one connection write at a time; one that finds the file locked sleeps and tries again, up to 100 ms
between tries, so under a burst of writes an unlucky writer waits for seconds while later ones come and go. Here
the writers of a process wait in line instead: when a writer is done the turn is handed to the one that has
waited longest, and a writer that an answer to Slack waits on (`urgent`) goes ahead of the others. Only writers of
other processes still meet in SQLite's own retry loop.

A turn is re-entrant within a thread. Waiting is bounded: after `timeout` the writer goes on without its turn,
and SQLite's own wait decides, so a writer that waits on another thread, against the store's rule, is slow as it
would be without turns, never stuck for ever.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class _Waiter:
    __slots__ = ("thread", "line", "handed")

    def __init__(self, thread: int, line: deque[_Waiter]) -> None:
        self.thread = thread
        self.line = line  # the lane it waits in
        self.handed = threading.Event()


class WriterTurns:
    """A re-entrant lock handed over in order of arrival, with a lane ahead for urgent writers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._urgent: deque[_Waiter] = deque()
        self._normal: deque[_Waiter] = deque()

    @contextmanager
    def turn(self, timeout: float, *, urgent: bool = False) -> Iterator[bool]:
        """Hold this thread's turn for the block; yields False when `timeout` passed first (the block runs anyway)."""
        has_turn = self._acquire(timeout, urgent)
        try:
            yield has_turn
        finally:
            if has_turn:
                self._release()

    @property
    def waiting(self) -> int:
        """How many writers are waiting for their turn now."""
        return len(self._urgent) + len(self._normal)

    def _acquire(self, timeout: float, urgent: bool) -> bool:
        me = threading.get_ident()
        with self._lock:
            if self._owner == me:
                self._depth += 1
                return True
            ahead = self._urgent if urgent else self._urgent or self._normal
            if self._owner is None and not ahead:
                self._owner, self._depth = me, 1
                return True
            waiter = _Waiter(me, self._urgent if urgent else self._normal)
            waiter.line.append(waiter)
        try:
            waiter.handed.wait(timeout)
        except BaseException:  # interrupted: leave the line, or pass on a turn handed over meanwhile
            if self._stop_waiting(waiter):
                self._release()
            raise
        return self._stop_waiting(waiter)

    def _stop_waiting(self, waiter: _Waiter) -> bool:
        """Whether the turn was handed to `waiter` (perhaps just as its wait ran out); if not, it leaves the line."""
        with self._lock:
            if self._owner == waiter.thread:
                return True
            waiter.line.remove(waiter)
            return False

    def _release(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth:
                return
            line = self._urgent or self._normal
            if not line:
                self._owner = None
                return
            waiter = line.popleft()
            self._owner, self._depth = waiter.thread, 1
            waiter.handed.set()
