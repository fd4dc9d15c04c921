"""The CRM adapter against the Zoho emulator over real HTTP, through the real zohocrmsdk.

Each test is what a salesperson would notice: the Lead is really in (or really gone from) their Zoho org,
and every way Zoho can say no arrives as the error the bot explains.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from zohocrmsdk.src.com.zoho.crm.api.exception.sdk_exception import SDKException
from zohocrmsdk.src.com.zoho.crm.api.record import RecordOperations
from zohocrmsdk.src.com.zoho.crm.api.util.constants import Constants

from bot.leads.fields import zoho_data_types
from bot.leads.model import Lead
from bot.slack.views.errors import describe
from bot.zoho import (
    CrmBusy,
    CrmConnection,
    CrmRecord,
    FieldRejected,
    LeadNotFound,
    NoPermission,
    RateLimited,
    ReconnectNeeded,
    RecordPage,
    SearchRejected,
    ZohoCrm,
    ZohoTimeout,
    ZohoUnavailable,
    sdk_runtime,
)
from bot.zoho.sdk_runtime import NO_USER
from playground.zoho import ZohoEmulator
from store import PeeweeTokenStore, generate_key
from tests.bot.leads_fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    MemoryTokenStore,
    ZohoAccount,
    connect_account,
    log_in,
)

ANN, BOB = "ann@alpha.test", "bob@beta.test"


async def create_lead(crm: ZohoCrm, connection: CrmConnection, values: dict[str, str]) -> Lead:
    """As the LeadService calls it: the standard fields' Zoho types given, custom ones left to the org's list."""
    record = await crm.create_lead(connection, values, zoho_data_types(values))
    return Lead(record.id, record.values)


def as_lead(record: CrmRecord) -> Lead:
    return Lead(record.id, record.values)


def leads(page: RecordPage) -> tuple[Lead, ...]:
    """The records of a page as Leads, as the LeadService makes them."""
    return tuple(Lead(record.id, record.values) for record in page.records)


async def update_lead(crm: ZohoCrm, connection: CrmConnection, lead_id: str, values: dict[str, str]) -> Lead:
    record = await crm.update_lead(connection, lead_id, values, zoho_data_types(values))
    return Lead(record.id, record.values)


@pytest.fixture
async def emu() -> AsyncIterator[ZohoEmulator]:
    emulator = ZohoEmulator()
    emulator.register_client(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    emulator.add_user(email=ANN, full_name="Ann Alpha", org_name="Alpha Inc")
    emulator.add_user(email=BOB, full_name="Bob Beta", org_name="Beta Ltd")
    await emulator.start()
    yield emulator
    emulator.hang = False
    await emulator.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore()


def make_crm(store: MemoryTokenStore, tmp_path: Path, **limits: float) -> ZohoCrm:
    settings = {"max_workers": 4, "connect_timeout": 2, "read_timeout": 5, "call_timeout": 8} | limits
    return ZohoCrm(store, str(tmp_path / "zoho-resources"), **settings)  # type: ignore[arg-type]


@pytest.fixture
async def crm(store: MemoryTokenStore, tmp_path: Path) -> AsyncIterator[ZohoCrm]:
    adapter = make_crm(store, tmp_path)
    yield adapter
    await adapter.close()


@pytest.fixture
async def ann(http: aiohttp.ClientSession, emu: ZohoEmulator, store: MemoryTokenStore) -> ZohoAccount:
    return await connect_account(http, emu, store, ANN)


@pytest.fixture
async def bob(http: aiohttp.ClientSession, emu: ZohoEmulator, store: MemoryTokenStore) -> ZohoAccount:
    return await connect_account(http, emu, store, BOB)


def stored(emu: ZohoEmulator, account: ZohoAccount) -> dict[str, dict[str, object]]:
    return {str(r["id"]): r for r in emu.leads(account.org_id)}


# --- the happy paths -----------------------------------------------------------------------------------------


async def test_a_created_lead_is_in_the_users_org(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    values = {
        "Last_Name": "Doe",
        "First_Name": "Jane",
        "Company": "Acme Inc",
        "Email": "jane@acme.test",
        "Phone": "+1 555 0100",
        "No_of_Employees": "250",
        "Email_Opt_Out": "yes",
    }
    lead = await create_lead(crm, ann.connection, values)
    assert lead.id.isdigit()
    assert (lead.name, lead.company) == ("Jane Doe", "Acme Inc")
    record = stored(emu, ann)[lead.id]
    assert {k: record[k] for k in ("Last_Name", "First_Name", "Company", "Email", "Phone")} == {
        k: values[k] for k in ("Last_Name", "First_Name", "Company", "Email", "Phone")
    }
    assert record["No_of_Employees"] == 250 and record["Email_Opt_Out"] is True
    assert {c.email for c in emu.crm_calls} == {ANN}


async def test_get_returns_every_field_as_text(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    [lead_id] = emu.seed_leads(ANN, [{"Last_Name": "Roe", "Company": "Roe & Co", "City": "Oslo"}])
    lead = as_lead(await crm.get_lead(ann.connection, lead_id))
    assert lead.id == lead_id
    assert (lead.get("Last_Name"), lead.company, lead.get("City")) == ("Roe", "Roe & Co", "Oslo")
    assert lead.get("Owner") == "Ann Alpha"
    assert all(isinstance(v, str) and v for v in lead.values.values())


async def test_an_update_changes_only_the_given_fields_and_clears_empty_ones(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount
) -> None:
    [lead_id] = emu.seed_leads(ANN, [{"Last_Name": "Roe", "Company": "Old Co", "City": "Oslo", "Phone": "123"}])
    lead = await update_lead(crm, ann.connection, lead_id, {"Company": "New Co", "City": ""})
    assert (lead.company, lead.get("City"), lead.phone) == ("New Co", "", "123")
    record = stored(emu, ann)[lead_id]
    assert (record["Company"], record.get("City"), record["Phone"], record["Last_Name"]) == (
        "New Co",
        None,
        "123",
        "Roe",
    )


async def test_a_deleted_lead_is_gone(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    keep, gone = emu.seed_leads(ANN, 2)
    await crm.delete_lead(ann.connection, gone)
    assert list(stored(emu, ann)) == [keep]
    with pytest.raises(LeadNotFound):
        await crm.get_lead(ann.connection, gone)


async def test_25_leads_list_as_three_pages_newest_first(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    emu.seed_leads(ANN, 25)
    pages = [await crm.list_leads(ann.connection, page=n) for n in (1, 2, 3)]
    assert [len(leads(p)) for p in pages] == [10, 10, 5]
    assert [p.has_more for p in pages] == [True, True, False]
    names = [lead.name for p in pages for lead in leads(p)]
    assert len(set(names)) == 25
    assert all(lead.email.endswith("@example.test") for p in pages for lead in leads(p))
    empty = await crm.list_leads(ann.connection, page=4)
    assert (leads(empty), empty.has_more) == ((), False)


async def test_search_finds_by_word_and_by_email(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    emu.seed_leads(
        ANN,
        [
            {"Last_Name": "Doe", "Company": "Acme", "Email": "jane@acme.test"},
            {"Last_Name": "Roe", "Company": "Acme Labs", "Email": "rick@labs.test"},
            {"Last_Name": "Poe", "Company": "Other", "Email": "poe@other.test"},
        ],
    )
    found = await crm.search_leads(ann.connection, "acme")
    assert sorted(lead.name for lead in leads(found)) == ["Doe", "Roe"]
    assert not found.has_more
    by_email = await crm.search_leads(ann.connection, "rick@labs.test", by_email=True)
    assert [lead.name for lead in leads(by_email)] == ["Roe"]
    assert emu.crm_calls[-1].query.get("email") == "rick@labs.test"
    nothing = await crm.search_leads(ann.connection, "zzzz")
    assert leads(nothing) == ()
    with pytest.raises(SearchRejected):
        await crm.search_leads(ann.connection, " x ")


async def test_search_pages_through_many_matches(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    emu.seed_leads(ANN, 15)
    first = await crm.search_leads(ann.connection, "seed", page=1)
    second = await crm.search_leads(ann.connection, "seed", page=2)
    assert (len(leads(first)), first.has_more, len(leads(second)), second.has_more) == (10, True, 5, False)


async def test_zoho_counts_a_list_only_when_a_page_follows(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    emu.seed_leads(ANN, 25)

    def counts() -> int:
        return sum(call.path.endswith("/actions/count") for call in emu.crm_calls)

    first, last = await crm.list_leads(ann.connection, page=1), await crm.list_leads(ann.connection, page=3)
    assert (first.total, last.total, counts()) == (25, None, 1)  # the last page needs no count: it is the last
    searched = await crm.search_leads(ann.connection, "seed")
    assert searched.total == 25 and emu.crm_calls[-1].query == {"word": "seed"}
    quiet = await crm.list_leads(ann.connection, page=1, counted=False)
    assert (quiet.total, quiet.has_more, counts()) == (None, True, 2)


async def test_owned_leads_are_the_owners_only(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    emu.add_user(email="amy@alpha.test", full_name="Amy Other", org_name="Alpha Inc")
    emu.seed_leads(ANN, [{"Last_Name": "Mine"}])
    emu.seed_leads("amy@alpha.test", [{"Last_Name": "Hers"}])
    ann_id, amy_id = emu.user(ANN).crm_user_id, emu.user("amy@alpha.test").crm_user_id

    mine = await crm.owned_leads(ann.connection, ann_id)
    hers = await crm.owned_leads(ann.connection, amy_id)  # a colleague's, seen as Ann may see them

    assert [(lead.name, lead.owner) for lead in leads(mine)] == [("Mine", "Ann Alpha")]
    assert [(lead.name, lead.owner) for lead in leads(hers)] == [("Hers", "Amy Other")]
    with pytest.raises(ValueError):
        await crm.owned_leads(ann.connection, "1)or(Last_Name:starts_with:")


async def test_one_cjk_character_is_searched_in_the_names(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    emu.seed_leads(ANN, [{"Last_Name": "李"}, {"Last_Name": "王", "Company": "李氏"}, {"Last_Name": "Doe"}])
    found = await crm.search_leads(ann.connection, "李")
    assert sorted(lead.name for lead in leads(found)) == ["李", "王"]
    with pytest.raises(SearchRejected):
        await crm.search_leads(ann.connection, "x")  # one Latin letter would match nearly everything


# --- every way Zoho says no ------------------------------------------------------------------------------------


async def test_a_missing_last_name_is_refused_by_zoho(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    with pytest.raises(FieldRejected) as caught:
        await create_lead(crm, ann.connection, {"Company": "Acme"})
    assert (caught.value.api_name, caught.value.code) == ("Last_Name", "MANDATORY_NOT_FOUND")
    assert "Last Name" in describe(caught.value) and "Nothing was saved" in describe(caught.value)
    assert emu.leads(ann.org_id) == []


async def test_a_bad_email_that_skipped_our_checks_is_refused_and_echoed(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount
) -> None:
    with pytest.raises(FieldRejected) as caught:
        await create_lead(crm, ann.connection, {"Last_Name": "Doe", "Email": "not-an-email"})
    assert (caught.value.api_name, caught.value.value, caught.value.code) == ("Email", "not-an-email", "INVALID_DATA")
    assert "Email `not-an-email`" in describe(caught.value)
    assert emu.leads(ann.org_id) == []


async def test_unknown_ids_are_not_found(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    missing = "5725767000009999999"
    for call in (
        crm.get_lead(ann.connection, missing),
        update_lead(crm, ann.connection, missing, {"Company": "X"}),
        crm.delete_lead(ann.connection, missing),
    ):
        with pytest.raises(LeadNotFound) as caught:
            await call
        assert missing in describe(caught.value)
    calls_before = len(emu.crm_calls)
    with pytest.raises(LeadNotFound):
        await crm.get_lead(ann.connection, "../settings/fields")
    assert len(emu.crm_calls) == calls_before


async def test_no_permission_says_what_is_not_allowed(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    [lead_id] = emu.seed_leads(ANN, 1)
    emu.set_permissions(ANN, delete=False)
    with pytest.raises(NoPermission) as caught:
        await crm.delete_lead(ann.connection, lead_id)
    assert "delete Leads" in describe(caught.value)
    assert list(stored(emu, ann)) == [lead_id]


async def test_a_429_asking_for_longer_than_the_call_may_take_is_told_at_once_with_when(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount
) -> None:
    emu.fail_with, emu.retry_after = 429, 30  # the call may take 8 s in all
    calls_before = len(emu.crm_calls)
    with pytest.raises(RateLimited) as caught:
        await crm.list_leads(ann.connection)
    assert caught.value.retry_after == 30
    assert "30 seconds" in describe(caught.value)
    with pytest.raises(RateLimited):
        await create_lead(crm, ann.connection, {"Last_Name": "Doe"})
    assert len(emu.crm_calls) - calls_before == 2  # asked once each: no retry that could not be in time


async def test_429s_for_too_many_calls_at_once_are_waited_out_and_every_call_answered(
    store: MemoryTokenStore, tmp_path: Path, emu: ZohoEmulator, ann: ZohoAccount
) -> None:
    crm = make_crm(store, tmp_path, max_workers=8, jobs_per_user=8, org_concurrency=6)  # the bot allows 6 ...
    emu.seed_leads(ANN, 2)
    try:
        await crm.list_leads(ann.connection)  # field metadata fetched first
        emu.org_concurrency, emu.latency = 2, 0.1  # ... but this org's edition takes 2 at once
        pages = await asyncio.gather(*(crm.list_leads(ann.connection) for _ in range(8)))
        created = await asyncio.gather(
            *(create_lead(crm, ann.connection, {"Last_Name": f"Busy {n}", "Company": "Acme"}) for n in range(4))
        )
    finally:
        await crm.close()

    assert [len(leads(page)) for page in pages] == [2] * 8
    assert len(created) == 4 and len(stored(emu, ann)) == 2 + 4  # each created once, none twice
    assert any(call.status == 429 for call in emu.crm_calls)  # Zoho did push back


async def test_at_most_org_concurrency_calls_of_one_org_are_in_flight_and_other_orgs_pass(
    store: MemoryTokenStore, tmp_path: Path, emu: ZohoEmulator, ann: ZohoAccount, bob: ZohoAccount
) -> None:
    crm = make_crm(store, tmp_path, max_workers=16, jobs_per_user=16, org_concurrency=3)
    try:
        await crm.list_leads(ann.connection)
        await crm.list_leads(bob.connection)
        emu.latency = 0.1
        emu.most_in_flight = {}
        await asyncio.gather(*(crm.list_leads(account.connection) for account in [ann] * 12 + [bob] * 12))
    finally:
        await crm.close()

    assert emu.most_in_flight == {ann.org_id: 3, bob.org_id: 3}


async def test_two_adapters_sharing_a_database_share_the_orgs_slots_and_give_every_one_back(
    store: MemoryTokenStore, tmp_path: Path, emu: ZohoEmulator, ann: ZohoAccount
) -> None:
    # Two workers' adapters, each with its own store on one SQLite file: each alone would let 3 calls fly.
    slot_stores = [PeeweeTokenStore(f"sqlite:///{tmp_path / 'slots.db'}") for _ in range(2)]
    crms = [
        make_crm(store, tmp_path / f"w{n}", max_workers=8, jobs_per_user=8, org_concurrency=3, org_leases=s.org_slots)
        for n, s in enumerate(slot_stores)
    ]
    try:
        for crm in crms:
            await crm.list_leads(ann.connection)
        emu.latency = 0.1
        emu.most_in_flight = {}
        await asyncio.gather(*(crms[n % 2].list_leads(ann.connection) for n in range(16)))
        left = slot_stores[0].org_slots.in_flight(ann.connection.org_key)
    finally:
        for crm in crms:
            await crm.close()
        for slot_store in slot_stores:
            slot_store.close()

    assert emu.most_in_flight == {ann.org_id: 3} and left == 0


async def test_a_server_error_is_unavailable(crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount) -> None:
    emu.fail_with = 500
    for call in (crm.list_leads(ann.connection), create_lead(crm, ann.connection, {"Last_Name": "Doe"})):
        with pytest.raises(ZohoUnavailable) as caught:
            await call
        assert caught.value.status == 500


async def html_server(status: int) -> tuple[web.AppRunner, str]:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, text="<html><body>Bad Gateway</body></html>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def test_a_proxy_error_page_is_unavailable(crm: ZohoCrm, ann: ZohoAccount) -> None:
    runner, url = await html_server(502)
    try:
        elsewhere = CrmConnection(ann.connection.token_id, ann.connection.user_signature, url, url)
        for call in (crm.list_leads(elsewhere), create_lead(crm, elsewhere, {"Last_Name": "Doe"})):
            with pytest.raises(ZohoUnavailable) as caught:
                await call
            assert caught.value.status == 502
    finally:
        await runner.cleanup()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_zoho_is_unavailable(crm: ZohoCrm, ann: ZohoAccount) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    gone = CrmConnection(ann.connection.token_id, ann.connection.user_signature, url, url)
    with pytest.raises(ZohoUnavailable):
        await create_lead(crm, gone, {"Last_Name": "Doe"})


async def test_an_expired_or_revoked_token_needs_a_reconnect(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount, store: MemoryTokenStore
) -> None:
    emu.expire_access_tokens(ANN)
    with pytest.raises(ReconnectNeeded) as caught:
        await crm.list_leads(ann.connection)
    assert caught.value.code == "INVALID_TOKEN"
    assert "/lead login" in describe(caught.value)
    store.delete_token(ann.connection.token_id)
    with pytest.raises(ReconnectNeeded):
        await crm.list_leads(ann.connection)


async def test_a_token_without_lead_scope_needs_a_reconnect(
    crm: ZohoCrm, emu: ZohoEmulator, http: aiohttp.ClientSession, store: MemoryTokenStore
) -> None:
    narrow = await connect_account(http, emu, store, ANN, scopes="ZohoCRM.users.READ,ZohoCRM.org.READ")
    with pytest.raises(ReconnectNeeded) as caught:
        await crm.list_leads(narrow.connection)
    assert caught.value.code == "OAUTH_SCOPE_MISMATCH"


async def test_an_expiring_token_is_refreshed_at_this_users_accounts_server(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount, store: MemoryTokenStore
) -> None:
    token = store.find_token_by_id(ann.connection.token_id)
    token.set_expires_in(str(int(time.time() * 1000) + 1000))  # within the SDK's 5 s refresh margin
    store.save_token(token)
    page = await crm.list_leads(ann.connection)
    assert leads(page) == ()
    assert emu.counters["refresh"] == 1
    fresh = store.access_token_of(ann.connection.token_id)
    assert fresh != ann.access_token
    assert emu.crm_calls[-1].access_token == fresh


async def test_a_call_reads_its_token_from_the_store_once_however_many_requests_it_makes(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount, store: MemoryTokenStore
) -> None:
    lead = await create_lead(crm, ann.connection, {"Last_Name": "Once", "Company": "Acme"})
    calls_before, reads_before = len(emu.crm_calls), store.reads_by_id

    updated = await update_lead(crm, ann.connection, lead.id, {"Company": "Acme Two"})  # an update, then a read

    assert updated.values["Company"] == "Acme Two"
    assert len(emu.crm_calls) - calls_before == 2
    assert store.reads_by_id - reads_before == 1  # the SDK asks before every request; the database is read once
    assert {c.access_token for c in emu.crm_calls[calls_before:]} == {ann.access_token}


async def test_a_list_parses_the_users_field_file_once_and_a_rewritten_file_afresh(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.seed_leads(ANN, [{"Last_Name": f"Doe {n}", "Company": f"Acme {n}"} for n in range(10)])
    parsed: list[str] = []
    sdk_reader = sdk_runtime._sdk_get_json
    monkeypatch.setattr(sdk_runtime, "_sdk_get_json", lambda path: parsed.append(path) or sdk_reader(path))

    first = await crm.list_leads(ann.connection)  # the SDK fetches Ann's Lead fields and writes her file
    first_parses = len(parsed)
    second = await crm.list_leads(ann.connection)

    expected = {f"Doe {n}" for n in range(10)}
    assert {lead.values["Last_Name"] for lead in leads(first)} == expected
    assert {lead.values["Last_Name"] for lead in leads(second)} == expected
    assert len(parsed) - first_parses == 1  # the SDK asks for it 12 times: once per record, again for the fields
    assert first_parses >= 2  # in the first call the file changed under the SDK, and was parsed again after
    assert len(set(parsed)) == 1


def field_calls(emu: ZohoEmulator, since: int = 0, until: int | None = None) -> int:
    return sum(1 for call in emu.crm_calls[since:until] if call.path.endswith("/settings/fields"))


async def test_a_persons_first_list_costs_no_field_calls_when_someone_of_the_org_listed_before(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount, bob: ZohoAccount, store: MemoryTokenStore, http
) -> None:
    emu.add_user(email="amy@alpha.test", full_name="Amy Alpha", org_name="Alpha Inc")
    amy = await connect_account(http, emu, store, "amy@alpha.test")
    emu.seed_leads(ANN, [{"Last_Name": "Doe", "Company": "Acme"}])
    emu.seed_leads("amy@alpha.test", [{"Last_Name": "Roe", "Company": "Acme"}])

    await crm.list_leads(ann.connection)
    assert field_calls(emu) > 0  # the org's fields, fetched once

    before = len(emu.crm_calls)
    page = await crm.list_leads(amy.connection)
    assert "Roe" in [lead.values["Last_Name"] for lead in leads(page)]
    assert field_calls(emu, before) == 0 and len(emu.crm_calls) - before == 1  # the list, as Ann's second would

    before = len(emu.crm_calls)
    await crm.list_leads(bob.connection)
    assert field_calls(emu, before) > 0  # another org: its own fields


async def test_a_new_machine_finds_the_orgs_field_file_in_the_database(
    emu: ZohoEmulator, ann: ZohoAccount, store: MemoryTokenStore, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    database = PeeweeTokenStore(f"sqlite:///{tmp_path / 'shared.db'}", generate_key())
    emu.add_user(email="amy@alpha.test", full_name="Amy Alpha", org_name="Alpha Inc")
    amy = await connect_account(http, emu, store, "amy@alpha.test")
    emu.seed_leads("amy@alpha.test", [{"Last_Name": "Roe", "Company": "Acme"}])
    first_machine = ZohoCrm(store, str(tmp_path / "machine-1"), max_workers=2, shared_fields=database.org_fields)
    second_machine = ZohoCrm(store, str(tmp_path / "machine-2"), max_workers=2, shared_fields=database.org_fields)
    try:
        await first_machine.lead_metadata(ann.connection)  # Ann logs in on the first machine
        assert field_calls(emu) > 0  # the org's fields, fetched there once

        before = len(emu.crm_calls)
        page = await second_machine.list_leads(amy.connection)  # Amy's first command, on another machine

        assert [lead.values["Last_Name"] for lead in leads(page)] == ["Roe"]
        assert field_calls(emu, before) == 0 and len(emu.crm_calls) - before == 1  # the list alone
        assert list((tmp_path / "machine-2").rglob("org-*.json"))  # written to that machine's folder
    finally:
        await first_machine.close()
        await second_machine.close()
        database.close()


async def test_a_login_shares_a_field_file_that_was_on_the_disk_before_the_database_had_it(
    emu: ZohoEmulator, ann: ZohoAccount, store: MemoryTokenStore, tmp_path: Path
) -> None:
    database = PeeweeTokenStore(f"sqlite:///{tmp_path / 'shared.db'}", generate_key())
    emu.seed_leads(ANN, [{"Last_Name": "Doe", "Company": "Acme"}])
    before_the_copy = ZohoCrm(store, str(tmp_path / "machine-1"), max_workers=2)  # a version without the copy
    await before_the_copy.list_leads(ann.connection)
    await before_the_copy.close()
    first_machine = ZohoCrm(store, str(tmp_path / "machine-1"), max_workers=2, shared_fields=database.org_fields)
    second_machine = ZohoCrm(store, str(tmp_path / "machine-2"), max_workers=2, shared_fields=database.org_fields)
    try:
        await first_machine.lead_metadata(ann.connection)  # a login: the SDK's file is on this disk already

        before = len(emu.crm_calls)
        await second_machine.list_leads(ann.connection)

        assert field_calls(emu, before) == 0  # the login put the disk's file in the database
    finally:
        await first_machine.close()
        await second_machine.close()
        database.close()


async def test_a_copy_of_a_past_period_is_not_used(
    emu: ZohoEmulator, ann: ZohoAccount, store: MemoryTokenStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = PeeweeTokenStore(f"sqlite:///{tmp_path / 'shared.db'}", generate_key())
    emu.seed_leads(ANN, [{"Last_Name": "Doe", "Company": "Acme"}])
    first_machine = ZohoCrm(store, str(tmp_path / "machine-1"), max_workers=2, shared_fields=database.org_fields)
    second_machine = ZohoCrm(store, str(tmp_path / "machine-2"), max_workers=2, shared_fields=database.org_fields)
    try:
        await first_machine.list_leads(ann.connection)
        later = time.time() + sdk_runtime.FIELD_CACHE_SECONDS
        monkeypatch.setattr(sdk_runtime.time, "time", lambda: later)

        before = len(emu.crm_calls)
        await second_machine.list_leads(ann.connection)

        assert field_calls(emu, before) > 0  # an hour on, the org's fields are fetched anew, not taken from the copy
    finally:
        await first_machine.close()
        await second_machine.close()
        database.close()


async def test_when_an_orgs_period_ends_its_calls_read_the_last_file_and_the_new_one_is_fetched_once_behind(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.seed_leads(ANN, [{"Last_Name": "Doe", "Company": "Acme"}])
    await crm.list_leads(ann.connection)
    one_fetch = field_calls(emu)
    later = time.time() + sdk_runtime.FIELD_CACHE_SECONDS
    monkeypatch.setattr(sdk_runtime.time, "time", lambda: later)
    emu.latency = 0.3

    before = len(emu.crm_calls)
    pages = await asyncio.gather(*(crm.list_leads(ann.connection) for _ in range(4)))

    assert all([lead.values["Last_Name"] for lead in leads(page)] == ["Doe"] for page in pages)
    assert field_calls(emu, before, until=before + 4) == 0  # the four lists went first, with the last hour's file
    while not emu.in_flight.get(ann.org_id):  # behind them, the fetch of this period's fields has begun
        await asyncio.sleep(0.01)
    page = await crm.list_leads(ann.connection)  # this period's file holds the SDK's placeholder meanwhile
    assert [lead.values["Last_Name"] for lead in leads(page)] == ["Doe"]
    assert field_calls(emu, before) < one_fetch  # answered from the last hour's file while the fetch went on
    new_file = Path(
        crm.resource_path, Constants.FIELD_DETAILS_DIRECTORY, sdk_runtime.org_cache_file(ann.connection, later) or ""
    )
    for _ in range(500):  # behind them, this period's is fetched: a layout changed in Zoho shows within the period
        if new_file.exists() and field_calls(emu, before) == one_fetch:
            break
        await asyncio.sleep(0.02)
    assert new_file.exists() and field_calls(emu, before) == one_fetch  # once, for four calls that noticed

    before = len(emu.crm_calls)
    await crm.list_leads(ann.connection)
    assert len(emu.crm_calls) - before == 1  # the list alone, from the new file


async def test_an_orgs_first_field_fetch_does_not_hold_up_another_orgs_calls(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount, bob: ZohoAccount
) -> None:
    emu.seed_leads(ANN, [{"Last_Name": "Doe", "Company": "Acme"}])
    emu.seed_leads(BOB, [{"Last_Name": "Roe", "Company": "Beta"}])
    await crm.list_leads(ann.connection)  # Alpha's fields are on the disk
    emu.latency = 0.5  # Beta's first list: its field calls (two or more), one after the other, then the list

    bobs = asyncio.create_task(crm.list_leads(bob.connection))
    while not emu.in_flight.get(bob.org_id):  # Beta's first field call has reached Zoho
        await asyncio.sleep(0.01)
    anns = await crm.list_leads(ann.connection)

    assert [lead.values["Last_Name"] for lead in leads(anns)] == ["Doe"]
    assert (BOB, "/crm/v8/Leads") not in [(call.email, call.path) for call in emu.crm_calls]
    assert not bobs.done()  # Ann was answered while Beta's fields were still being fetched
    assert [lead.values["Last_Name"] for lead in leads(await bobs)] == ["Roe"]


def period_file(crm: ZohoCrm, account: ZohoAccount, now: float) -> Path:
    """The org's field file of the period `now` falls in, in this adapter's folder."""
    name = sdk_runtime.org_cache_file(account.connection, now)
    assert name is not None
    return Path(crm.resource_path, Constants.FIELD_DETAILS_DIRECTORY, name)


def fields_of(path: Path, module: str = "leads") -> dict[str, object] | None:
    """The module's entry in a field file (None: the file or the entry is missing)."""
    return json.loads(path.read_text()).get(module) if path.exists() else None


async def eventually(condition: Callable[[], object], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.02)


async def test_a_failed_fetch_behind_leaves_the_last_periods_file_serving_and_is_not_asked_again_at_once(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    emu.seed_leads(ANN, [{"Last_Name": "Doe", "Company": "Acme"}])
    await crm.list_leads(ann.connection)
    later = time.time() + sdk_runtime.FIELD_CACHE_SECONDS
    monkeypatch.setattr(sdk_runtime.time, "time", lambda: later)
    emu.fail_fields_of = ["Leads", "Accounts", "Contacts", "Deals"]  # Zoho's field metadata fails for a while

    page = await crm.list_leads(ann.connection)  # from the last period's file; the fetch behind it fails
    assert [lead.values["Last_Name"] for lead in leads(page)] == ["Doe"]
    await eventually(lambda: "was not fetched anew" in caplog.text)

    before = len(emu.crm_calls)
    pages = await asyncio.gather(*(crm.list_leads(ann.connection) for _ in range(3)))
    await asyncio.sleep(0.2)  # a fetch behind these would have sent its first call by now
    assert all([lead.values["Last_Name"] for lead in leads(page)] == ["Doe"] for page in pages)
    assert field_calls(emu, before) == 0  # the last period's file still serves, and Zoho is not asked at once


async def test_a_fetch_that_never_ended_is_done_again_not_taken_for_the_fields(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount
) -> None:
    emu.seed_leads(ANN, [{"Last_Name": "Doe", "Company": "Acme"}])
    await crm.list_leads(ann.connection)
    this_period = period_file(crm, ann, time.time())
    # a worker killed in the middle of a fetch left the SDK's placeholder for the module
    this_period.write_text(json.dumps({"leads": {}}))

    before = len(emu.crm_calls)
    page = await crm.list_leads(ann.connection)

    assert [lead.values["Last_Name"] for lead in leads(page)] == ["Doe"]
    assert field_calls(emu, before) > 0 and fields_of(this_period)  # fetched again, not read as an empty layout


async def test_a_last_periods_file_without_the_module_is_not_served_and_the_org_is_fetched_once(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.seed_leads(ANN, [{"Last_Name": "Doe", "Company": "Acme"}])
    emu.fail_fields_of = ["Leads"]
    with pytest.raises(ZohoUnavailable):  # the period's only call: its field fetch failed
        await crm.list_leads(ann.connection)
    emu.fail_fields_of = []
    later = time.time() + sdk_runtime.FIELD_CACHE_SECONDS
    monkeypatch.setattr(sdk_runtime.time, "time", lambda: later)

    before = len(emu.crm_calls)
    page = await crm.list_leads(ann.connection)
    await asyncio.sleep(0.2)  # a fetch behind it would have sent its first call by now

    assert [lead.values["Last_Name"] for lead in leads(page)] == ["Doe"]
    assert field_calls(emu, before) > 0  # this period's fields, fetched for the call: the last period had none
    assert emu.crm_calls[-1].path.endswith("/Leads")  # ... once, before the list, and nothing behind it
    assert fields_of(period_file(crm, ann, later))


async def test_a_lookups_fields_zoho_refuses_do_not_make_every_call_fetch_again(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.seed_leads(ANN, [{"Last_Name": "Doe", "Company": "Acme"}])
    await crm.list_leads(ann.connection)
    later = time.time() + sdk_runtime.FIELD_CACHE_SECONDS
    monkeypatch.setattr(sdk_runtime.time, "time", lambda: later)
    emu.fail_fields_of = ["Deals"]  # a lookup's module: the SDK logs the refusal and keeps `{}` for it

    await crm.list_leads(ann.connection)  # from the last period's file; this period's is fetched behind
    await eventually(lambda: bool(fields_of(period_file(crm, ann, later))))
    before = len(emu.crm_calls)
    for _ in range(3):
        await crm.list_leads(ann.connection)
    await asyncio.sleep(0.2)

    assert field_calls(emu, before) == 0  # this period's file holds the Leads fields: it serves, whole or not
    assert fields_of(period_file(crm, ann, later), "deals") == {}


async def test_a_call_whose_token_is_refused_does_not_start_a_fetch_behind(
    crm: ZohoCrm,
    emu: ZohoEmulator,
    ann: ZohoAccount,
    store: MemoryTokenStore,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await crm.list_leads(ann.connection)
    later = time.time() + sdk_runtime.FIELD_CACHE_SECONDS
    monkeypatch.setattr(sdk_runtime.time, "time", lambda: later)
    async with http.post(f"{emu.url}/oauth/v2/token/revoke", data={"token": ann.refresh_token}) as answer:
        assert answer.status == 200
    token = store.find_token_by_id(ann.connection.token_id)
    token.set_expires_in(str(int(time.time() * 1000)))
    store.save_token(token)
    before = len(emu.accounts_calls)

    with pytest.raises(ReconnectNeeded):
        await crm.list_leads(ann.connection)
    await asyncio.sleep(0.2)  # a fetch behind it would have asked for a token by now

    assert len(emu.accounts_calls) - before == 1  # the call's own refused refresh, not a second one behind it


async def test_a_refused_refresh_needs_a_reconnect(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount, store: MemoryTokenStore, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{emu.url}/oauth/v2/token/revoke", data={"token": ann.refresh_token}) as answer:
        assert answer.status == 200
    token = store.find_token_by_id(ann.connection.token_id)
    token.set_expires_in(str(int(time.time() * 1000)))
    store.save_token(token)
    with pytest.raises(ReconnectNeeded):
        await crm.list_leads(ann.connection)


# --- time limits ---------------------------------------------------------------------------------------------


async def test_a_hung_zoho_times_out_within_the_call_timeout(
    store: MemoryTokenStore, tmp_path: Path, emu: ZohoEmulator, ann: ZohoAccount
) -> None:
    crm = make_crm(store, tmp_path, call_timeout=0.5, read_timeout=30)
    try:
        emu.hang = True
        started = time.monotonic()
        with pytest.raises(ZohoTimeout) as caught:
            await crm.list_leads(ann.connection)
        assert time.monotonic() - started < 2
        assert "0.5 seconds" in describe(caught.value)
    finally:
        emu.hang = False
        await crm.close()


async def test_a_call_that_waited_for_its_orgs_turn_then_ran_out_of_time_says_how_long_it_waited(
    store: MemoryTokenStore, tmp_path: Path, emu: ZohoEmulator, ann: ZohoAccount
) -> None:
    crm = make_crm(store, tmp_path, org_concurrency=1, call_timeout=1.6, read_timeout=30)

    async def zoho_idle() -> None:  # a call the bot stopped waiting for runs on, its org slot held, until Zoho answers
        while any(emu.in_flight.values()):
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)

    try:
        await crm.list_leads(ann.connection)  # field metadata fetched first
        emu.latency = 1.0  # Zoho answers each call in 1 s; the org takes one call at a time
        first = asyncio.ensure_future(crm.list_leads(ann.connection))
        await asyncio.sleep(0.1)

        with pytest.raises(ZohoTimeout) as read:
            await crm.list_leads(ann.connection)  # waits ~0.9 s for the slot, then Zoho needs 1 s more
        await first
        await zoho_idle()
        first_write = asyncio.ensure_future(crm.list_leads(ann.connection))
        await asyncio.sleep(0.1)
        with pytest.raises(ZohoTimeout) as write:
            await create_lead(crm, ann.connection, {"Last_Name": "Late"})
        await first_write
        await zoho_idle()

        assert 0.5 <= read.value.waited <= 1.3, read.value.waited
        assert describe(read.value) == (
            f"No answer came within 1.6 seconds, {read.value.waited:g} of them waiting for a turn (your "
            "organisation's Zoho calls were all busy). Please try again in a minute."
        )
        assert describe(write.value).endswith("It may have been saved: check with `/lead list` before trying again.")
    finally:
        emu.latency = 0.0
        await crm.close()


async def test_a_429_pause_before_a_timeout_is_not_told_as_a_wait_for_a_turn(
    store: MemoryTokenStore, tmp_path: Path, emu: ZohoEmulator, ann: ZohoAccount
) -> None:
    crm = make_crm(store, tmp_path, call_timeout=3, read_timeout=30)
    try:
        await crm.list_leads(ann.connection)
        before = len(emu.crm_calls)
        emu.fail_with, emu.retry_after = 429, 1  # "wait 1 s", then Zoho hangs on the try after it
        listing = asyncio.ensure_future(crm.list_leads(ann.connection))
        while len(emu.crm_calls) == before:
            await asyncio.sleep(0.01)
        emu.fail_with, emu.hang = None, True

        with pytest.raises(ZohoTimeout) as caught:
            await listing

        assert caught.value.waited < 0.5, caught.value.waited  # the second try got its turn at once
        assert describe(caught.value) == "No answer came within 3 seconds. Please try again in a minute."
    finally:
        emu.fail_with, emu.hang = None, False
        await crm.close()


async def test_a_call_that_waited_behind_the_persons_own_hung_calls_says_so_in_the_log(
    store: MemoryTokenStore, tmp_path: Path, emu: ZohoEmulator, ann: ZohoAccount, caplog
) -> None:
    crm = make_crm(store, tmp_path, jobs_per_user=1, org_concurrency=4, call_timeout=0.8, read_timeout=30)
    try:
        await crm.list_leads(ann.connection)
        emu.hang = True
        with pytest.raises(ZohoTimeout):
            await crm.list_leads(ann.connection)  # its job runs on, holding Ann's one share

        with pytest.raises(CrmBusy):
            await crm.list_leads(ann.connection)

        assert (
            "CRM list not started in 0.8 s: the person's earlier calls still ran (at most 1 of one person's at once"
            in caplog.text
        )
        assert "ZOHO_ORG_CONCURRENCY" not in caplog.text  # the org had 3 slots free
    finally:
        emu.hang = False
        await crm.close()


async def test_a_hung_write_frees_its_worker_and_the_pool_serves_another_user(
    store: MemoryTokenStore, tmp_path: Path, emu: ZohoEmulator, ann: ZohoAccount, bob: ZohoAccount
) -> None:
    # One worker; the socket read limit (not the call limit) must end a POST, which the SDK sends without one.
    crm = make_crm(store, tmp_path, max_workers=1, read_timeout=0.5, call_timeout=10)
    try:
        await crm.list_leads(bob.connection)  # field metadata fetched before the hang
        emu.hang = True
        started = time.monotonic()
        with pytest.raises(ZohoTimeout):
            await create_lead(crm, ann.connection, {"Last_Name": "Doe"})
        with pytest.raises(ZohoTimeout):
            await crm.delete_lead(bob.connection, "5725767000000000001")
        assert time.monotonic() - started < 4, "each hung call ended by the socket limit, not the 10 s call limit"
        emu.hang = False
        lead = await create_lead(crm, bob.connection, {"Last_Name": "After"})
        assert lead.id in stored(emu, bob)
        assert emu.crm_calls[-1].email == BOB
    finally:
        emu.hang = False
        await crm.close()


async def test_one_users_hung_calls_cannot_take_the_pool_from_another_user(
    store: MemoryTokenStore, tmp_path: Path, http: aiohttp.ClientSession, emu: ZohoEmulator, bob: ZohoAccount
) -> None:
    # Ann's org lives on a second Zoho (another data centre) that hangs; Bob's Zoho answers.
    hung = ZohoEmulator()
    hung.register_client(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    hung.add_user(email=ANN, full_name="Ann Alpha", org_name="Alpha Inc")
    await hung.start()
    crm = make_crm(store, tmp_path, max_workers=4, jobs_per_user=2, read_timeout=30, call_timeout=3)
    try:
        ann = await connect_account(http, hung, store, ANN)
        await crm.list_leads(ann.connection)  # each user's field metadata fetched before the hang
        await crm.list_leads(bob.connection)
        hung.hang = True
        ann_calls = [asyncio.ensure_future(crm.list_leads(ann.connection)) for _ in range(8)]
        await asyncio.sleep(0.3)  # Ann's calls now hold every worker she may have

        page = await crm.list_leads(bob.connection)

        assert leads(page) == () and emu.crm_calls[-1].email == BOB
        outcomes = await asyncio.gather(*ann_calls, return_exceptions=True)
        assert {type(o) for o in outcomes} <= {ZohoTimeout, CrmBusy}
        assert sum(isinstance(o, ZohoTimeout) for o in outcomes) == 2, "only two of Ann's calls ever ran"
    finally:
        hung.hang = False
        await crm.close()
        await hung.stop()


async def test_a_call_that_never_got_a_worker_says_nothing_was_sent(
    store: MemoryTokenStore, tmp_path: Path, emu: ZohoEmulator, ann: ZohoAccount, bob: ZohoAccount
) -> None:
    crm = make_crm(store, tmp_path, max_workers=1, read_timeout=30, call_timeout=1)
    try:
        await crm.list_leads(bob.connection)  # field metadata fetched before the hang
        emu.hang = True
        blocking = asyncio.ensure_future(crm.list_leads(bob.connection))
        await asyncio.sleep(0.2)
        before = len(emu.crm_calls)

        with pytest.raises(CrmBusy) as caught:
            await create_lead(crm, ann.connection, {"Last_Name": "Doe"})

        assert "was not sent" in describe(caught.value) and "nothing was changed" in describe(caught.value)
        with pytest.raises(ZohoTimeout):
            await blocking
        emu.hang = False
        assert [c for c in emu.crm_calls[before:] if c.email == ANN] == []
        assert stored(emu, ann) == {}
    finally:
        emu.hang = False
        await crm.close()


async def test_a_users_first_calls_arriving_together_all_succeed(
    store: MemoryTokenStore, tmp_path: Path, emu: ZohoEmulator, ann: ZohoAccount
) -> None:
    crm = make_crm(store, tmp_path, max_workers=16, jobs_per_user=16)
    # The SDK writes the user's field-metadata file during the first call and reads it in the others.
    emu.seed_leads(ANN, 3)

    calls = [crm.list_leads(ann.connection) for _ in range(10)]
    calls += [create_lead(crm, ann.connection, {"Last_Name": f"Doe {n}", "Company": "Acme"}) for n in range(6)]
    calls += [crm.search_leads(ann.connection, "Doe") for _ in range(10)]
    try:
        answers = await asyncio.gather(*calls, return_exceptions=True)
    finally:
        await crm.close()

    assert [a for a in answers if isinstance(a, Exception)] == []
    assert len(stored(emu, ann)) == 3 + 6


async def test_calls_from_one_worker_reuse_one_connection_to_zoho(
    store: MemoryTokenStore, tmp_path: Path, emu: ZohoEmulator, ann: ZohoAccount, bob: ZohoAccount
) -> None:
    # Real Zoho is HTTPS: a new connection per call would cost a TLS handshake per call.
    crm = make_crm(store, tmp_path, max_workers=1)
    try:
        await crm.list_leads(ann.connection)
        before = len(emu.crm_calls)
        await crm.list_leads(ann.connection)
        await create_lead(crm, bob.connection, {"Last_Name": "Kept", "Company": "Alive"})
        await crm.list_leads(ann.connection)
    finally:
        await crm.close()

    calls = emu.crm_calls[before:]
    assert len(calls) >= 3 and len({call.client_port for call in calls}) == 1
    assert [c.email for c in calls if c.method == "POST"] == [BOB]  # each call still carried its own user's token


# --- isolation -------------------------------------------------------------------------------------------------


async def test_concurrent_jobs_of_two_users_never_cross(
    store: MemoryTokenStore, tmp_path: Path, emu: ZohoEmulator, ann: ZohoAccount, bob: ZohoAccount
) -> None:
    crm = make_crm(store, tmp_path, max_workers=4)
    accounts = {ANN: ann, BOB: bob}
    seeded = {ANN: emu.seed_leads(ANN, 12), BOB: emu.seed_leads(BOB, 12)}
    per_page = {ANN: 3, BOB: 4}  # the list calls of each user are told apart by their per_page
    emu.latency = 0.005
    rng = random.Random(20261123)
    expected_by_marker: dict[str, str] = {}
    created: dict[str, list[str]] = {ANN: [], BOB: []}
    listed: dict[str, set[str]] = {ANN: set(), BOB: set()}

    async def job(n: int, email: str) -> None:
        account, other = accounts[email], BOB if email == ANN else ANN
        kind = n % 5
        if kind == 0:
            lead_id = rng.choice(seeded[email][:6])  # the first six are read by their owner ...
            expected_by_marker[f"/crm/v8/Leads/{lead_id}"] = email
            assert (await crm.get_lead(account.connection, lead_id)).id == lead_id
        elif kind == 1:
            word = f"{email.split('@')[0]}x{n}"
            expected_by_marker[f"word={word}"] = email
            await crm.search_leads(account.connection, word)
        elif kind == 2:
            page = await crm.list_leads(account.connection, per_page=per_page[email])
            listed[email].update(lead.id for lead in leads(page))
        elif kind == 3:
            name = f"{email.split('@')[0]}-{n}"
            created[email].append(name)
            await create_lead(crm, account.connection, {"Last_Name": name})
        else:
            lead_id = rng.choice(seeded[other][6:])  # ... the last six only tried by the other user
            expected_by_marker[f"/crm/v8/Leads/{lead_id}"] = email
            with pytest.raises(LeadNotFound):
                await crm.get_lead(account.connection, lead_id)

    try:
        emu.reset_counters()
        plan = [(n, ANN if rng.random() < 0.5 else BOB) for n in range(50)]
        await asyncio.gather(*(job(n, email) for n, email in plan))
    finally:
        emu.latency = 0
        await crm.close()

    token_of = {
        ANN: store.access_token_of(ann.connection.token_id),
        BOB: store.access_token_of(bob.connection.token_id),
    }
    assert len(emu.crm_calls) >= 50
    for call in emu.crm_calls:
        assert call.email in (ANN, BOB) and call.access_token == token_of[call.email], call
        if call.path in expected_by_marker:
            assert call.email == expected_by_marker[call.path], call
        if "word" in call.query:
            assert call.email == expected_by_marker[f"word={call.query['word']}"], call
        if call.path == "/crm/v8/Leads" and call.method == "GET":
            assert int(call.query["per_page"]) == per_page[call.email], call
    for email, account in accounts.items():
        records = emu.leads(account.org_id)
        names = {r["Last_Name"] for r in records} - {f"Lead {i + 1}" for i in range(12)}
        assert names == set(created[email])
        assert listed[email] and listed[email] <= {str(r["id"]) for r in records}


async def test_a_pool_thread_forgets_the_user_after_each_job(crm: ZohoCrm, ann: ZohoAccount) -> None:
    await crm.list_leads(ann.connection)

    def unswitched_call() -> object:
        return RecordOperations("Leads").get_records()

    # Every worker thread has run a job by now or never ran one: neither may act as anybody.
    results = await asyncio.gather(
        *(asyncio.wrap_future(crm._executor.submit(unswitched_call)) for _ in range(8)), return_exceptions=True
    )
    assert all(isinstance(r, SDKException) and r.code == NO_USER for r in results), results


# --- logs ------------------------------------------------------------------------------------------------------


async def test_sdk_logs_carry_no_token_and_no_search_words(
    crm: ZohoCrm, emu: ZohoEmulator, ann: ZohoAccount, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emu.seed_leads(ANN, [{"Last_Name": "Secretname"}])
    await crm.search_leads(ann.connection, "Secretname")
    url = f"http://127.0.0.1:{closed_port()}"
    gone = CrmConnection(ann.connection.token_id, ann.connection.user_signature, url, url)
    with pytest.raises(ZohoUnavailable):
        await crm.search_leads(gone, "Secretname")
    with pytest.raises(ZohoUnavailable):
        await crm.search_leads(gone, "jane.secret@acme.test")
    sdk_lines = [r for r in caplog.records if r.name == "SDKLogger"]
    assert sdk_lines, "the failure was logged"
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "Secretname" not in text and "jane.secret" not in text
    for token in emu.issued_tokens():
        assert token not in text


# --- with the product's token store ------------------------------------------------------------------------


async def test_the_adapter_works_with_the_products_token_store(
    emu: ZohoEmulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    from store import ChatIdentity, NewConnection, PeeweeTokenStore, generate_key

    store = PeeweeTokenStore(f"sqlite:///{tmp_path / 'tokens.db'}", encryption_key=generate_key())
    grant = await log_in(http, emu, ANN)
    user = emu.user(ANN)
    assert user is not None
    new = NewConnection(
        zoho_email=ANN,
        zoho_user_id=user.zuid,
        org_id=user.org_id,
        org_name=user.org_name,
        location=user.location,
        accounts_server=grant.accounts_server,
        api_domain=grant.api_domain,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=grant.refresh_token,
        access_token=grant.access_token,
        expires_at_ms=int(time.time() * 1000) + 1000,  # expiring: the SDK refreshes and saves through the store
        redirect_uri=REDIRECT_URI,
    )
    saved, _ = await asyncio.to_thread(store.connections.save, ChatIdentity("T1", "U1"), new)
    crm = ZohoCrm(store, str(tmp_path / "zoho-resources"), max_workers=2, call_timeout=8)
    try:
        connection = CrmConnection.of(saved)
        lead = await create_lead(crm, connection, {"Last_Name": "Doe", "Company": "Acme"})
        assert emu.counters["refresh"] == 1
        assert (await crm.get_lead(connection, lead.id)).values["Company"] == "Acme"
        await crm.delete_lead(connection, lead.id)
        assert emu.leads(user.org_id) == []
        assert emu.counters["refresh"] == 1, "the refreshed token was saved and reused"
    finally:
        await crm.close()
        store.close()


@pytest.mark.parametrize("stored_fields", [{}, {"access_token": "a"}, {"refresh_token": "r", "client_id": "c"}])
def test_tokens_merge_as_the_sdks_own_merge_does(crm: ZohoCrm, stored_fields: dict[str, str]) -> None:
    """The SDK's token merge runs twice per call; ours (bot.zoho.sdk_runtime) must leave the same token behind."""
    from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
    from zohocrmsdk.src.com.zoho.crm.api.util.constants import Constants

    from bot.zoho import sdk_runtime

    def sdk_merge(first: OAuthToken, second: OAuthToken) -> None:  # the SDK's own, as shipped
        for name in dir(first):
            if any(f in name for f in Constants.OAUTH_TOKEN_FIELDS) and not name.startswith("__"):
                value = getattr(first, name)
                setattr(first, name, value if value is not None else getattr(second, name))

    stored = OAuthToken(id="t1", client_id="cid", client_secret="secret", refresh_token="r0", access_token="a0")
    stored.set_expires_in("1700000000000")
    ours, theirs = OAuthToken(id="t1", **stored_fields), OAuthToken(id="t1", **stored_fields)
    OAuthToken.merge_objects(ours, stored)
    sdk_merge(theirs, stored)
    assert OAuthToken.merge_objects is sdk_runtime._merge_tokens  # the adapter put ours in place
    data = {name: value for name, value in vars(theirs).items() if not callable(value)}
    assert vars(ours) == data
    assert ours.get_access_token() == stored_fields.get("access_token", "a0")
    assert ours.get_refresh_token() == stored_fields.get("refresh_token", "r0")
