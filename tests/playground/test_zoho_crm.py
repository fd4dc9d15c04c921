"""The emulated CRM v8 API over raw HTTP: envelopes, status codes, per-org data and the failure knobs."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import aiohttp
import pytest

from .zoho_login import login

INVALID_TOKEN = {"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: object


class Crm:
    """Calls the CRM like the SDK does: `Zoho-oauthtoken` header, JSON bodies with no Content-Type."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str | None) -> None:
        self.http, self.base, self.token = http, base, token

    async def call(self, method: str, path: str, params: dict | None = None, body: object = None) -> Answer:
        headers = {"Authorization": f"Zoho-oauthtoken {self.token}"} if self.token else {}
        data = json.dumps(body).encode() if body is not None else None
        url = f"{self.base}/crm/v8{path}"
        async with self.http.request(method, url, params=params, data=data, headers=headers) as answer:
            raw = await answer.read()
            parsed = json.loads(raw) if raw and answer.content_type == "application/json" else raw
            return Answer(answer.status, dict(answer.headers), parsed)


async def as_user(http, zoho, email: str, **overrides: str) -> Crm:
    tokens = await login(http, zoho.url, email, **overrides)
    return Crm(http, zoho.url, str(tokens["access_token"]))


@pytest.fixture
async def ann(zoho, http) -> Crm:
    return await as_user(http, zoho, "ann@acme.test")


async def test_requests_without_a_live_token_get_401_invalid_token(zoho, http, ann):
    for token in (None, "1000.garbage.garbage"):
        answer = await Crm(http, zoho.url, token).call("GET", "/users", {"type": "CurrentUser"})
        assert (answer.status, answer.body) == (401, INVALID_TOKEN)
    async with http.get(f"{zoho.url}/crm/v8/org", headers={"Authorization": f"Bearer {ann.token}"}) as answer:
        assert answer.status == 401  # Zoho wants the Zoho-oauthtoken scheme

    assert zoho.expire_access_tokens(email="bob@globex.test") == 0
    assert (await ann.call("GET", "/org")).status == 200
    assert zoho.expire_access_tokens(email="ann@acme.test") == 1
    assert (await ann.call("GET", "/org")).body == INVALID_TOKEN
    assert [(c.path, c.email, c.status) for c in zoho.crm_calls[-2:]] == [
        ("/crm/v8/org", "ann@acme.test", 200),
        ("/crm/v8/org", "ann@acme.test", 401),
    ]


async def test_current_user_and_org(zoho, ann):
    user = zoho.user("ann@acme.test")
    users = await ann.call("GET", "/users", {"type": "CurrentUser"})
    org = await ann.call("GET", "/org")

    assert users.headers["Content-Type"] == "application/json;charset=UTF-8"
    [me] = users.body["users"]
    assert (me["email"], me["full_name"], me["id"], me["zuid"]) == (
        "ann@acme.test",
        "Ann Smith",
        user.crm_user_id,
        user.zuid,
    )
    [info] = org.body["org"]
    assert (info["id"], info["zgid"], info["company_name"]) == (user.org_id, user.zgid, "Acme Ltd")
    everyone = await ann.call("GET", "/users", {"type": "AllUsers"})
    assert [u["email"] for u in everyone.body["users"]] == ["ann@acme.test", "ada@acme.test"]


async def test_field_and_module_metadata(ann):
    fields = (await ann.call("GET", "/settings/fields", {"module": "Leads"})).body["fields"]
    by_name = {f["api_name"]: f for f in fields}
    assert [n for n, f in by_name.items() if f["system_mandatory"]] == ["Last_Name"]
    assert (by_name["Last_Name"]["length"], by_name["Email"]["data_type"], by_name["Phone"]["length"]) == (
        80,
        "email",
        30,
    )
    assert "Not Contacted" in [v["display_value"] for v in by_name["Lead_Status"]["pick_list_values"]]
    assert by_name["Converted_Account"]["lookup"]["module"]["api_name"] == "Accounts"

    missing = await ann.call("GET", "/settings/fields")
    unknown = await ann.call("GET", "/settings/fields", {"module": "Spaceships"})
    assert (missing.status, missing.body["code"]) == (400, "REQUIRED_PARAM_MISSING")
    assert (unknown.status, unknown.body["code"]) == (400, "INVALID_MODULE")
    modules = (await ann.call("GET", "/settings/modules")).body["modules"]
    assert {m["api_name"] for m in modules if m["api_supported"]} >= {"Leads"}


async def test_create_without_content_type_then_read_back(zoho, ann):
    created = await ann.call(
        "POST", "/Leads", body={"data": [{"Last_Name": "Doe", "Email": "d@x.test"}], "trigger": ["workflow"]}
    )
    assert created.status == 201
    [item] = created.body["data"]
    assert (item["code"], item["message"], item["status"]) == ("SUCCESS", "record added", "success")
    assert set(item["details"]) == {
        "Modified_Time",
        "Modified_By",
        "Created_Time",
        "id",
        "Created_By",
        "$approval_state",
    }
    lead_id = item["details"]["id"]

    got = await ann.call("GET", f"/Leads/{lead_id}")
    [record] = got.body["data"]
    assert record["Owner"] == {
        "name": "Ann Smith",
        "id": zoho.user("ann@acme.test").crm_user_id,
        "email": "ann@acme.test",
    }
    assert (record["Last_Name"], record["Full_Name"], record["Created_By"]["email"]) == ("Doe", "Doe", "ann@acme.test")
    assert (await ann.call("GET", "/Leads/5725767000009999999")).status == 204


async def test_create_limits_and_bad_bodies(ann):
    too_many = await ann.call("POST", "/Leads", body={"data": [{"Last_Name": str(i)} for i in range(101)]})
    no_data = await ann.call("POST", "/Leads", body={"records": []})
    all_bad = await ann.call("POST", "/Leads", body={"data": [{"First_Name": "No last name"}]})

    assert (too_many.status, too_many.body["code"]) == (400, "LIMIT_EXCEEDED")
    assert (no_data.status, no_data.body["code"]) == (400, "MANDATORY_NOT_FOUND")
    assert all_bad.status == 400 and all_bad.body["data"][0]["code"] == "MANDATORY_NOT_FOUND"


async def test_update_changes_only_given_fields(zoho, ann):
    [lead_id] = zoho.seed_leads("ann@acme.test", [{"Last_Name": "Doe", "Company": "Acme", "Phone": "123"}])

    one = await ann.call("PUT", f"/Leads/{lead_id}", body={"data": [{"Company": "Acme 2"}]})
    bulk = await ann.call("PUT", "/Leads", body={"data": [{"id": int(lead_id), "Phone": "456"}, {"Phone": "7"}]})
    unknown = await ann.call("PUT", "/Leads/5725767000009999999", body={"data": [{"Company": "X"}]})
    cleared = await ann.call("PUT", f"/Leads/{lead_id}", body={"data": [{"Last_Name": ""}]})

    assert one.status == 200 and one.body["data"][0]["message"] == "record updated"
    assert bulk.status == 207  # ids may be JSON numbers; the second item has none
    assert bulk.body["data"][1]["code"] == "MANDATORY_NOT_FOUND" and bulk.body["data"][1]["details"]["api_name"] == "id"
    assert (unknown.status, unknown.body["data"][0]["code"]) == (400, "INVALID_DATA")
    assert cleared.body["data"][0]["code"] == "MANDATORY_NOT_FOUND"
    [lead] = zoho.leads(zoho.user("ann@acme.test").org_id)
    assert (lead["Last_Name"], lead["Company"], lead["Phone"]) == ("Doe", "Acme 2", "456")


async def test_delete_by_ids_and_by_path(zoho, ann):
    first, second, third = zoho.seed_leads("ann@acme.test", 3)

    mixed = await ann.call("DELETE", "/Leads", {"ids": f"{first},{second},5725767000009999999"})
    single = await ann.call("DELETE", f"/Leads/{third}")
    again = await ann.call("DELETE", f"/Leads/{third}")
    no_ids = await ann.call("DELETE", "/Leads")

    assert mixed.status == 207
    assert [i["status"] for i in mixed.body["data"]] == ["success", "success", "error"]
    assert single.status == 200 and single.body["data"][0]["details"] == {"id": third}
    assert (again.status, again.body["data"][0]["code"]) == (400, "INVALID_DATA")
    assert (no_ids.status, no_ids.body["details"]) == (400, {"param_name": "ids"})
    assert zoho.leads(zoho.user("ann@acme.test").org_id) == []


async def test_list_rules(zoho, ann):
    assert (await ann.call("GET", "/Leads", {"fields": "Last_Name"})).status == 204
    no_fields = await ann.call("GET", "/Leads")
    assert (no_fields.status, no_fields.body["code"], no_fields.body["details"]) == (
        400,
        "REQUIRED_PARAM_MISSING",
        {"param_name": "fields"},
    )
    ids = zoho.seed_leads("ann@acme.test", 5)

    asc = await ann.call("GET", "/Leads", {"fields": "Last_Name", "sort_order": "asc", "per_page": "2"})
    assert [r["id"] for r in asc.body["data"]] == ids[:2]
    info = asc.body["info"]
    assert (info["count"], info["page"], info["per_page"], info["more_records"], info["sort_order"]) == (
        2,
        1,
        2,
        True,
        "asc",
    )

    seen, params = [], {"fields": "Last_Name", "sort_order": "asc", "per_page": "2"}
    while True:
        page = await ann.call("GET", "/Leads", params)
        seen += [r["id"] for r in page.body["data"]]
        if not page.body["info"]["more_records"]:
            break
        params = {"fields": "Last_Name", "sort_order": "asc", "per_page": "2"}
        params["page_token"] = page.body["info"]["next_page_token"]
    assert seen == ids

    both = await ann.call("GET", "/Leads", {**params, "page": "1"})
    deep = await ann.call("GET", "/Leads", {"fields": "Last_Name", "page": "11"})
    bad_sort = await ann.call("GET", "/Leads", {"fields": "Last_Name", "sort_by": "Last_Name"})
    assert (both.status, both.body["code"]) == (400, "AMBIGUITY_DURING_PROCESSING")
    assert (deep.status, deep.body["code"]) == (400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED")
    assert (bad_sort.status, bad_sort.body["details"]) == (400, {"param_name": "sort_by"})


async def test_a_page_token_is_bound_to_its_user(zoho, http, ann):
    zoho.seed_leads("ann@acme.test", 3)
    ada = await as_user(http, zoho, "ada@acme.test")  # same org
    first = await ann.call("GET", "/Leads", {"fields": "Last_Name", "per_page": "2"})
    token = first.body["info"]["next_page_token"]

    stolen = await ada.call("GET", "/Leads", {"fields": "Last_Name", "per_page": "2", "page_token": token})
    assert (stolen.status, stolen.body["code"]) == (400, "TOKEN_BOUND_DATA_MISMATCH")


async def test_search_by_word_email_phone_and_criteria(zoho, ann):
    doe, roe = zoho.seed_leads(
        "ann@acme.test",
        [
            {
                "Last_Name": "Doe",
                "First_Name": "Jane",
                "Company": "Acme Inc",
                "Email": "Jane@Acme.test",
                "Phone": "+1 (555) 0100",
            },
            {"Last_Name": "Roe", "Company": "Initech", "Email": "r@initech.test", "Mobile": "555-0199"},
        ],
    )

    async def ids(**params: str) -> list[str] | int:
        answer = await ann.call("GET", "/Leads/search", params)
        return [r["id"] for r in answer.body["data"]] if answer.status == 200 else answer.status

    assert await ids(word="acme") == [doe]
    assert await ids(word="oe") == [roe, doe]
    assert await ids(email="jane@acme.test") == [doe]
    assert await ids(phone="5550199") == [roe]
    assert await ids(criteria="((Last_Name:equals:Doe)and(Company:starts_with:Ac))") == [doe]
    assert await ids(criteria="(Company:in:Initech,Globex)") == [roe]
    assert await ids(word="nobody") == 204

    short = await ann.call("GET", "/Leads/search", {"word": "a"})
    none = await ann.call("GET", "/Leads/search")
    broken = await ann.call("GET", "/Leads/search", {"criteria": "(Nope:equals:x)"})
    assert (short.status, short.body["code"]) == (400, "INVALID_DATA")
    assert (none.status, none.body["code"]) == (400, "EXPECTED_PARAM_MISSING")
    assert (broken.status, broken.body["code"], broken.body["details"]["api_name"]) == (400, "INVALID_QUERY", "Nope")


async def test_each_org_sees_only_its_own_leads(zoho, http, ann):
    ada = await as_user(http, zoho, "ada@acme.test")
    bob = await as_user(http, zoho, "bob@globex.test")
    created = await ann.call("POST", "/Leads", body={"data": [{"Last_Name": "Shared in Acme"}]})
    lead_id = created.body["data"][0]["details"]["id"]

    assert (await ada.call("GET", f"/Leads/{lead_id}")).body["data"][0]["Last_Name"] == "Shared in Acme"
    assert (await bob.call("GET", f"/Leads/{lead_id}")).status == 204
    assert (await bob.call("GET", "/Leads", {"fields": "Last_Name"})).status == 204
    assert (await bob.call("GET", "/Leads/search", {"word": "Shared"})).status == 204
    assert (await bob.call("DELETE", f"/Leads/{lead_id}")).status == 400
    assert (await bob.call("PUT", f"/Leads/{lead_id}", body={"data": [{"Company": "Globex"}]})).status == 400
    assert zoho.leads(zoho.user("bob@globex.test").org_id) == []
    assert [lead["id"] for lead in zoho.leads(zoho.user("ann@acme.test").org_id)] == [lead_id]


async def test_permissions_and_scopes(zoho, http, ann):
    zoho.set_permissions("ann@acme.test", create=False)
    refused = await ann.call("POST", "/Leads", body={"data": [{"Last_Name": "X"}]})
    assert (refused.status, refused.body["code"]) == (403, "NO_PERMISSION")
    assert refused.body["details"] == {"permissions": ["Crm_Implied_Create_Leads"]}
    assert (await ann.call("GET", "/Leads", {"fields": "Last_Name"})).status == 204

    reader = await as_user(http, zoho, "ada@acme.test", scope="ZohoCRM.modules.leads.READ")
    mismatch = await reader.call("POST", "/Leads", body={"data": [{"Last_Name": "X"}]})
    assert (mismatch.status, mismatch.body["code"]) == (401, "OAUTH_SCOPE_MISMATCH")
    assert (await reader.call("GET", "/users", {"type": "CurrentUser"})).status == 401
    assert (await reader.call("GET", "/Leads", {"fields": "Last_Name"})).status == 204


async def test_wrong_urls_methods_and_modules(ann):
    patch = await ann.call("PATCH", "/Leads")
    nowhere = await ann.call("GET", "/Leads/1/2/3")
    contacts = await ann.call("GET", "/Contacts", {"fields": "Last_Name"})

    assert (patch.status, patch.body["code"]) == (400, "INVALID_REQUEST_METHOD")
    assert (nowhere.status, nowhere.body["code"]) == (404, "INVALID_URL_PATTERN")
    assert (contacts.status, contacts.body["code"]) == (400, "INVALID_MODULE")


async def test_fail_with_429_and_500(zoho, ann):
    zoho.fail_with = 429
    limited = await ann.call("GET", "/org")
    zoho.fail_with = 500
    broken = await ann.call("GET", "/org")
    zoho.fail_with = None

    assert (limited.status, limited.body["code"], limited.headers["Retry-After"]) == (429, "TOO_MANY_REQUESTS", "1")
    assert (broken.status, broken.body["code"]) == (500, "INTERNAL_ERROR")
    assert (await ann.call("GET", "/org")).status == 200
    assert zoho.counters["crm"] == 3
    assert [c.status for c in zoho.crm_calls] == [429, 500, 200]


async def test_hang_holds_requests_until_released(zoho, ann):
    zoho.hang = True
    pending = asyncio.ensure_future(ann.call("GET", "/org"))
    done, _ = await asyncio.wait({pending}, timeout=0.3)
    assert not done and zoho.counters["crm"] == 0

    zoho.hang = False
    answer = await asyncio.wait_for(pending, 5)
    assert answer.status == 200 and zoho.counters["crm"] == 1


async def test_stopping_releases_hung_requests(zoho, http, ann):
    zoho.hang = True
    pending = asyncio.ensure_future(ann.call("GET", "/org"))
    done, _ = await asyncio.wait({pending}, timeout=0.2)
    assert not done

    await zoho.stop()
    answer = await asyncio.wait_for(pending, 5)
    assert answer.status == 503


async def test_latency_is_added_to_every_request(zoho, http, ann):
    zoho.latency = 0.25
    started = time.monotonic()
    assert (await ann.call("GET", "/org")).status == 200
    assert time.monotonic() - started >= 0.25


async def test_each_lead_is_owned_by_its_creator_and_searchable_by_owner_id(zoho, http, ann):
    ada = await as_user(http, zoho, "ada@acme.test")
    mine = (await ann.call("POST", "/Leads", body={"data": [{"Last_Name": "Ann's"}]})).body["data"][0]["details"]["id"]
    hers = (await ada.call("POST", "/Leads", body={"data": [{"Last_Name": "Ada's"}]})).body["data"][0]["details"]["id"]
    ann_id, ada_id = zoho.user("ann@acme.test").crm_user_id, zoho.user("ada@acme.test").crm_user_id

    owners = {lead["id"]: lead["Owner"] for lead in zoho.leads(zoho.user("ann@acme.test").org_id)}
    assert owners[mine] == {"id": ann_id, "name": "Ann Smith", "email": "ann@acme.test"}
    assert owners[hers]["id"] == ada_id

    async def ids(criteria: str) -> list[str] | int:
        answer = await ann.call("GET", "/Leads/search", {"criteria": criteria})
        return [r["id"] for r in answer.body["data"]] if answer.status == 200 else answer.status

    assert await ids(f"(Owner:equals:{ann_id})") == [mine]
    assert await ids(f"(Owner:equals:{ada_id})") == [hers]  # the same org: Ann may see Ada's Leads
    assert await ids(f"(Owner:not_equal:{ann_id})") == [hers]
    assert await ids(f"(Owner:in:{ann_id},{ada_id})") == [hers, mine]
    assert await ids(f"(Owner:equals:{ann_id[:-1]})") == 204  # an id is matched whole, never as a part


async def test_count_answers_how_many_leads_a_search_or_the_whole_module_has(zoho, http, ann):
    zoho.seed_leads("ann@acme.test", 3)
    zoho.seed_leads("ada@acme.test", [{"Last_Name": "Other"}])
    ann_id = zoho.user("ann@acme.test").crm_user_id

    async def count(**params: str) -> tuple[int, object]:
        answer = await ann.call("GET", "/Leads/actions/count", params)
        return answer.status, answer.body

    assert await count() == (200, {"count": 4})
    assert await count(criteria=f"(Owner:equals:{ann_id})") == (200, {"count": 3})
    assert await count(word="Seed") == (200, {"count": 3})
    assert await count(word="nobody") == (200, {"count": 0})
    status, body = await count(word="a")
    assert (status, body["code"]) == (400, "INVALID_DATA")
    bob = await as_user(http, zoho, "bob@globex.test")
    assert (await bob.call("GET", "/Leads/actions/count")).body == {"count": 0}  # another org's Leads are not seen
