"""The Leads field metadata of each Zoho org, shared by every worker and replica and kept across restarts.

One row per org (`org_key`: data centre API host and org id), holding the metadata as JSON text and when it was
fetched. The store neither reads nor checks the JSON: what it means, and when it is too old, is the domain's
business (bot.leads.org_fields). Writes replace the row whole, so two replicas fetching at once both succeed and
the later copy stays.

The Zoho SDK's own field file of each org (bot.zoho.sdk_runtime) is kept here too, under keys of its own
("sdk-fields:..."), so that a new machine or container does not fetch it again.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from store.database import StoreDatabase


@dataclass(frozen=True)
class CachedOrgFields:
    """The stored metadata of one org: JSON text, and when it was fetched (epoch ms, the store's clock)."""

    org_key: str
    metadata_json: str
    fetched_at_ms: int


class OrgFieldCache:
    def __init__(self, database: StoreDatabase) -> None:
        self._database = database
        self._row = database.models.org_fields

    def now_ms(self) -> int:
        """The store's clock (what `fetched_at_ms` is measured by)."""
        return self._database.now_ms()

    def get(self, org_key: str) -> CachedOrgFields | None:
        """The stored metadata of this org, or None."""
        row = self._row

        def work() -> CachedOrgFields | None:
            found = row.get_or_none(row.org_key == org_key)
            return None if found is None else CachedOrgFields(org_key, found.metadata_json, found.fetched_at_ms)

        return self._database.run(work)

    def put(self, org_key: str, metadata_json: str) -> None:
        """Store (or replace) this org's metadata, fetched now."""
        row = self._row
        now = self._database.now_ms()

        def work() -> None:
            updated = row.update(metadata_json=metadata_json, fetched_at_ms=now).where(row.org_key == org_key).execute()
            if not updated:
                try:
                    row.insert(org_key=org_key, metadata_json=metadata_json, fetched_at_ms=now).execute()
                except peewee.IntegrityError:  # another replica inserted it meanwhile: ours is as fresh
                    row.update(metadata_json=metadata_json, fetched_at_ms=now).where(row.org_key == org_key).execute()

        self._database.run(work, write=True)

    def forget(self, org_key: str) -> None:
        """Drop this org's metadata: the next read fetches it again."""
        row = self._row
        self._database.run(lambda: row.delete().where(row.org_key == org_key).execute(), write=True)
