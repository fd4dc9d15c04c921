"""Two `python -m bot` replicas on one database behave as one bot: a login link issued by one is finished on
the other, and either answers for a connection the other made.

Every request of the browser goes through a load balancer in front of both (the replicas' PUBLIC_URL), which
the test points at one replica or the other; Slack's deliveries are addressed to one replica at a time.
"""

from __future__ import annotations

import asyncio

import pytest

from store import ChatIdentity, PeeweeTokenStore
from tests.processes import running_fleet, server_database, sqlite_url
from tests.stack import ANN, BOB, TEAM_ID

pytestmark = pytest.mark.slow


async def _login_on_a_finished_on_b(fleet) -> None:
    a, b = fleet.replicas
    fleet.zoho.auto_approve_as = "ann@acme.test"
    link = await fleet.login_link(ANN, via=a)
    assert link.startswith(fleet.lb.url + "/zoho/login?state=")

    status, html = await fleet.follow(link, on=b)

    assert status == 200, html
    assert "ann@acme.test" in html
    # the browser's requests (login and Zoho's redirect back) went to B only
    assert {name for name, path in fleet.lb.routed if path.startswith("/zoho/")} == {"b"}
    dm = await fleet.slack.wait_for_message(lambda m: m.kind == "dm" and m.user == ANN and "Acme" in m.text)
    assert "ann@acme.test" in dm.text

    answer = await fleet.ask(ANN, "whoami", via=a)
    assert "ann@acme.test" in answer and "Acme Ltd" in answer

    # BOB, never logged in, is told so by either replica
    assert "not connected" in (await fleet.ask(BOB, "whoami", via=b))


async def test_login_issued_by_one_replica_finishes_on_the_other_postgres(tmp_path) -> None:
    with server_database("postgres") as url:
        async with running_fleet(tmp_path, url) as fleet:
            await _login_on_a_finished_on_b(fleet)
            # the token is stored once, encrypted with the shared key, readable by a third process
            store = PeeweeTokenStore(url, fleet.key)
            try:
                connection = await asyncio.to_thread(store.connections.get, ChatIdentity(TEAM_ID, ANN))
                assert connection is not None and connection.zoho_email == "ann@acme.test"
            finally:
                store.close()


async def test_login_issued_by_one_replica_finishes_on_the_other_sqlite(tmp_path) -> None:
    async with running_fleet(tmp_path, sqlite_url(tmp_path)) as fleet:
        await _login_on_a_finished_on_b(fleet)


async def test_a_login_link_is_single_use_across_replicas(tmp_path) -> None:
    async with running_fleet(tmp_path, sqlite_url(tmp_path)) as fleet:
        a, b = fleet.replicas
        fleet.zoho.auto_approve_as = "ann@acme.test"
        link = await fleet.login_link(ANN, via=a)
        status, _ = await fleet.follow(link, on=b)
        assert status == 200

        again, html = await fleet.follow(link, on=a)

        assert again == 410 and "already used" in html


async def test_leads_created_on_one_replica_are_listed_edited_and_deleted_on_the_other(tmp_path) -> None:
    with server_database("postgres") as url:
        async with running_fleet(tmp_path, url) as fleet:
            a, b = fleet.replicas
            await fleet.connect(ANN, "ann@acme.test", via=b)

            created = await fleet.ask(ANN, 'create last=Twin first=Tess company="Both Sides Ltd"', via=a)
            assert "Created Lead" in created and "Twin" in created
            (lead,) = fleet.zoho.leads(fleet.zoho.user("ann@acme.test").org_id)
            lead_id = lead["id"]

            listed = await fleet.ask(ANN, "list", via=b)
            assert "Twin" in listed and "Both Sides Ltd" in listed

            edited = await fleet.ask(ANN, f"edit {lead_id} company=Elsewhere", via=b)
            assert "Elsewhere" in edited
            assert fleet.zoho.leads(fleet.zoho.user("ann@acme.test").org_id)[0]["Company"] == "Elsewhere"

            deleted = await fleet.ask(ANN, f"delete {lead_id}", via=a)
            assert lead_id in deleted
            assert fleet.zoho.leads(fleet.zoho.user("ann@acme.test").org_id) == []
            for bot in fleet.replicas:
                assert "Traceback" not in bot.logs()
