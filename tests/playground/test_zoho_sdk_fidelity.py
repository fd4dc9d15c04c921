"""The real zohocrmsdk8-0, unchanged, against the Zoho emulator over loopback HTTP.

The SDK's Initializer is process-global, so every test initialises it afresh with its own grant code,
token file and resource path, and all SDK calls run in one dedicated thread (`sdk_thread`).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store.file_store import FileStore
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.exception import SDKException
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.parameter_map import ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.record import (
    ActionWrapper,
    APIException,
    BodyWrapper,
    DeleteRecordsParam,
    GetRecordsParam,
    Record,
    RecordOperations,
    ResponseWrapper,
    SearchRecordsParam,
    SuccessResponse,
)
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig

from playground.zoho import ZohoEmulator

from .zoho_login import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, grant_code

ANN = "ann@acme.test"
BOB = "bob@globex.test"


def initialize_sdk(base: str, code: str, folder: Path) -> None:
    """Initializer.initialize with an environment whose API and accounts URLs are the emulator."""
    environment = DataCenter.Environment(base, f"{base}/oauth/v2/token", base)
    token = OAuthToken(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, grant_token=code, redirect_url=REDIRECT_URI)
    Initializer.initialize(
        environment=environment,
        token=token,
        store=FileStore(str(folder / "tokens.txt")),
        sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=False),
        resource_path=str(folder),
    )


def stored_tokens(folder: Path) -> list[dict[str, str]]:
    """The rows of the SDK's FileStore."""
    with open(folder / "tokens.txt", newline="") as f:
        return list(csv.DictReader(f))


def leads() -> RecordOperations:
    return RecordOperations("Leads")


def create(*values: dict[str, Any]) -> Any:
    records = []
    for fields in values:
        record = Record()
        for name, value in fields.items():
            record.add_key_value(name, value)
        records.append(record)
    body = BodyWrapper()
    body.set_data(records)
    return leads().create_records(body)


def update(record_id: int, values: dict[str, Any]) -> Any:
    record = Record()
    for name, value in values.items():
        record.add_key_value(name, value)
    body = BodyWrapper()
    body.set_data([record])
    return leads().update_record(record_id, body)


def list_page(fields: str | None, per_page: int, page: int) -> Any:
    params = ParameterMap()
    if fields is not None:
        params.add(GetRecordsParam.fields, fields)
    params.add(GetRecordsParam.per_page, per_page)
    params.add(GetRecordsParam.page, page)
    return leads().get_records(params)


def search_word(word: str) -> Any:
    return search(SearchRecordsParam.word, word)


def search(param: Any, value: str) -> Any:
    params = ParameterMap()
    params.add(param, value)
    return leads().search_records(params)


def update_many(changes: dict[int, dict[str, Any]]) -> Any:
    records = []
    for record_id, values in changes.items():
        record = Record()
        record.set_id(record_id)
        for name, value in values.items():
            record.add_key_value(name, value)
        records.append(record)
    body = BodyWrapper()
    body.set_data(records)
    return leads().update_records(body)


def delete_many(ids: list[int]) -> Any:
    params = ParameterMap()
    for record_id in ids:
        params.add(DeleteRecordsParam.ids, str(record_id))
    return leads().delete_records(params)


def action_items(response: Any) -> list[Any]:
    wrapper = response.get_object()
    assert isinstance(wrapper, ActionWrapper), wrapper
    return wrapper.get_data()


async def start_sdk(zoho: ZohoEmulator, http: Any, sdk_thread: Any, folder: Path, email: str = ANN) -> None:
    code = await grant_code(http, zoho.url, email)
    await sdk_thread(initialize_sdk, zoho.url, code, folder)


async def test_init_exchanges_the_code_and_identifies_the_user(zoho, http, sdk_thread, tmp_path):
    await start_sdk(zoho, http, sdk_thread, tmp_path)

    ann = zoho.user(ANN)
    assert zoho.counters["code_exchange"] == 1
    calls = [(c.path, c.query, c.email, c.status) for c in zoho.crm_calls]
    assert calls == [
        ("/crm/v8/users", {"type": "CurrentUser"}, ANN, 200),
        ("/crm/v8/org", {}, ANN, 200),
    ]
    [row] = stored_tokens(tmp_path)
    assert row["user_name"] == f"{ANN}:{ann.zgid}"  # the SDK parsed users[0].email and org[0].zgid
    assert row["api_domain"] == zoho.url  # a loopback api_domain: the SDK keeps talking to the emulator
    assert row["refresh_token"] in zoho.issued_tokens()


async def test_lead_lifecycle_create_get_update_search_delete(zoho, http, sdk_thread, tmp_path):
    await start_sdk(zoho, http, sdk_thread, tmp_path)
    org_id = zoho.user(ANN).org_id

    created = await sdk_thread(
        create, {"Last_Name": "Doe", "First_Name": "Jane", "Company": "Acme", "Email": "jane@acme.test"}
    )
    assert created.get_status_code() == 201
    [item] = action_items(created)
    assert isinstance(item, SuccessResponse)
    assert item.get_code().get_value() == "SUCCESS"
    lead_id = str(item.get_details()["id"])
    [stored] = zoho.leads(org_id)
    assert stored["id"] == lead_id and stored["Full_Name"] == "Jane Doe"

    got = await sdk_thread(lambda: leads().get_record(int(lead_id)))
    assert got.get_status_code() == 200
    [record] = got.get_object().get_data()
    assert record.get_id() == int(lead_id)
    assert record.get_key_value("Last_Name") == "Doe"
    assert record.get_key_value("Email") == "jane@acme.test"
    assert record.get_key_value("Owner").get_email() == ANN
    assert record.get_created_time().year >= 2024  # parsed into a datetime by the SDK

    updated = await sdk_thread(update, int(lead_id), {"Company": "Acme Two", "Phone": "+1 555 0100"})
    assert updated.get_status_code() == 200
    [item] = action_items(updated)
    assert item.get_message().get_value() == "record updated"
    [stored] = zoho.leads(org_id)
    assert (stored["Company"], stored["Phone"], stored["Last_Name"]) == ("Acme Two", "+1 555 0100", "Doe")

    found = await sdk_thread(search_word, "acme two")
    assert found.get_status_code() == 200
    assert [r.get_id() for r in found.get_object().get_data()] == [int(lead_id)]
    assert (await sdk_thread(search_word, "nobody")).get_status_code() == 204

    deleted = await sdk_thread(lambda: leads().delete_record(int(lead_id)))
    [item] = action_items(deleted)
    assert item.get_message().get_value() == "record deleted"
    assert zoho.leads(org_id) == []
    gone = await sdk_thread(lambda: leads().get_record(int(lead_id)))
    assert gone.get_status_code() == 204 and gone.get_object() is None


async def test_list_needs_fields_and_pages_with_info(zoho, http, sdk_thread, tmp_path):
    zoho.seed_leads(ANN, 5)
    await start_sdk(zoho, http, sdk_thread, tmp_path)

    first = await sdk_thread(list_page, "Last_Name,Email", 2, 1)
    wrapper = first.get_object()
    assert isinstance(wrapper, ResponseWrapper)
    info = wrapper.get_info()
    assert (info.get_count(), info.get_per_page(), info.get_page(), info.get_more_records()) == (2, 2, 1, True)
    assert info.get_next_page_token()
    assert [r.get_key_value("Last_Name") for r in wrapper.get_data()] == ["Lead 5", "Lead 4"]  # newest first
    assert set(wrapper.get_data()[0].get_key_values()) == {"id", "Last_Name", "Email"}

    last = (await sdk_thread(list_page, "Last_Name", 2, 3)).get_object()
    assert [r.get_key_value("Last_Name") for r in last.get_data()] == ["Lead 1"]
    assert last.get_info().get_more_records() is False
    assert (await sdk_thread(list_page, "Last_Name", 2, 4)).get_status_code() == 204

    missing = await sdk_thread(list_page, None, 2, 1)
    assert missing.get_status_code() == 400
    error = missing.get_object()
    assert isinstance(error, APIException)
    assert error.get_code().get_value() == "REQUIRED_PARAM_MISSING"


async def test_each_record_of_a_create_succeeds_or_fails_on_its_own(zoho, http, sdk_thread, tmp_path):
    await start_sdk(zoho, http, sdk_thread, tmp_path)

    response = await sdk_thread(
        create,
        {"Last_Name": "Good"},
        {"First_Name": "No last name"},
        {"Last_Name": "Bad mail", "Email": "not-an-email"},
        {"Last_Name": "x" * 81},
    )
    assert response.get_status_code() == 207
    ok, no_last, bad_mail, too_long = action_items(response)
    assert isinstance(ok, SuccessResponse)
    assert isinstance(no_last, APIException) and no_last.get_code().get_value() == "MANDATORY_NOT_FOUND"
    assert no_last.get_details() == {"api_name": "Last_Name", "json_path": "$.data[1].Last_Name"}
    assert bad_mail.get_code().get_value() == "INVALID_DATA" and bad_mail.get_details()["api_name"] == "Email"
    assert too_long.get_code().get_value() == "INVALID_DATA"
    assert too_long.get_details()["maximum_length"] == "80"  # the SDK's spec types this detail as a string
    assert [lead["Last_Name"] for lead in zoho.leads(zoho.user(ANN).org_id)] == ["Good"]


async def test_sdk_does_not_refresh_on_401_invalid_token(zoho, http, sdk_thread, tmp_path):
    await start_sdk(zoho, http, sdk_thread, tmp_path)
    assert (await sdk_thread(list_page, "Last_Name", 10, 1)).get_status_code() == 204  # fields now cached

    zoho.expire_access_tokens()
    response = await sdk_thread(list_page, "Last_Name", 10, 1)

    assert response.get_status_code() == 401
    assert response.get_object().get_code().get_value() == "INVALID_TOKEN"
    assert zoho.counters["refresh"] == 0  # the SDK refreshes on its stored expiry only, never on a 401


async def test_sdk_refreshes_once_when_its_stored_expiry_is_near(zoho, http, sdk_thread, tmp_path):
    # The SDK refreshes before a call iff its stored expiry is less than 5 s away: a 4 s token is
    # "near expiry" at once, and the refreshed token (1 h) is not.
    zoho.token_lifetime = 4
    await start_sdk(zoho, http, sdk_thread, tmp_path)
    zoho.token_lifetime = 3600
    zoho.expire_access_tokens()
    first_token = zoho.crm_calls[-1].access_token

    created = await sdk_thread(create, {"Last_Name": "After refresh"})
    again = await sdk_thread(list_page, "Last_Name", 10, 1)

    assert created.get_status_code() == 201 and again.get_status_code() == 200
    assert zoho.counters["refresh"] == 1
    assert {c.access_token for c in zoho.crm_calls[2:]} == {zoho.crm_calls[-1].access_token}
    assert zoho.crm_calls[-1].access_token != first_token
    assert [row["access_token"] for row in stored_tokens(tmp_path)] == [zoho.crm_calls[-1].access_token]


async def test_revoked_refresh_token_makes_crm_calls_fail(zoho, http, sdk_thread, tmp_path):
    await start_sdk(zoho, http, sdk_thread, tmp_path)
    assert (await sdk_thread(list_page, "Last_Name", 10, 1)).get_status_code() == 204
    [row] = stored_tokens(tmp_path)

    async with http.post(f"{zoho.url}/oauth/v2/token/revoke", data={"token": row["refresh_token"]}) as answer:
        assert answer.status == 200 and await answer.json() == {"status": "success"}
    response = await sdk_thread(list_page, "Last_Name", 10, 1)

    assert zoho.revoked_refresh_tokens == [row["refresh_token"]]
    assert isinstance(response.get_object(), APIException)
    assert response.get_object().get_code().get_value() == "INVALID_TOKEN"


async def test_refresh_with_a_revoked_token_raises_sdk_exception(zoho, http, sdk_thread, tmp_path):
    zoho.token_lifetime = 4  # the SDK will want to refresh before its next call
    await start_sdk(zoho, http, sdk_thread, tmp_path)
    [row] = stored_tokens(tmp_path)
    async with http.post(f"{zoho.url}/oauth/v2/token/revoke", params={"token": row["refresh_token"]}) as answer:
        assert answer.status == 200

    with pytest.raises(SDKException) as raised:
        await sdk_thread(list_page, "Last_Name", 10, 1)

    assert "invalid_code" in str(raised.value)
    assert zoho.counters["refresh"] == 1


async def test_a_token_sees_only_its_own_org(zoho, http, sdk_thread, tmp_path):
    [ann_lead] = zoho.seed_leads(ANN, [{"Last_Name": "Acme only", "Email": "x@acme.test"}])
    await start_sdk(zoho, http, sdk_thread, tmp_path, email=BOB)

    assert (await sdk_thread(list_page, "Last_Name", 10, 1)).get_status_code() == 204
    assert (await sdk_thread(lambda: leads().get_record(int(ann_lead)))).get_status_code() == 204
    assert (await sdk_thread(search_word, "Acme")).get_status_code() == 204
    created = await sdk_thread(create, {"Last_Name": "Globex lead"})
    assert created.get_status_code() == 201
    assert [lead["Last_Name"] for lead in zoho.leads(zoho.user(BOB).org_id)] == ["Globex lead"]
    assert [lead["Last_Name"] for lead in zoho.leads(zoho.user(ANN).org_id)] == ["Acme only"]
    assert {c.email for c in zoho.crm_calls} == {BOB}


async def test_bulk_update_delete_and_other_searches(zoho, http, sdk_thread, tmp_path):
    first, second = (int(i) for i in zoho.seed_leads(ANN, [
        {"Last_Name": "Doe", "Company": "Acme", "Email": "doe@acme.test", "Mobile": "+44 20 7946 0000"},
        {"Last_Name": "Roe", "Company": "Initech", "Email": "roe@initech.test"},
    ]))  # fmt: skip
    await start_sdk(zoho, http, sdk_thread, tmp_path)

    by_email = await sdk_thread(search, SearchRecordsParam.email, "ROE@initech.test")
    by_phone = await sdk_thread(search, SearchRecordsParam.phone, "2079460000")
    by_criteria = await sdk_thread(
        search, SearchRecordsParam.criteria, "((Last_Name:equals:Doe)or(Company:in:Initech))"
    )
    assert [r.get_id() for r in by_email.get_object().get_data()] == [second]
    assert [r.get_id() for r in by_phone.get_object().get_data()] == [first]
    assert [r.get_id() for r in by_criteria.get_object().get_data()] == [second, first]

    updated = await sdk_thread(update_many, {first: {"Company": "Acme 2"}, second: {"Company": "Initech 2"}})
    assert updated.get_status_code() == 200
    assert all(isinstance(item, SuccessResponse) for item in action_items(updated))
    assert [lead["Company"] for lead in zoho.leads(zoho.user(ANN).org_id)] == ["Acme 2", "Initech 2"]

    deleted = await sdk_thread(delete_many, [first, second])
    assert [item.get_details()["id"] for item in action_items(deleted)] == [str(first), str(second)]
    assert zoho.crm_calls[-1].query == {"ids": f"{first},{second}"}  # repeated ids joined with commas
    assert zoho.leads(zoho.user(ANN).org_id) == []
