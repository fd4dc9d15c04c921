"""The org's Leads fields kept per org in the database: fresh copies serve everyone of the org, stale ones and
refreshes read Zoho again, and a second replica on the same database reads nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.leads.org_fields import OrgFieldBook
from bot.zoho.metadata import LeadMetadata, ZohoField
from store import PeeweeTokenStore, generate_key


@dataclass
class Person:
    """What the book needs of a connection."""

    id: str
    org_id: str
    api_domain: str = "https://www.zohoapis.eu"
    user_signature: str = ""


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Zoho:
    """Answers metadata reads, counting them; the status picklist can change between reads."""

    def __init__(self) -> None:
        self.reads = 0
        self.statuses = ("New", "Contacted")

    async def read(self) -> LeadMetadata:
        self.reads += 1
        return LeadMetadata((ZohoField("Lead_Status", "Lead Status", "picklist", 120, choices=self.statuses),))


@pytest.fixture
def stores(tmp_path):  # type: ignore[no-untyped-def]
    key, clock = generate_key(), Clock()
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    opened = [PeeweeTokenStore(url, key, clock=clock), PeeweeTokenStore(url, key, clock=clock)]
    yield opened, clock
    for store in opened:
        store.close()


async def test_one_read_serves_the_whole_org_on_every_replica_until_it_is_stale(stores) -> None:  # type: ignore[no-untyped-def]
    (one, two), clock = stores
    zoho = Zoho()
    first, second = OrgFieldBook(one.org_fields, ttl_s=3600), OrgFieldBook(two.org_fields, ttl_s=3600)

    ann, ada, bob = Person("1", "org-a"), Person("2", "org-a"), Person("3", "org-b")
    assert (await first.get(ann, zoho.read)).get("Lead_Status").choices == ("New", "Contacted")
    await first.get(ada, zoho.read)
    await second.get(ada, zoho.read)  # another replica, same database
    assert zoho.reads == 1
    await second.get(bob, zoho.read)  # another org
    assert zoho.reads == 2

    zoho.statuses = ("New", "Contacted", "Lost")
    clock.now += 3599
    assert len((await first.get(ann, zoho.read)).get("Lead_Status").choices) == 2
    clock.now += 1  # an hour old: read again, and the new copy serves the other replica too
    assert len((await first.get(ann, zoho.read)).get("Lead_Status").choices) == 3
    assert len((await second.get(ada, zoho.read)).get("Lead_Status").choices) == 3
    assert zoho.reads == 3


async def test_a_refresh_reads_at_once_whatever_the_age(stores) -> None:  # type: ignore[no-untyped-def]
    (one, _), _ = stores
    zoho, book, ann = Zoho(), OrgFieldBook(one.org_fields), Person("1", "org-a")
    await book.get(ann, zoho.read)
    zoho.statuses = ("Won",)
    assert (await book.refresh(ann, zoho.read)).get("Lead_Status").choices == ("Won",)
    assert (await book.get(ann, zoho.read)).get("Lead_Status").choices == ("Won",)
    assert zoho.reads == 2
