"""Zoho calls in flight per Zoho org, counted in the database that every worker and replica shares, and the calls
waiting for a slot of a busy org, served in the order they came, whichever process they are in.

Zoho CRM answers 429 beyond a number of calls in flight per org (5–25 by edition, 10 for searches and sorted
lists). Each call first takes a lease: a row (org, holder, expires_at) that counts while it has not expired. An
acquirer counts the org's live leases and adds its own in one transaction, serialised per org:

- PostgreSQL and MySQL: an upsert of the org's row in `zoho_org_slots` locks that row until the transaction ends
  (`ON CONFLICT … DO UPDATE` / `ON DUPLICATE KEY UPDATE` take a row lock), so two acquirers of one org, in any
  process on any machine, count one after the other; other orgs are not held up;
- SQLite: the transaction is a `BEGIN IMMEDIATE` one; SQLite's single write lock serialises every process of the
  machine that opens the file (docs/reference/databases.md §1).

The line: an acquirer that finds no free slot gets a ticket in the same transaction, a row of `zoho_org_tickets`
(org, holder, expires_at) whose id gives its place (ids grow in the order the serialised acquirers came). It then
asks again with its ticket. A slot is free for an asker when the live leases plus the live tickets ahead of it
leave one: for an asker without a ticket every live ticket is ahead (it comes last); for a ticket, the older
tickets of other holders (a process's own waiting calls may take a slot in any order among themselves). So a
slot that a process gives back goes to the oldest waiter, not to the giver's next call, which asks first. An
org whose slots are not all taken costs no ticket: one more count in `acquire`, no extra write. A ticket is
deleted when it is granted or when its caller gives up (`cancel`); it is renewed with the leases (`renew`), so a
process killed while waiting stops keeping others waiting when its tickets expire.

A process renews the leases of its calls in flight with one UPDATE while they run (`renew`); a process killed
with calls in flight stops renewing, and its leases stop counting when they expire: no slot is leaked. `holder`
(host, process id) says whose a lease is, for whoever looks at the table. Expired leases are deleted by later
releases of the same org, expired tickets after a new ticket of the org is issued (in a statement of its own: in
the ticket's transaction, a range delete takes gap locks on MySQL, and two orgs lining up at once deadlock). Every
write is run again after a deadlock (MySQL and PostgreSQL pick a victim when two transactions wait for each
other; each write here decides afresh what to do, or is idempotent). One call costs two round trips (`acquire`
and `release`) when its org has a free slot.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Collection
from typing import NamedTuple

import peewee

from store.database import Dialect, StoreDatabase
from store.prepared import PreparedQuery, slot

log = logging.getLogger(__name__)


class Asked(NamedTuple):
    """What `acquire` answered: a lease (the slot is taken), or else the asker's ticket (its place in line)."""

    lease: int | None
    ticket: int | None


class OrgSlots:
    def __init__(self, database: StoreDatabase) -> None:
        self._database = database
        self._slot = database.models.org_slot
        self._lease = database.models.org_lease
        self._ticket = database.models.org_ticket
        self.holder = f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._prepare()

    def _prepare(self) -> None:
        """The queries every call runs (or, while an org is saturated, every ask), compiled once."""
        database, lease, line = self._database, self._lease, self._ticket
        org, now = slot("org"), slot("now")
        live = lease.select(peewee.fn.COUNT(lease.id)).where((lease.org_key == org) & (lease.expires_at_ms > now))
        queued = (line.org_key == org) & (line.expires_at_ms > now)
        ahead = queued & (line.id < slot("ticket")) & (line.holder != slot("holder"))

        def counts(tickets: peewee.Expression) -> PreparedQuery:  # live leases and tickets, in one round trip
            in_line = line.select(peewee.fn.COUNT(line.id)).where(tickets)
            return PreparedQuery(database, peewee.Select(columns=[live, in_line]).bind(database.db))

        self._counts_all, self._counts_ahead = counts(queued), counts(ahead)
        self._grant = PreparedQuery(
            database, lease.insert(org_key=org, holder=slot("holder"), expires_at_ms=slot("exp"))
        )
        self._issue = PreparedQuery(
            database, line.insert(org_key=org, holder=slot("holder"), expires_at_ms=slot("exp"))
        )
        self._drop_ticket = PreparedQuery(database, line.delete().where(line.id == slot("ticket")))
        expired_tickets = (line.org_key == org) & (line.expires_at_ms <= now)
        self._drop_expired = PreparedQuery(database, line.delete().where(expired_tickets))
        expired = (lease.org_key == org) & (lease.expires_at_ms < now)
        self._release = PreparedQuery(database, lease.delete().where((lease.id == slot("lease")) | expired))
        self._lock: PreparedQuery | None = None  # SQLite's write lock is enough
        if database.dialect is not Dialect.SQLITE:
            target = [self._slot.org_key] if database.dialect is Dialect.POSTGRES else None  # MySQL takes none
            upsert = self._slot.insert(org_key=org).on_conflict(conflict_target=target, preserve=[self._slot.org_key])
            self._lock = PreparedQuery(database, upsert)

    def acquire(self, org_key: str, limit: int, lease_s: float, ticket: int | None = None) -> Asked:
        """A lease on one of `org_key`'s `limit` slots, valid `lease_s` s unless renewed, when one is free for this
        asker (none is while older askers wait); else its place in line: `ticket`, or a new ticket valid `lease_s`
        s unless renewed, to ask with again. A granted ticket is deleted."""
        database = self._database
        if ticket is not None and not database.run(lambda: self._free_for(org_key, limit, ticket)):
            return Asked(None, ticket)  # a look without the org's lock: most asks of a ticket in line find none

        def work() -> Asked:
            self._lock_org(org_key)
            now = database.now_ms()
            expires = now + int(lease_s * 1000)
            if not self._free_for(org_key, limit, ticket):
                return Asked(None, ticket if ticket is not None else self._line_up(org_key, expires))
            granted = self._grant.insert(org=org_key, holder=self.holder, exp=expires)
            if ticket is not None:
                self._drop_ticket.execute(ticket=ticket)
            return Asked(granted, None)

        asked = database.run(work, write=True, retry_conflicts=True)
        if ticket is None and asked.ticket is not None:
            self._drop_expired_tickets(org_key)
        return asked

    def _free_for(self, org_key: str, limit: int, ticket: int | None) -> bool:
        """Whether a slot of `org_key` is free for this asker: the live leases plus the live tickets ahead of it
        (all of them without a ticket, else the older ones of other holders) leave one."""
        now = self._database.now_ms()
        if ticket is None:
            live, ahead = self._counts_all.row(org=org_key, now=now)
        else:
            live, ahead = self._counts_ahead.row(org=org_key, now=now, ticket=ticket, holder=self.holder)
        return int(live) + int(ahead) < limit

    def _line_up(self, org_key: str, expires: int) -> int:
        """A new ticket of `org_key`, last in line."""
        return self._issue.insert(org=org_key, holder=self.holder, exp=expires)

    def _drop_expired_tickets(self, org_key: str) -> None:
        """Delete the org's expired tickets (their askers died), on its own, after the ticket's transaction: on
        MySQL a range delete in the transaction takes gap locks, and two orgs lining up at once then deadlock on
        each other's inserts. Tidying only (an expired ticket no longer counts): a failure leaves them to the next."""
        now = self._database.now_ms()
        try:
            self._database.run(
                lambda: self._drop_expired.execute(org=org_key, now=now), modifies=True, retry_conflicts=True
            )
        except peewee.DatabaseError as exc:
            log.warning("expired Zoho slot tickets of org %s not deleted (%s)", org_key, type(exc).__name__)

    def cancel(self, org_key: str, ticket: int) -> None:
        """Leave the line: the caller of `ticket` stopped waiting."""
        line = self._ticket
        self._database.run(
            line.delete().where((line.id == ticket) & (line.org_key == org_key)).execute,
            modifies=True,
            retry_conflicts=True,
        )

    def _lock_org(self, org_key: str) -> None:
        """Hold the org's row until the transaction ends (created the first time); SQLite's write lock is enough."""
        if self._lock is not None:
            self._lock.execute(org=org_key)

    def release(self, org_key: str, lease_id: int) -> None:
        """Give the lease back, and delete the org's leases that expired (their holders died)."""
        now = self._database.now_ms()
        self._database.run(
            lambda: self._release.execute(lease=lease_id, org=org_key, now=now), modifies=True, retry_conflicts=True
        )

    def renew(self, lease_ids: Collection[int], lease_s: float, ticket_ids: Collection[int] = ()) -> int:
        """Extend these live leases and tickets to `lease_s` s from now (an expired one stays expired); how many
        of the leases were."""
        now = self._database.now_ms()
        expires = now + int(lease_s * 1000)

        def extend(table: type, ids: Collection[int]) -> int:
            if not ids:
                return 0
            query = table.update(expires_at_ms=expires).where(table.id.in_(list(ids)) & (table.expires_at_ms > now))
            return int(self._database.run(query.execute, modifies=True, retry_conflicts=True))

        extend(self._ticket, ticket_ids)
        return extend(self._lease, lease_ids)

    def waiting(self, org_key: str) -> int:
        """Live tickets of `org_key`: calls of any process waiting in line for one of its slots."""
        line, now = self._ticket, self._database.now_ms()
        return int(
            self._database.run(
                lambda: line.select().where((line.org_key == org_key) & (line.expires_at_ms > now)).count()
            )
        )

    def in_flight(self, org_key: str) -> int:
        """Live leases of `org_key`, whoever holds them."""
        lease, now = self._lease, self._database.now_ms()
        return int(
            self._database.run(
                lambda: lease.select().where((lease.org_key == org_key) & (lease.expires_at_ms > now)).count()
            )
        )
