"""The Zoho emulator driven from outside the process: the `/_emulator/` JSON API and `python -m playground.zoho`."""

from __future__ import annotations

import asyncio
import signal
import sys

from .zoho_login import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, authorize_params, exchange, login


async def test_control_api_mirrors_the_knobs(zoho, http):
    base = f"{zoho.url}/_emulator"
    tokens = await login(http, zoho.url, "ann@acme.test")
    headers = {"Authorization": f"Zoho-oauthtoken {tokens['access_token']}"}

    async with http.post(f"{base}/config", json={"token_lifetime": 60, "fail_with": 429, "latency": 0}) as answer:
        assert (await answer.json())["fail_with"] == 429
    async with http.get(f"{zoho.url}/crm/v8/org", headers=headers) as answer:
        assert answer.status == 429
    async with http.post(f"{base}/config", json={"fail_with": None}) as answer:
        assert answer.status == 200
    async with http.post(f"{base}/config", json={"no_such_knob": 1}) as answer:
        assert answer.status == 400
    assert zoho.token_lifetime == 60 and zoho.fail_with is None

    async with http.post(
        f"{base}/users", json={"email": "cy@acme.test", "full_name": "Cy", "org_name": "Acme Ltd"}
    ) as answer:
        cy = await answer.json()
    assert cy["org_id"] == zoho.user("ann@acme.test").org_id
    async with http.post(f"{base}/leads", json={"email": "cy@acme.test", "n": 2}) as answer:
        ids = (await answer.json())["ids"]
    async with http.get(f"{base}/leads", params={"org_id": cy["org_id"]}) as answer:
        assert [lead["id"] for lead in (await answer.json())["leads"]] == ids

    async with http.post(f"{base}/expire", json={"email": "ann@acme.test"}) as answer:
        assert await answer.json() == {"expired": 1}
    async with http.get(f"{zoho.url}/crm/v8/org", headers=headers) as answer:
        assert answer.status == 401

    async with http.get(f"{base}/state") as answer:
        state = await answer.json()
    assert state["counters"]["code_exchange"] == 1 and state["counters"]["crm"] == 2
    assert [(c["path"], c["email"], c["status"]) for c in state["crm_calls"]] == [
        ("/crm/v8/org", "ann@acme.test", 429),
        ("/crm/v8/org", "ann@acme.test", 401),
    ]
    async with http.get(f"{base}/tokens") as answer:
        assert tokens["refresh_token"] in (await answer.json())["issued"]
    async with http.post(f"{base}/reset_counters") as answer:
        assert answer.status == 200
    assert zoho.counters["crm"] == 0 and zoho.crm_calls == []


async def test_runs_standalone_from_the_command_line(http):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "playground.zoho",
        "--port", "0",
        "--client-id", CLIENT_ID,
        "--client-secret", CLIENT_SECRET,
        "--redirect-uri", REDIRECT_URI,
        "--user", "ann@acme.test,Ann Smith,Acme Ltd",
        "--auto-approve", "ann@acme.test",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 15)).decode()
        assert line.startswith("zoho emulator listening on http://127.0.0.1:")
        base = line.rsplit(" ", 1)[1].strip()

        async with http.get(f"{base}/oauth/v2/auth", params=authorize_params(), allow_redirects=False) as answer:
            location = answer.headers["Location"]
        code = location.split("code=")[1].split("&")[0]
        tokens = await exchange(http, base, code)
        assert tokens["api_domain"] == base
        async with http.get(f"{base}/_emulator/state") as answer:
            assert (await answer.json())["users"][0]["org_name"] == "Acme Ltd"
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_calls_in_flight_are_counted_per_org_and_the_org_limit_answers_429(zoho, http):
    ann = await login(http, zoho.url, "ann@acme.test")
    ada = await login(http, zoho.url, "ada@acme.test")  # Ann's org
    bob = await login(http, zoho.url, "bob@globex.test")  # another org
    zoho.latency = 0.3

    async def org_call(tokens: dict) -> tuple[int, str | None]:
        headers = {"Authorization": f"Zoho-oauthtoken {tokens['access_token']}"}
        async with http.get(f"{zoho.url}/crm/v8/org", headers=headers) as answer:
            return answer.status, answer.headers.get("Retry-After")

    await asyncio.gather(*(org_call(t) for t in (ann, ann, ada, bob)))
    acme, globex = zoho.user("ann@acme.test").org_id, zoho.user("bob@globex.test").org_id
    assert zoho.most_in_flight == {acme: 3, globex: 1}

    zoho.org_concurrency = 2
    answers = await asyncio.gather(*(org_call(t) for t in (ann, ann, ada, ann, bob)))
    assert sorted(status for status, _ in answers) == [200, 200, 200, 429, 429]  # Bob's org is not Ann's
    assert all(retry_after is None for status, retry_after in answers if status == 429)  # Zoho says no when
    async with http.get(f"{zoho.url}/_emulator/state") as answer:
        state = await answer.json()
    assert state["config"]["org_concurrency"] == 2 and state["most_in_flight"][acme] == 4
    refused = [c for c in state["crm_calls"] if c["status"] == 429]
    assert {c["org_id"] for c in refused} == {acme} and len(refused) == 2
