"""Signatures of the Slack requests already accepted, remembered while a replay of one would still look fresh.

Slack signs each request with its timestamp and accepts it for 5 minutes; within that window an eavesdropper (or a
proxy that retries) could send the same signed bytes again and create a second Lead. Every replica shares this
table, so the second copy is refused wherever it lands. The check is one insert whose unique key decides, atomically
on SQLite, PostgreSQL and MySQL: no read-then-write race between two replicas.

Only a hash of the signature is kept (it is already an HMAC of the body; hashing bounds its size). Rows are deleted
once their request would be refused as stale anyway, a small batch at a time on every SWEEP_EVERY-th insert of a
process (a batch is larger than that, so the deletes keep up with the inserts): no sweeper to run, and no extra
query on most requests.
"""

from __future__ import annotations

import hashlib

import peewee

from store.database import StoreDatabase
from store.prepared import PreparedQuery, slot

# Expired rows deleted by one insert: enough to keep up with any rate a replica can accept, small enough to be cheap.
_SWEEP_BATCH = 50
SWEEP_EVERY = 16


class SeenRequests:
    def __init__(self, database: StoreDatabase) -> None:
        self._database = database
        self._row = row = database.models.seen_request
        self._insert = PreparedQuery(database, row.insert(signature_hash=slot("hash"), expires_at_ms=slot("until")))
        self._inserts = 0

    def first_sighting(self, signature: str, fresh_until_ms: int) -> bool:
        """Remember `signature` until `fresh_until_ms`; False when it was already remembered (a replay).

        Every SWEEP_EVERY-th time, also deletes up to a batch of remembered signatures whose time is past.
        """
        signature_hash = hashlib.sha256(signature.encode("utf-8", "surrogateescape")).hexdigest()
        try:
            # Outside any transaction: a refused insert then leaves nothing to roll back, and the sweep below
            # never waits on it.
            self._database.run(
                lambda: self._insert.execute(hash=signature_hash, until=fresh_until_ms), modifies=True, urgent=True
            )
        except peewee.IntegrityError:
            return False
        self._inserts += 1
        if self._inserts % SWEEP_EVERY == 0:
            self._database.run(self._sweep, modifies=True, urgent=True)  # the ack waits on it too
        return True

    def _sweep(self) -> None:
        row = self._row
        # Ids first, then delete: MySQL refuses LIMIT in a subquery of DELETE, SQLite and PostgreSQL in DELETE itself.
        expired = [
            found.id
            for found in row.select(row.id)
            .where(row.expires_at_ms < self._database.now_ms())
            .order_by(row.expires_at_ms)
            .limit(_SWEEP_BATCH)
        ]
        if expired:
            row.delete().where(row.id.in_(expired)).execute()
