"""Buttons, forms, admin commands and events pass the same front door as `/lead`, in-process through bolt."""

from __future__ import annotations

import asyncio

from bot.limits import AdmissionLimits
from bot.slack.front_door import Delivery, Incoming, Visit, Work
from bot.slack.views.lead_actions import LEAD_DELETE
from bot.slack.views.lead_form import CREATE_CALLBACK_ID, FormContext, block_id_for
from bot.slack.views.revoke import REVOKE_ALL_ACTION, UNINSTALL_ACTOR
from store import ChatIdentity
from tests.bot.slack.in_process import TEAM, InProcessBot, ack_json, me, until, words

ALICE = "U0ALICE"
BOB = "U0BOB"
ANN = "U0ANN"
URL = "https://hooks.slack.com/actions/T0TEST/1/click"


async def test_a_delete_click_passes_the_door_and_deletes_that_lead() -> None:
    bot = InProcessBot()
    bot.store.connect(me(ALICE))

    ack = await bot.click(ALICE, LEAD_DELETE, "42", URL)

    assert ack.status == 200
    await bot.settle()
    assert bot.door.admitted == 1
    assert bot.leads.service.called("delete") == [("42",)]
    (answer,) = bot.response_urls.to(URL)
    # The Lead's message becomes what was deleted: no Edit/Delete left on a Lead that is gone.
    assert answer["replace_original"] is True
    assert "Deleted Lead *Jane Doe*" in words(answer) and "actions" not in str(answer.get("blocks"))


async def test_a_create_form_with_a_bad_email_stays_open_with_the_error_under_the_field() -> None:
    bot = InProcessBot()
    bot.store.connect(me(ALICE))
    context = FormContext(channel_id="C1", response_url=URL).encode()

    ack = await bot.submit(ALICE, CREATE_CALLBACK_ID, {"Last_Name": "Doe", "Email": "nope"}, context)

    body = ack_json(ack)
    assert ack.status == 200
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [block_id_for("Email")]
    await bot.settle()
    assert bot.door.admitted == 0
    assert bot.leads.service.calls == []
    assert bot.response_urls.posted == []


async def test_a_new_listener_registered_through_the_door_is_admitted_with_the_clicker_as_its_person() -> None:
    bot = InProcessBot()
    seen: list[Visit] = []

    def read(incoming: Incoming) -> Work[str]:
        return Work(str(incoming.payload.get("value")), name="test click", delivery=Delivery.BELOW)

    async def run(visit: Visit, value: str) -> None:
        seen.append(visit)
        await visit.reply.send(f"ran with {value}")

    bot.door.action("test_action", read, run)
    bot.store.connect(me(BOB))

    await bot.click(BOB, "test_action", "v1", URL)
    await bot.settle()

    assert bot.door.admitted == 1
    (visit,) = seen
    assert visit.identity == me(BOB)
    assert visit.connection is not None and visit.connection.identity == me(BOB)
    assert [m["text"] for m in bot.response_urls.to(URL)] == ["ran with v1"]


def test_every_listener_on_the_bolt_app_is_the_front_door() -> None:
    bot = InProcessBot()
    listeners = bot.bolt._async_listeners  # bolt keeps no public list of them

    assert len(listeners) >= 10
    assert {listener.ack_function.__qualname__ for listener in listeners} == {"FrontDoor._listener.<locals>.front_door"}


async def test_a_flood_of_clicks_from_one_person_is_queued_and_every_one_is_answered() -> None:
    bot = InProcessBot(limits=AdmissionLimits(per_person=1))
    bot.store.connect(me(ALICE))
    service = bot.leads.service
    service.delete_takes_s = 0.2  # 4 s for all twenty: longer than anyone used to be let wait
    urls = [f"{URL}/{n}" for n in range(20)]

    acks = await asyncio.gather(*(bot.click(ALICE, LEAD_DELETE, str(n), url) for n, url in enumerate(urls)))
    await bot.settle(timeout=30)  # 4 s of deletes one after another: room for a busy machine (a guard, not a goal)

    assert all(ack.status == 200 for ack in acks)
    answers = {url: bot.response_urls.to(url) for url in urls}
    assert all(len(messages) == 1 for messages in answers.values()), answers
    assert service.most_at_once == 1  # one at a time, the rest waited their turn
    assert len(service.called("delete")) == 20 and all("deleted" in words(m[0]).lower() for m in answers.values())
    assert bot.door.admitted == 20 and bot.admission.turned_away == bot.admission.turned_away_at_door == 0


async def test_zoho_revoke_all_by_someone_who_is_not_an_admin_changes_nothing() -> None:
    bot = InProcessBot()
    url = "https://hooks.slack.com/commands/T0TEST/2/revoke"

    ack = await bot.command(BOB, "/zoho-revoke", "--all", url)
    await bot.settle()

    assert ack.status == 200
    (answer,) = bot.response_urls.to(url)
    assert "Only workspace admins can do this. Nothing was changed." in answer["text"]
    assert "`/zoho-revoke --all`" in answer["text"]
    assert bot.revocation.calls == []


async def test_zoho_revoke_all_asks_first_and_only_an_admins_click_forgets_the_workspace() -> None:
    bot = InProcessBot()
    bot.admin.allowed = True
    bot.store.connect(ChatIdentity(TEAM, ANN))
    url = "https://hooks.slack.com/commands/T0TEST/3/revoke"

    await bot.command(BOB, "/zoho-revoke", "--all", url)
    await bot.settle()
    (question,) = bot.response_urls.to(url)
    assert (
        question["text"].startswith("This revokes the Zoho CRM connection of 1 person")
        and f"<@{ANN}>" in question["text"]
    )
    assert bot.revocation.calls == []  # nothing without the click

    bot.admin.allowed = False  # demoted before pressing the button
    await bot.click(BOB, REVOKE_ALL_ACTION, "1", url)
    await bot.settle()
    assert "Only workspace admins can do this. Nothing was changed." in bot.response_urls.to(url)[-1]["text"]
    assert bot.revocation.calls == []

    bot.admin.allowed = True
    await bot.click(BOB, REVOKE_ALL_ACTION, "1", url)
    await bot.settle()
    assert bot.revocation.calls == [("forget_workspace", (TEAM, BOB, "revoke_all"))]


async def test_app_uninstalled_forgets_every_connection_of_the_workspace() -> None:
    bot = InProcessBot()

    ack = await bot.event({"type": "app_uninstalled", "event_ts": "1.1"})
    await until(lambda: bot.door.admitted == 1)  # bolt acks an event before its listener runs
    await bot.settle()

    assert ack.status == 200
    assert bot.revocation.calls == [("forget_workspace", (TEAM, UNINSTALL_ACTOR, "uninstall"))]
