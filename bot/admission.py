"""The one queue that admits work after Slack has been answered: commands, clicks, form submissions and events.

Every listener passes it (bot.slack.front_door). Work (`submit`) waits its turn in a queue of plain entries, one
FIFO per person: no task, no timer and no future per waiting command, so a burst of thousands costs the event
loop little more than the acks themselves (one timer, for the oldest entry, turns away whoever waited
`max_wait`). Before a command is acked, `has_room` says whether it could start within `max_wait` at the pace
commands have recently been finishing; one that clearly could not is told so in the ack itself instead of
waiting `max_wait` for the same answer. The limits
are `bot.limits.AdmissionLimits`; the admitted work runs as tracked tasks (bot.tasks).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.limits import AdmissionLimits
from bot.logs import Tally
from bot.metrics import ADMISSION_REFUSALS
from bot.tasks import BackgroundTasks, Job

log = logging.getLogger(__name__)

PACE_WEIGHT = 0.2  # weight of the latest finished command in the running average of how long commands take
DOOR_LOG_EVERY_S = 10.0  # turned away at the door: one log line per this many seconds, not one per command


@dataclass(eq=False)
class _Waiting:
    key: Any
    arrived: float
    work: Callable[[float], Job]
    turned_away: Callable[[], Job]
    name: str


class Admission:
    """The queue that admits work to run as background tasks, a few at a time, oldest first across people."""

    def __init__(self, tasks: BackgroundTasks, limits: AdmissionLimits | None = None) -> None:
        limits = limits or AdmissionLimits()
        self._tasks = tasks
        self._closing = False
        self._max_active = max(1, limits.max_active)
        self._max_active_in_flood = max(1, min(limits.max_active_in_flood, self._max_active))
        self._flood_per_second = limits.flood_per_second
        self._max_per_key = max(1, limits.max_per_person)
        self._max_wait = limits.max_wait_s
        self._door_margin = limits.door_margin
        self._arrivals: deque[float] = deque()
        self._active = 0
        self._active_per_key: dict[Any, int] = {}
        # per key, oldest first; keys in no particular order; a key with nobody waiting has no queue
        self._waiting: dict[Any, deque[_Waiting]] = {}
        self._expiry: asyncio.TimerHandle | None = None
        self._pace: float | None = None  # seconds a command has recently held its slot (None: none finished yet)
        self.turned_away = 0
        self.turned_away_at_door = 0
        self._at_door = Tally(log, DOOR_LOG_EVERY_S, self._describe_at_door)

    # ----- commands ----------------------------------------------------------------------------------------

    def submit(
        self,
        key: Any,
        work: Callable[[float], Job],
        turned_away: Callable[[], Job],
        *,
        name: str,
    ) -> None:
        """Run `work(seconds_waited)` once a slot (and one of `key`'s) is free, at once if one is; whoever is
        still waiting after `max_wait` s gets `turned_away()` run instead. Oldest first, across keys."""
        now = time.monotonic()
        entry = _Waiting(key, now, work, turned_away, name)
        if self._closing:
            self._turn_away(entry)
            return
        self._arrivals.append(now)  # trimmed to the last second by _in_flood, which _admit below always asks
        queue = self._waiting.get(key)
        if queue is None:
            queue = self._waiting[key] = deque()
        queue.append(entry)
        self._admit(now)
        self._arm()

    def has_room(self, key: Any) -> bool:
        """Whether a command of `key` submitted now could start within `max_wait`, as far as the recent pace says.

        False when shutting down, or when those already waiting (all of them, or `key`'s own) are `door_margin`
        times what the current number of slots can start in `max_wait` at the pace commands recently took.
        Always True until a command has finished (no pace known). The caller tells the person at once instead
        of submitting, and reports it with `turn_away_at_door`.
        """
        if self._closing:
            return False
        if self._pace is None or not self._waiting:
            return True
        starts_per_slot = self._max_wait / max(self._pace, 0.001)
        limit = self._max_active_in_flood if self._in_flood(time.monotonic()) else self._max_active
        own = self._waiting.get(key)
        if own is not None and len(own) >= self._max_per_key * starts_per_slot * self._door_margin:
            return False
        return sum(len(queue) for queue in self._waiting.values()) < limit * starts_per_slot * self._door_margin

    def turn_away_at_door(self, name: str) -> None:
        """Count a command that `has_room` refused (the caller answered it); logged in summary, not per command."""
        self.turned_away_at_door += 1
        ADMISSION_REFUSALS.labels("door").inc()
        self._at_door.count(name)

    def _describe_at_door(self, names: Counter[str]) -> str:
        kinds = ", ".join(f"{name}: {n}" for name, n in names.most_common(5))
        return (
            f"{names.total()} command(s) ({kinds}) turned away at once: more were waiting than could start within "
            f"{self._max_wait:g} s ({self.turned_away_at_door} since start)"
        )

    def _in_flood(self, now: float) -> bool:
        arrivals = self._arrivals
        while arrivals and arrivals[0] < now - 1.0:
            arrivals.popleft()
        return len(arrivals) >= self._flood_per_second

    def _admit(self, now: float) -> None:
        """Turn away who waited too long, then start the oldest waiting commands that may start."""
        self._expire(now)
        if not self._waiting:
            return
        limit = self._max_active_in_flood if self._in_flood(now) else self._max_active
        while self._active < limit and self._waiting:
            oldest: deque[_Waiting] | None = None
            for key, queue in self._waiting.items():
                if self._active_per_key.get(key, 0) < self._max_per_key and (
                    oldest is None or queue[0].arrived < oldest[0].arrived
                ):
                    oldest = queue
            if oldest is None:
                return  # everyone waiting is at their own limit
            entry = oldest.popleft()
            if not oldest:
                del self._waiting[entry.key]
            self._start(entry, now - entry.arrived)

    def _start(self, entry: _Waiting, waited: float) -> None:
        key = entry.key
        job = entry.work(waited)  # before the slot is counted: a factory that raises takes no slot with it
        self._active += 1
        self._active_per_key[key] = self._active_per_key.get(key, 0) + 1
        task = self._tasks.spawn(job, name=entry.name)
        started = time.monotonic()
        task.add_done_callback(lambda _task: self._finished_command(key, started))

    def _finished_command(self, key: Any, started: float) -> None:
        took = time.monotonic() - started
        self._pace = took if self._pace is None else self._pace + PACE_WEIGHT * (took - self._pace)
        self._active -= 1
        left = self._active_per_key[key] - 1
        if left:
            self._active_per_key[key] = left
        else:
            del self._active_per_key[key]
        if self._waiting:
            self._admit(time.monotonic())
            self._arm()

    def _expire(self, now: float) -> None:
        too_old = now - self._max_wait
        for key in [k for k, queue in self._waiting.items() if queue[0].arrived <= too_old]:
            queue = self._waiting[key]
            while queue and queue[0].arrived <= too_old:
                self._turn_away(queue.popleft())
            if not queue:
                del self._waiting[key]

    def _turn_away(self, entry: _Waiting) -> None:
        self.turned_away += 1
        ADMISSION_REFUSALS.labels("closing" if self._closing else "waited").inc()
        self._tasks.spawn(entry.turned_away(), name=f"{entry.name} (turned away)")

    def _arm(self) -> None:
        """One timer for the whole queue: when the oldest waiting command runs out of patience."""
        if self._expiry is not None or not self._waiting:
            return
        oldest = min(queue[0].arrived for queue in self._waiting.values())
        delay = max(0.0, oldest + self._max_wait - time.monotonic())
        self._expiry = asyncio.get_running_loop().call_later(delay, self._expired)

    def _expired(self) -> None:
        self._expiry = None
        self._admit(time.monotonic())
        self._arm()

    @property
    def waiting(self) -> int:
        """Commands submitted and not yet started."""
        return sum(len(queue) for queue in self._waiting.values())

    def close(self) -> None:
        """Stop admitting: everyone still waiting, and whoever comes later, is told nothing was done."""
        self._closing = True
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        for queue in self._waiting.values():
            for entry in queue:
                self._turn_away(entry)
        self._waiting.clear()
