"""The one queue that admits work after Slack has been answered: commands, clicks, form submissions and events.

Every listener passes it (bot.slack.front_door). What it admits by is what really runs out:

- **the event loop**: acks, store calls and answers share one loop, so new work starts only while the loop keeps
  up. A tick every `TICK_S` measures how late it fires (the loop's lag); while the lag is `loop_lag_s` or more, new
  starts are held (not refused), and between two ticks at most `STARTS_PER_TICK` start, so a burst's first steps
  cannot stall the loop before the next tick says so. Acks stay fast under any load;
- **Zoho**: how many calls of one org are in flight is counted by the CRM adapter (bot.zoho.org_slots), across
  processes; work waiting for a Zoho slot has started here, and its wait shows in the pace below;
- **fairness**: one queue per person (`key`), served round-robin across people, and a person's own work runs at
  most `per_person` at a time: one person's burst of twenty all gets answered, one after the other, while
  everybody else's work takes its turn between them.

Waiting costs a plain entry in a queue (no task, no future). Before a command is acked, `try_again_in` estimates
at the measured pace (how long work has recently taken, how fast waiting work has recently been started) when it
would be answered: only one that could not be answered within `answer_within_s` is refused, in its ack, saying
how long to wait. A command that waited `max_wait_s` without starting is told nothing was done: the safety valve
for when the estimate was wrong (Zoho slowed down or hung meanwhile). The limits are `bot.limits.AdmissionLimits`;
admitted work runs as tracked tasks (bot.tasks).
"""

from __future__ import annotations

import asyncio
import logging
import math
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

TICK_S = 0.01  # how often the loop's lag is measured while work waits or runs
STARTS_PER_TICK = 8  # the most work started between two measurements of the lag
PACE_WEIGHT = 0.2  # weight of the latest finished work in the running average of how long work takes
RATE_WEIGHT = 0.2  # weight of the latest tick in the running average of how fast waiting work gets started
DOOR_LOG_EVERY_S = 10.0  # turned away at the door: one log line per this many seconds, not one per command
TRY_AGAIN_STEP_S = 5  # "try again in about N seconds": N rounded up to a multiple of this
CLOSING_TRY_AGAIN_S = 60.0  # during a shutdown: the replacement process should be up by then


@dataclass(eq=False)
class _Waiting:
    key: Any
    arrived: float
    work: Callable[[float], Job]
    turned_away: Callable[[], Job]
    name: str
    started: bool = False


class Admission:
    """Admits work to run as background tasks while the event loop keeps up, round-robin across people."""

    def __init__(self, tasks: BackgroundTasks, limits: AdmissionLimits | None = None) -> None:
        limits = limits or AdmissionLimits()
        self._tasks = tasks
        self._closing = False
        self._lag_limit = limits.loop_lag_s
        self._per_key = max(1, limits.per_person)
        self._max_wait = limits.max_wait_s
        self._answer_within = limits.answer_within_s
        self._waiting: dict[Any, deque[_Waiting]] = {}  # per key, oldest first; no empty queues
        self._turns: deque[Any] = deque()  # keys with work waiting and a slot of their own free, in turn order
        self._arrivals: deque[_Waiting] = deque()  # every waiting entry, oldest first (started ones drop out lazily)
        self._active = 0
        self._active_per_key: dict[Any, int] = {}
        self._tick: asyncio.TimerHandle | None = None
        self._tick_due = 0.0
        self._ticked_at = 0.0
        self.lag = 0.0  # how late the last tick fired, in seconds
        self._started_since_tick = 0
        self._backlogged = False  # at the last tick, someone could have started and did not
        self.start_rate = STARTS_PER_TICK / TICK_S  # work started per second while some waited (running average)
        self._pace: float | None = None  # seconds work has recently taken (None: none finished yet)
        self.turned_away = 0
        self.turned_away_at_door = 0
        self._at_door = Tally(log, DOOR_LOG_EVERY_S, self._describe_at_door)

    # ----- work --------------------------------------------------------------------------------------------

    def submit(
        self,
        key: Any,
        work: Callable[[float], Job],
        turned_away: Callable[[], Job],
        *,
        name: str,
    ) -> None:
        """Run `work(seconds_waited)` when its turn comes; whoever is still waiting after `max_wait` s gets
        `turned_away()` run instead."""
        entry = _Waiting(key, time.monotonic(), work, turned_away, name)
        if self._closing:
            self._turn_away(entry)
            return
        queue = self._waiting.get(key)
        if queue is None:
            queue = self._waiting[key] = deque()
            if self._active_per_key.get(key, 0) < self._per_key:
                self._turns.append(key)
        queue.append(entry)
        self._arrivals.append(entry)
        self._pump()
        self._keep_ticking()

    def _pump(self) -> None:
        """Start waiting work, in turn across people, while the loop keeps up."""
        while self._turns and self.lag < self._lag_limit and self._started_since_tick < STARTS_PER_TICK:
            key = self._turns.popleft()
            queue = self._waiting[key]
            entry = queue.popleft()
            if not queue:
                del self._waiting[key]
            elif self._active_per_key.get(key, 0) + 1 < self._per_key:
                self._turns.append(key)  # to the back: everyone else's next turn comes first
            self._start(entry)

    def _start(self, entry: _Waiting) -> None:
        key = entry.key
        entry.started = True
        self._started_since_tick += 1
        started = time.monotonic()
        try:
            job = entry.work(started - entry.arrived)
        except BaseException:
            self._make_room(key)  # a factory that raises takes no slot with it
            raise
        self._active += 1
        self._active_per_key[key] = self._active_per_key.get(key, 0) + 1
        task = self._tasks.spawn(job, name=entry.name)
        task.add_done_callback(lambda _task: self._finished(key, started))

    def _finished(self, key: Any, started: float) -> None:
        took = time.monotonic() - started
        self._pace = took if self._pace is None else self._pace + PACE_WEIGHT * (took - self._pace)
        self._active -= 1
        left = self._active_per_key[key] - 1
        if left:
            self._active_per_key[key] = left
        else:
            del self._active_per_key[key]
        if left + 1 == self._per_key:
            self._make_room(key)
        self._pump()

    def _make_room(self, key: Any) -> None:
        """`key` has a slot of its own free again: back in the turns if it has work waiting."""
        if key in self._waiting and key not in self._turns:
            self._turns.append(key)

    # ----- the tick: the loop's lag, and who waited too long ---------------------------------------------------

    def _keep_ticking(self) -> None:
        if self._tick is None and (self._waiting or self._active):
            self._ticked_at = time.monotonic()
            self._tick_due = self._ticked_at + TICK_S
            self._tick = asyncio.get_running_loop().call_later(TICK_S, self._on_tick)

    def _on_tick(self) -> None:
        self._tick = None
        now = time.monotonic()
        self.lag = max(0.0, now - self._tick_due)
        if self._backlogged and now > self._ticked_at:
            rate = self._started_since_tick / (now - self._ticked_at)
            self.start_rate += RATE_WEIGHT * (rate - self.start_rate)
        self._started_since_tick = 0
        try:
            self._expire(now)
            self._pump()
        finally:  # whatever went wrong with one piece of work, the others still get their turn
            self._backlogged = bool(self._turns)
            if self._waiting or self._active:
                self._keep_ticking()
            else:
                self.lag = 0.0  # idle: the next piece of work starts at once

    def _expire(self, now: float) -> None:
        """Turn away whoever waited `max_wait`: the oldest waiting entry is always the head of its own queue."""
        arrivals, too_old = self._arrivals, now - self._max_wait
        while arrivals and (arrivals[0].started or arrivals[0].arrived <= too_old):
            entry = arrivals.popleft()
            if entry.started:
                continue
            queue = self._waiting[entry.key]
            queue.popleft()
            if not queue:
                del self._waiting[entry.key]
                if entry.key in self._turns:
                    self._turns.remove(entry.key)
            self._turn_away(entry)

    def _turn_away(self, entry: _Waiting) -> None:
        entry.started = True  # dealt with
        self.turned_away += 1
        ADMISSION_REFUSALS.labels("closing" if self._closing else "waited").inc()
        self._tasks.spawn(entry.turned_away(), name=f"{entry.name} (turned away)")

    # ----- the door ------------------------------------------------------------------------------------------

    def expected_wait(self, key: Any) -> float:
        """Seconds before a command of `key` submitted now would start, as far as the recent past says.

        Its own queue goes `per_person` at a time, each taking the pace (how long work recently took; unknown
        until some finished: no wait counted); and in the round-robin, the others' commands ahead of it (one per
        round each, for as many rounds as `key` has commands waiting) start at the rate waiting work has recently
        been started (held back while the loop lags).
        """
        own = self._waiting.get(key)
        rounds = len(own) if own is not None else 0
        own_wait = 0.0
        if self._pace is not None:
            own_wait = ((rounds + self._active_per_key.get(key, 0)) // self._per_key) * self._pace
        if rounds:
            ahead = rounds + sum(min(len(queue), rounds + 1) for other, queue in self._waiting.items() if other != key)
        else:  # a newcomer's first command: one of everybody else's is ahead of it
            ahead = len(self._waiting)
        return max(own_wait, ahead / max(self.start_rate, 0.001))

    def try_again_in(self, key: Any) -> float | None:
        """None when a command of `key` may come in; else the seconds to tell its sender to wait before trying
        again, because at the recent pace it could not be answered within `answer_within` (its wait for a turn and
        its own run), or the bot is shutting down.
        The caller answers it at once and reports it with `turn_away_at_door`."""
        if self._closing:
            return CLOSING_TRY_AGAIN_S
        answered_in = self.expected_wait(key) + (self._pace or 0.0)
        if answered_in <= self._answer_within:
            return None
        return float(max(1, math.ceil((answered_in - self._answer_within) / TRY_AGAIN_STEP_S)) * TRY_AGAIN_STEP_S)

    def turn_away_at_door(self, name: str) -> None:
        """Count a command that `try_again_in` refused (the caller answered it); logged in summary, not per command."""
        self.turned_away_at_door += 1
        ADMISSION_REFUSALS.labels("door").inc()
        self._at_door.count(name)

    def _describe_at_door(self, names: Counter[str]) -> str:
        kinds = ", ".join(f"{name}: {n}" for name, n in names.most_common(5))
        return (
            f"{names.total()} command(s) ({kinds}) turned away at once: at the recent pace they could not be "
            f"answered within {self._answer_within:g} s ({self.turned_away_at_door} since start)"
        )

    # ----- state, shutdown ---------------------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        """Commands submitted and not yet started."""
        return sum(len(queue) for queue in self._waiting.values())

    @property
    def active(self) -> int:
        """Commands started and not yet finished."""
        return self._active

    def close(self) -> None:
        """Stop admitting: everyone still waiting, and whoever comes later, is told nothing was done."""
        self._closing = True
        for queue in self._waiting.values():
            for entry in queue:
                self._turn_away(entry)
        self._waiting.clear()
        self._turns.clear()
        self._arrivals.clear()
