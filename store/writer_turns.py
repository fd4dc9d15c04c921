"""Whose turn it is to write to an SQLite file, among the threads of one process.

SQLite lets one connection write at a time; one that finds the file locked sleeps and tries again, up to 100 ms
between tries, so under a burst of writes an unlucky writer waits for seconds while later ones come and go. Here
the writers of a process wait in line instead: each is woken as soon as the one before it is done, in the order
they came, and a writer that an answer to Slack waits on (`urgent`) goes ahead of the others. Only writers of
other processes still meet in SQLite's own retry loop.

A turn is re-entrant within a thread (a transaction's statements, a lock held across store calls). Waiting is
bounded: after `timeout` the writer goes on without its turn, and SQLite's own wait decides, so a writer that
waits on another thread, against the store's rule, is slow as it would be without turns, never stuck for ever.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class WriterTurns:
    """A re-entrant, first-come first-served lock with a lane ahead for urgent writers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._urgent_line = threading.Condition(self._lock)
        self._line = threading.Condition(self._lock)
        self._owner: int | None = None
        self._depth = 0
        self._urgent_waiting = 0
        self._waiting = 0

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
        return self._waiting

    def _acquire(self, timeout: float, urgent: bool) -> bool:
        me = threading.get_ident()
        deadline = time.monotonic() + timeout
        with self._lock:
            if self._owner == me:
                self._depth += 1
                return True
            line = self._urgent_line if urgent else self._line
            if urgent:
                self._urgent_waiting += 1
            self._waiting += 1
            try:
                while self._owner is not None or (not urgent and self._urgent_waiting):
                    left = deadline - time.monotonic()
                    if left <= 0 or not line.wait(left):
                        break
                else:
                    self._owner, self._depth = me, 1
                    return True
            finally:
                self._waiting -= 1
                if urgent:
                    self._urgent_waiting -= 1
            if self._owner is None:
                self._wake_next()  # a wake-up meant for this writer may have come just as it gave up
            return False

    def _release(self) -> None:
        with self._lock:
            self._depth -= 1
            if not self._depth:
                self._owner = None
                self._wake_next()

    def _wake_next(self) -> None:
        (self._urgent_line if self._urgent_waiting else self._line).notify()
