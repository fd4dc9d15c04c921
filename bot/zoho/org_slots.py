"""At most `per_org` Zoho CRM calls in flight per Zoho org, in this process and across every process that shares
the database.

Zoho answers 429 TOO_MANY_REQUESTS beyond a number of calls in flight per org (by edition; 10 for searches and
sorted lists), counting every integration of the org. A call first takes one of its org's slots here: the
process's own turn (an asyncio semaphore per org: first come, first served, no database work while the process
already has `per_org` calls of the org in flight), then a lease in the database (`store.org_slots`), which counts
the org's calls of every worker and replica. When other processes hold every lease the call asks again after a
short pause, until its own time limit. The slot is given back when the SDK job really ends (a call the caller
stopped waiting for may still be talking to Zoho), from the job's thread. While any lease is held, one renewal
per `lease_s / 3` keeps all of them alive; a killed process's leases expire after `lease_s`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

FIRST_PAUSE_S = 0.05  # the first pause before asking the database again for a slot other processes hold
LONGEST_PAUSE_S = 0.5


class LeaseBook(Protocol):
    """What `store.org_slots.OrgSlots` offers (duck-typed: bot.zoho does not need the store's types)."""

    def acquire(self, org_key: str, limit: int, lease_s: float) -> int | None: ...

    def release(self, org_key: str, lease_id: int) -> None: ...

    def renew(self, lease_s: float) -> int: ...


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
        self._held = 0
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
        self._held += 1
        self._keep_renewing()
        return Slot(org_key, lease)

    async def _lease(self, org_key: str) -> int | None:
        if self._leases is None:
            return None
        pause = FIRST_PAUSE_S
        while True:
            lease = await asyncio.to_thread(self._leases.acquire, org_key, self.per_org, self._lease_s)
            if lease is not None:
                return lease
            await asyncio.sleep(pause * random.uniform(0.5, 1.5))  # spread the askers of several processes
            pause = min(pause * 2, LONGEST_PAUSE_S)

    def give_back(self, slot: Slot) -> None:
        """Release `slot`; from any thread (the SDK job's own, when it ends), never raises."""
        if slot.lease is not None and self._leases is not None:
            try:
                self._leases.release(slot.org_key, slot.lease)
            except Exception as exc:  # the lease then expires by itself after lease_s
                log.warning("a Zoho slot of org %s not released (%s); it expires", slot.org_key, type(exc).__name__)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._returned, slot.org_key)

    def _returned(self, org_key: str) -> None:
        self._held -= 1
        self._turns[org_key].release()

    def _keep_renewing(self) -> None:
        if self._leases is None or (self._renewal is not None and not self._renewal.done()):
            return
        self._renewal = asyncio.get_running_loop().create_task(self._renew_while_held(), name="zoho slot renewal")

    async def _renew_while_held(self) -> None:
        leases = self._leases
        assert leases is not None
        while self._held:
            await asyncio.sleep(self._lease_s / 3)
            if not self._held:
                return
            try:
                await asyncio.to_thread(leases.renew, self._lease_s)
            except Exception as exc:  # the database is away: the next round tries again before they expire
                log.warning("Zoho slot leases not renewed (%s)", type(exc).__name__)

    async def close(self) -> None:
        """Stop renewing (the calls have ended: their slots were given back)."""
        if self._renewal is not None:
            self._renewal.cancel()
            await asyncio.gather(self._renewal, return_exceptions=True)
