"""At most `per_org` Zoho CRM calls in flight per Zoho org, in this process and across every process that shares
the database.

Zoho answers 429 TOO_MANY_REQUESTS beyond a number of calls in flight per org (by edition; 10 for searches and
sorted lists), counting every integration of the org. A call first takes one of its org's slots here: the
process's own turn (an asyncio semaphore per org: first come, first served, no database work while the process
already has `per_org` calls of the org in flight), then a lease in the database (`store.org_slots`), which counts
the org's calls of every worker and replica. When other processes hold every lease the call asks again after a
short pause, until its own time limit. The slot is given back when the SDK job really ends (a call the caller
stopped waiting for may still be talking to Zoho), from the job's thread. While calls are in flight, one renewal
per `lease_s / 3` keeps their leases alive; a killed process's leases expire after `lease_s`, and so does one
whose release failed (the database was away), since it is no longer renewed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

FIRST_PAUSE_S = 0.05  # the first pause before asking the database again for a slot other processes hold
# A slot another process gives back stays free until someone asks: with pauses of up to 0.5 s the process that
# gave it back took it again first, and the other's commands waited (two workers at 80/s: completion p99 9.9 s
# against one worker's 3.0 s, and 2 % refused at 160/s); at 0.1 s, 6.1 s and 0.5 %, for about 1.5 ms more CPU
# per command while every slot of the org is taken.
LONGEST_PAUSE_S = 0.1


class LeaseBook(Protocol):
    """What `store.org_slots.OrgSlots` offers (duck-typed: bot.zoho does not need the store's types)."""

    def acquire(self, org_key: str, limit: int, lease_s: float) -> int | None: ...

    def release(self, org_key: str, lease_id: int) -> None: ...

    def renew(self, lease_ids: Collection[int], lease_s: float) -> int: ...


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
        self._renewal: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def take(self, org_key: str) -> Slot:
        """Wait for a slot of `org_key` (cancel to give up: nothing is held then)."""
        turn = self._turns.get(org_key)
        if turn is None:
            turn = self._turns[org_key] = asyncio.Semaphore(self.per_org)
        await turn.acquire()
        try:
            lease = await self._lease(org_key)
        except BaseException:
            turn.release()
            raise
        self._loop = asyncio.get_running_loop()
        if lease is not None:
            self._leased.add(lease)
            self._keep_renewing()
        return Slot(org_key, lease)

    async def _lease(self, org_key: str) -> int | None:
        if self._leases is None:
            return None
        pause = FIRST_PAUSE_S
        while True:
            asking = asyncio.ensure_future(
                asyncio.to_thread(self._leases.acquire, org_key, self.per_org, self._lease_s)
            )
            try:
                lease = await asyncio.shield(asking)
            except asyncio.CancelledError:
                asking.add_done_callback(self._release_unwanted(org_key))  # the database may still grant it
                raise
            if lease is not None:
                return lease
            await asyncio.sleep(pause * random.uniform(0.5, 1.5))  # spread the askers of several processes
            pause = min(pause * 2, LONGEST_PAUSE_S)

    def _release_unwanted(self, org_key: str) -> Callable[[asyncio.Future[int | None]], None]:
        def release(asked: asyncio.Future[int | None]) -> None:
            if not asked.cancelled() and asked.exception() is None and asked.result() is not None:
                slot = Slot(org_key, asked.result())
                asyncio.get_running_loop().run_in_executor(None, self._give_back_lease, slot)

        return release

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

    def _keep_renewing(self) -> None:
        if self._leases is None or (self._renewal is not None and not self._renewal.done()):
            return
        self._renewal = asyncio.get_running_loop().create_task(self._renew_while_held(), name="zoho slot renewal")

    async def _renew_while_held(self) -> None:
        leases = self._leases
        assert leases is not None
        while self._leased:
            await asyncio.sleep(self._lease_s / 3)
            if not self._leased:
                return
            try:
                await asyncio.to_thread(leases.renew, set(self._leased), self._lease_s)
            except Exception as exc:  # the database is away: the next round tries again before they expire
                log.warning("Zoho slot leases not renewed (%s)", type(exc).__name__)

    async def close(self) -> None:
        """Stop renewing (the calls have ended: their slots were given back)."""
        if self._renewal is not None:
            self._renewal.cancel()
            await asyncio.gather(self._renewal, return_exceptions=True)
