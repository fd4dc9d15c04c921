"""The Leads fields of each Zoho org: read from Zoho once, shared through the database, refreshed when stale.

`org_fields_of` turns the org's metadata (bot.zoho.metadata) into `OrgFields`: fields in the layout's order,
our short keys and aliases attached to the standard fields the org has, required from the layout (or Zoho).

`OrgFieldBook` keeps them per org — not per person: every person of one org shares one copy — in the store
(store.org_fields), so every worker, every replica and the next start use the same copy. A copy older than
`ttl_s` is fetched again; `refresh` fetches at once (after Zoho said a field is unknown or a value invalid: the
layout may have changed). Within one process, people of one org asking at once wait for one fetch.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from bot.leads.fields import FIELDS, OTHER_FIELDS, READ_ONLY_API_NAMES, FieldKind, LayoutSection, LeadField, OrgFields
from bot.zoho.metadata import LeadMetadata, ZohoField
from store import Connection
from store.org_fields import OrgFieldCache

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 3600.0
_KINDS = {kind.value: kind for kind in FieldKind}
_KINDS.update({"website": FieldKind.URL, "bigint": FieldKind.INTEGER, "decimal": FieldKind.DECIMAL})
_STANDARD = {f.api_name: f for f in FIELDS + OTHER_FIELDS}

Fetch = Callable[[], Awaitable[LeadMetadata]]


def _field(z: ZohoField, required: bool) -> LeadField:
    standard = _STANDARD.get(z.api_name)
    kind = _KINDS.get(z.data_type, FieldKind.OTHER)
    if kind is FieldKind.OTHER and standard is not None and not z.data_type:
        kind = standard.kind
    return LeadField(
        api_name=z.api_name,
        label=z.label or (standard.label if standard else z.api_name),
        kind=kind,
        max_length=z.length or (standard.max_length if standard else 0) or 255,
        key=standard.key if standard else None,
        aliases=standard.aliases if standard else (),
        required=required or z.mandatory,
        read_only=z.read_only or z.api_name in READ_ONLY_API_NAMES,
        custom=z.custom,
        choices=z.choices,
        zoho_type=z.data_type,
    )


def org_fields_of(metadata: LeadMetadata) -> OrgFields:
    """The org's fields in the layout's order (fields the layout does not place come after, in Zoho's order)."""
    required = {name for section in metadata.sections for name in section.required}
    by_name = {z.api_name: z for z in metadata.fields}
    ordered = [name for section in metadata.sections for name in section.api_names if name in by_name]
    ordered += [name for name in by_name if name not in set(ordered)]
    fields = [_field(by_name[name], name in required) for name in dict.fromkeys(ordered)]
    sections = [
        LayoutSection(s.name, tuple(n for n in s.api_names if n in by_name)) for s in metadata.sections if s.api_names
    ]
    return OrgFields(fields, sections)


def org_key(connection: Connection) -> str:
    """Which org a connection's metadata belongs to: its data centre's API host and its org id."""
    org = connection.org_id or f"user:{connection.user_signature}"
    return f"{connection.api_domain or ''}|{org}"


class OrgFieldBook:
    """The Leads fields of every org, as `OrgFields`, cached in the store (see the module docstring)."""

    def __init__(self, cache: OrgFieldCache, ttl_s: float = DEFAULT_TTL_S) -> None:
        self._cache = cache
        self._ttl_ms = int(ttl_s * 1000)
        self._fetching: dict[str, asyncio.Lock] = {}

    async def get(self, connection: Connection, fetch: Fetch) -> OrgFields:
        """The org's fields: the stored copy while it is fresh, else fetched (and stored) now."""
        key = org_key(connection)
        stored = await self._stored(key)
        if stored is not None:
            return stored
        lock = self._fetching.setdefault(key, asyncio.Lock())
        async with lock:
            stored = await self._stored(key)  # someone else may have fetched it while we waited
            if stored is not None:
                return stored
            return await self._fetch(key, fetch)

    async def stored(self, connection: Connection) -> OrgFields | None:
        """The org's fields as last read, while that copy is fresh; None when there is none (nothing is fetched)."""
        return await self._stored(org_key(connection))

    async def refresh(self, connection: Connection, fetch: Fetch) -> OrgFields:
        """Fetch the org's fields now, whatever the stored copy's age (the layout may have changed)."""
        key = org_key(connection)
        async with self._fetching.setdefault(key, asyncio.Lock()):
            return await self._fetch(key, fetch)

    async def _stored(self, key: str) -> OrgFields | None:
        cached = await asyncio.to_thread(self._cache.get, key)
        if cached is None:
            return None
        now = await asyncio.to_thread(self._cache.now_ms)
        if now - cached.fetched_at_ms >= self._ttl_ms:
            return None
        try:
            return org_fields_of(LeadMetadata.from_json(json.loads(cached.metadata_json)))
        except (ValueError, TypeError, KeyError):
            log.warning("stored Leads metadata of %s is unreadable; fetching it again", key)
            return None

    async def _fetch(self, key: str, fetch: Fetch) -> OrgFields:
        metadata = await fetch()
        text = json.dumps(metadata.to_json(), ensure_ascii=False, separators=(",", ":"))
        await asyncio.to_thread(self._cache.put, key, text)
        log.info("Leads metadata of %s read from Zoho: %d fields", key, len(metadata.fields))
        return org_fields_of(metadata)
