"""Each Zoho org's Leads metadata in the store: one row per org, replaced whole, shared by every store on the
database (what another replica or the next start sees)."""

from __future__ import annotations

from store import PeeweeTokenStore


def test_an_orgs_metadata_is_stored_replaced_and_forgotten(store: PeeweeTokenStore, backend, clock) -> None:  # type: ignore[no-untyped-def]
    cache = store.org_fields
    assert cache.get("https://www.zohoapis.eu|1") is None
    cache.put("https://www.zohoapis.eu|1", '{"fields": ["Ä"]}')
    first = cache.get("https://www.zohoapis.eu|1")
    assert first is not None and first.metadata_json == '{"fields": ["Ä"]}'
    assert first.fetched_at_ms == int(clock() * 1000)

    clock.advance(60)
    cache.put("https://www.zohoapis.eu|1", "{}")
    second = cache.get("https://www.zohoapis.eu|1")
    assert second is not None and second.metadata_json == "{}" and second.fetched_at_ms == first.fetched_at_ms + 60_000

    other_replica = backend.open(clock=clock)  # another process on the same database
    assert other_replica.org_fields.get("https://www.zohoapis.eu|1") == second
    assert other_replica.org_fields.get("https://www.zohoapis.com|1") is None  # another data centre, another org

    other_replica.org_fields.forget("https://www.zohoapis.eu|1")
    assert cache.get("https://www.zohoapis.eu|1") is None


def test_a_large_org_fits(store: PeeweeTokenStore) -> None:
    big = '{"fields": "' + "x" * 300_000 + '"}'
    store.org_fields.put("org", big)
    found = store.org_fields.get("org")
    assert found is not None and found.metadata_json == big
