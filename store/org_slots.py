"""Zoho calls in flight per Zoho org, counted in the database that every worker and replica shares.

Zoho CRM answers 429 beyond a number of calls in flight per org (5–25 by edition, 10 for searches and sorted
lists). Each call first takes a lease: a row (org, holder, expires_at) that counts while it has not expired. An
acquirer counts the org's live leases and adds its own in one transaction, serialised per org:

- PostgreSQL and MySQL: an upsert of the org's row in `zoho_org_slots` locks that row until the transaction ends
  (`ON CONFLICT … DO UPDATE` / `ON DUPLICATE KEY UPDATE` take a row lock), so two acquirers of one org, in any
  process on any machine, count one after the other; other orgs are not held up;
- SQLite: the transaction is a `BEGIN IMMEDIATE` one; SQLite's single write lock serialises every process of the
  machine that opens the file (docs/reference/databases.md §1).

A process renews the leases of its calls in flight with one UPDATE while they run (`renew`); a process killed
with calls in flight stops renewing, and its leases stop counting when they expire: no slot is leaked. `holder`
(host, process id) says whose a lease is, for whoever looks at the table. Expired leases are deleted by later
releases of the same org. One call costs two round trips: `acquire` and `release`.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Collection

from store.database import Dialect, StoreDatabase


class OrgSlots:
    def __init__(self, database: StoreDatabase) -> None:
        self._database = database
        self._slot = database.models.org_slot
        self._lease = database.models.org_lease
        self.holder = f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"

    def acquire(self, org_key: str, limit: int, lease_s: float) -> int | None:
        """A lease on one of `org_key`'s `limit` slots, valid `lease_s` s unless renewed; None when all are taken."""
        database, lease = self._database, self._lease

        def work() -> int | None:
            self._lock_org(org_key)
            now = database.now_ms()
            live = lease.select().where((lease.org_key == org_key) & (lease.expires_at_ms > now)).count()
            if live >= limit:
                return None
            expires = now + int(lease_s * 1000)
            return int(lease.insert(org_key=org_key, holder=self.holder, expires_at_ms=expires).execute())

        return database.run(work, write=True)

    def _lock_org(self, org_key: str) -> None:
        """Hold the org's row until the transaction ends (created the first time); SQLite's write lock is enough."""
        dialect = self._database.dialect
        if dialect is Dialect.SQLITE:
            return
        slot = self._slot
        target = [slot.org_key] if dialect is Dialect.POSTGRES else None  # MySQL takes no conflict target
        slot.insert(org_key=org_key).on_conflict(conflict_target=target, preserve=[slot.org_key]).execute()

    def release(self, org_key: str, lease_id: int) -> None:
        """Give the lease back, and delete the org's leases that expired (their holders died)."""
        lease = self._lease
        expired = (lease.org_key == org_key) & (lease.expires_at_ms < self._database.now_ms())
        self._database.run(lease.delete().where((lease.id == lease_id) | expired).execute)

    def renew(self, lease_ids: Collection[int], lease_s: float) -> int:
        """Extend these live leases to `lease_s` s from now (an expired one stays expired); how many were."""
        if not lease_ids:
            return 0
        lease, now = self._lease, self._database.now_ms()
        query = lease.update(expires_at_ms=now + int(lease_s * 1000)).where(
            lease.id.in_(list(lease_ids)) & (lease.expires_at_ms > now)
        )
        return int(self._database.run(query.execute))

    def in_flight(self, org_key: str) -> int:
        """Live leases of `org_key`, whoever holds them."""
        lease, now = self._lease, self._database.now_ms()
        return int(
            self._database.run(
                lambda: lease.select().where((lease.org_key == org_key) & (lease.expires_at_ms > now)).count()
            )
        )
