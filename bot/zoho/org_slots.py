"""At most `per_org` Zoho CRM calls in flight per Zoho org, in this process and across every process that shares
the database; when they are all taken, the calls waiting for one are served in the order they came, whichever
process they are in.

Zoho answers 429 TOO_MANY_REQUESTS beyond a number of calls in flight per org (by edition; 10 for searches and
sorted lists), counting every integration of the org. A call first takes one of its org's slots here: the process's
own turn (an asyncio semaphore per org, first come, first served: held by the calls in flight and the asks under
way, so no database work while the process already has `per_org` calls of the org in flight), then a lease in the
database (`store.org_slots`), which counts the org's calls of every worker and replica. When every slot is taken the
database gives the call a ticket, its place in the org's line across processes, and the call gives its turn back and
waits in line. One task per org and process (`_ask_for`) asks again for the process's oldest ticket, with a turn,
after a short pause (at once after a grant, or when this process gives a slot of the org back), and hands the lease
and the turn to that call. A slot given back goes to the oldest ticket of any process, not to the giver's next call,
which would otherwise always ask first (its turn comes at once) and keep the other processes' calls waiting. A call
that gives up (cancelled) leaves the line. With one process, or an org not saturated, nobody is ever in line: a call
asks once. The slot is given back when the SDK job really ends (a call the caller stopped waiting for may still be
talking to Zoho), from the job's thread. While calls are in flight or in line, one renewal per `lease_s / 3` keeps
their leases and tickets alive; a killed process's leases and tickets expire after `lease_s`, and so does one whose
release failed (the database was away), since it is no longer renewed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

FIRST_PAUSE_S = 0.01  # the first pause before this process asks the database again for its oldest call in line
# A slot given back to another process's oldest call stays free until that process asks: the pause is the time
# such a slot may sit unused. One asker per org and process, whatever the number of calls in line.
LONGEST_PAUSE_S = 0.04


class LeaseBook(Protocol):
    """What `store.org_slots.OrgSlots` offers (duck-typed: bot.zoho does not need the store's types)."""

    def acquire(
        self, org_key: str, limit: int, lease_s: float, ticket: int | None = None
    ) -> tuple[int | None, int | None]: ...

    def cancel(self, org_key: str, ticket: int) -> None: ...

    def release(self, org_key: str, lease_id: int) -> None: ...

    def renew(self, lease_ids: Collection[int], lease_s: float, ticket_ids: Collection[int] = ()) -> int: ...


@dataclass
class _Line:
    """This process's calls waiting in one org's line (ticket → its lease, when granted), and their asker."""

    waiting: dict[int, asyncio.Future[int]] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # set when this process gives a slot of the org back
    asker: asyncio.Task[None] | None = None
    asking: int | None = None  # the ticket asked for right now


@dataclass
class Slot:
    """One call's slot of `org_key` (`lease`: its lease in the database, if there is a database)."""

    org_key: str
    lease: int | None


class OrgSlots:
    """Hands out per-org slots; `leases` None counts in this process only (an adapter without a database)."""

    def __init__(self, per_org: int, leases: LeaseBook | None, lease_s: float) -> None:
        self.per_org = per_org
        self._leases = leases
        self._lease_s = lease_s
        self._turns: dict[str, asyncio.Semaphore] = {}
        self._leased: set[int] = set()  # the leases of this process's calls in flight (touched on the loop only)
        self._lines: dict[str, _Line] = {}  # org → this process's calls waiting in its line
        self._renewal: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def take(self, org_key: str) -> Slot:
        """Wait for a slot of `org_key` (cancel to give up: nothing is held then)."""
        turn = self._turns.get(org_key)
        if turn is None:
            turn = self._turns[org_key] = asyncio.Semaphore(self.per_org)
        await turn.acquire()
        try:
            lease, ticket = await self._ask(org_key, None) if self._leases is not None else (None, None)
        except BaseException:
            turn.release()
            raise
        self._loop = asyncio.get_running_loop()
        if ticket is not None:
            turn.release()  # a call in line holds no turn: the line's asker takes one for each ask
            lease = await self._wait_in_line(org_key, ticket)
        if lease is not None:
            self._leased.add(lease)
            self._keep_renewing()
        return Slot(org_key, lease)

    async def _wait_in_line(self, org_key: str, ticket: int) -> int:
        """Wait until this process's asker for `org_key` gets a lease (and a turn) for `ticket`; cancel: leave the
        line, or give back what came meanwhile."""
        line = self._lines.get(org_key)
        if line is None:
            line = self._lines[org_key] = _Line()
        granted = line.waiting[ticket] = asyncio.get_running_loop().create_future()
        if line.asker is None or line.asker.done():
            line.asker = asyncio.get_running_loop().create_task(self._ask_for(org_key, line), name="zoho slot line")
        self._keep_renewing()
        try:
            return await granted
        except asyncio.CancelledError:
            loop = asyncio.get_running_loop()
            if granted.done() and not granted.cancelled() and granted.exception() is None:  # granted meanwhile
                loop.run_in_executor(None, self.give_back, Slot(org_key, granted.result()))
            elif line.waiting.pop(ticket, None) is not None and line.asking != ticket:  # the asker undoes its own
                loop.run_in_executor(None, self._leave_line, org_key, ticket)
            raise

    async def _ask_for(self, org_key: str, line: _Line) -> None:
        """Ask for this process's oldest ticket of `org_key` until every call in line has a lease.

        The oldest is the one with the fewest others ahead: while it is refused, the younger ones would be too.
        Each ask takes a turn, which goes with the lease to its call (no asking while this process holds every
        slot). A pause between refusals, cut short when this process gives a slot of the org back; none after a
        grant (the next may be free too).
        """
        turn, pause = self._turns[org_key], FIRST_PAUSE_S
        while line.waiting:
            await turn.acquire()
            if not line.waiting:
                turn.release()
                return
            ticket = line.asking = min(line.waiting)
            line.wake.clear()  # a slot given back from now on cuts the next pause short
            try:
                lease, _ = await self._ask(org_key, ticket)
            except Exception as exc:  # the database is away: this call fails (its ticket was given up)
                turn.release()
                waiter = line.waiting.pop(ticket, None)
                if waiter is not None and not waiter.done():
                    waiter.set_exception(exc)
                continue
            except BaseException:
                turn.release()
                raise
            finally:
                line.asking = None
            waiter = line.waiting.pop(ticket, None) if lease is not None else line.waiting.get(ticket)
            if waiter is not None and waiter.done():  # cancelled: its call is giving up
                waiter = None
            if lease is not None and waiter is not None:
                waiter.set_result(lease)  # its turn goes with it
                pause = FIRST_PAUSE_S
                continue
            turn.release()
            if waiter is None:  # its call gave up while it was asked for
                self._undo(org_key, lease, ticket)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(line.wake.wait(), pause * random.uniform(0.5, 1.5))  # spread processes
            pause = min(pause * 2, LONGEST_PAUSE_S)

    async def _ask(self, org_key: str, ticket: int | None) -> tuple[int | None, int | None]:
        """One ask to the database: a lease, or else the call's ticket (cancel-safe: what comes late is undone)."""
        assert self._leases is not None
        asking = asyncio.ensure_future(
            asyncio.to_thread(self._leases.acquire, org_key, self.per_org, self._lease_s, ticket)
        )
        try:
            return await asyncio.shield(asking)
        except asyncio.CancelledError:
            asking.add_done_callback(self._undo_unwanted(org_key))  # the database may still grant or line it up
            raise
        except Exception:  # the database is away: the call fails, and its place in line is not kept
            if ticket is not None:
                asyncio.get_running_loop().run_in_executor(None, self._leave_line, org_key, ticket)
            raise

    def _undo(self, org_key: str, lease: int | None, ticket: int | None) -> None:
        """Give back a lease, or leave the line, for a call that no longer waits (in the background)."""
        loop = asyncio.get_running_loop()
        if lease is not None:
            loop.run_in_executor(None, self._give_back_lease, Slot(org_key, lease))
        elif ticket is not None:
            loop.run_in_executor(None, self._leave_line, org_key, ticket)

    def _undo_unwanted(self, org_key: str) -> Callable[[asyncio.Future[tuple[int | None, int | None]]], None]:
        def undo(asked: asyncio.Future[tuple[int | None, int | None]]) -> None:
            if not asked.cancelled() and asked.exception() is None:
                self._undo(org_key, *asked.result())

        return undo

    def _leave_line(self, org_key: str, ticket: int) -> None:
        assert self._leases is not None
        try:
            self._leases.cancel(org_key, ticket)
        except Exception as exc:  # not renewed any more, the ticket expires by itself after lease_s
            log.warning("a Zoho slot ticket of org %s not cancelled (%s); it expires", org_key, type(exc).__name__)

    def give_back(self, slot: Slot) -> None:
        """Release `slot`; from any thread (the SDK job's own, when it ends), never raises."""
        self._give_back_lease(slot)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._returned, slot)

    def _give_back_lease(self, slot: Slot) -> None:
        if slot.lease is None or self._leases is None:
            return
        try:
            self._leases.release(slot.org_key, slot.lease)
        except Exception as exc:  # not renewed any more, the lease expires by itself after lease_s
            log.warning("a Zoho slot of org %s not released (%s); it expires", slot.org_key, type(exc).__name__)

    def _returned(self, slot: Slot) -> None:
        self._leased.discard(slot.lease)  # type: ignore[arg-type]
        self._turns[slot.org_key].release()
        line = self._lines.get(slot.org_key)
        if line is not None:  # this process's oldest call in line is asked for at once: the slot may be its
            line.wake.set()

    def _keep_renewing(self) -> None:
        if self._leases is None or (self._renewal is not None and not self._renewal.done()):
            return
        self._renewal = asyncio.get_running_loop().create_task(self._renew_while_held(), name="zoho slot renewal")

    async def _renew_while_held(self) -> None:
        leases = self._leases
        assert leases is not None
        while self._leased or self._tickets():
            await asyncio.sleep(self._lease_s / 3)
            if not self._leased and not self._tickets():
                return
            try:
                await asyncio.to_thread(leases.renew, set(self._leased), self._lease_s, self._tickets())
            except Exception as exc:  # the database is away: the next round tries again before they expire
                log.warning("Zoho slot leases not renewed (%s)", type(exc).__name__)

    def _tickets(self) -> set[int]:
        return {ticket for line in self._lines.values() for ticket in line.waiting}

    async def close(self) -> None:
        """Stop renewing and asking (the calls have ended: their slots were given back)."""
        tasks = [task for task in (self._renewal, *(line.asker for line in self._lines.values())) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
