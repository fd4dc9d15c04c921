"""Each request through the front door is counted once, by kind and by how it ended (bot.metrics)."""

from __future__ import annotations

import asyncio
import logging
import time

import peewee

from bot.limits import AdmissionLimits
from bot.metrics import registry_for
from bot.slack.reply import DATABASE_UNAVAILABLE
from bot.slack.views.lead_actions import LEAD_DELETE
from bot.zoho import CrmBusy, ZohoUnavailable
from tests.bot.slack.in_process import InProcessBot, me

URL = "https://hooks.slack.com/actions/T0TEST/1/click"
OUTCOMES = (
    "answered",
    "refused",
    "overloaded",
    "unavailable",
    "failed",
    "invalid",
    "not_connected",
    "zoho_error",
    "undelivered",
)


def counted(kind: str) -> dict[str, float]:
    registry = registry_for()
    return {
        outcome: registry.get_sample_value("zohobot_slack_requests_total", {"kind": kind, "outcome": outcome}) or 0.0
        for outcome in OUTCOMES
    }


async def test_a_flood_of_clicks_is_counted_once_each_as_answered_refused_or_overloaded() -> None:
    bot = InProcessBot(limits=AdmissionLimits(per_person=1, answer_within_s=0.5, max_wait_s=0.7))
    bot.store.connect(me("U0ALICE"))
    bot.leads.service.delete_takes_s = 0.2
    await bot.click("U0ALICE", LEAD_DELETE, "1", URL)  # once one has finished, the door knows the pace
    await bot.settle()
    before = counted("action")

    await asyncio.gather(*(bot.click("U0ALICE", LEAD_DELETE, str(n), f"{URL}/{n}") for n in range(20)))
    await bot.settle()

    after = counted("action")
    moved = {outcome: after[outcome] - before[outcome] for outcome in OUTCOMES}
    assert sum(moved.values()) == 20
    assert moved["answered"] == len(bot.leads.service.called("delete")) - 1 >= 1
    assert moved["refused"] == bot.admission.turned_away_at_door >= 1  # told at once, by a message of its own
    assert moved["overloaded"] == bot.admission.turned_away


async def test_a_command_of_someone_not_connected_counts_as_not_connected() -> None:
    bot = InProcessBot()
    before = counted("command")

    await bot.command("U0BOB", "/lead", "list", "https://hooks.slack.com/commands/T0TEST/1/x")
    await bot.settle()

    after = counted("command")
    assert after["not_connected"] - before["not_connected"] == 1
    assert sum(after.values()) - sum(before.values()) == 1


async def test_a_command_that_never_got_a_turn_at_zoho_counts_as_overloaded_and_one_zoho_refused_as_zoho_error() -> (
    None
):
    bot = InProcessBot()
    bot.store.connect(me("U0ANN"))
    before = counted("command")

    bot.leads.service.error = CrmBusy(8)  # waited its whole time for a turn; never sent to Zoho
    await bot.command("U0ANN", "/lead", "list", "https://hooks.slack.com/commands/T0TEST/1/a")
    await bot.settle()
    bot.leads.service.error = ZohoUnavailable(503)
    await bot.command("U0ANN", "/lead", "list", "https://hooks.slack.com/commands/T0TEST/1/b")
    await bot.settle()

    after = counted("command")
    assert after["overloaded"] - before["overloaded"] == 1
    assert after["zoho_error"] - before["zoho_error"] == 1
    assert sum(after.values()) - sum(before.values()) == 2


async def test_a_command_met_by_a_database_outage_is_told_so_and_counted_unavailable_not_failed() -> None:
    bot = InProcessBot()
    bot.store.connect(me("U0ANN"))
    before = counted("command")
    url = "https://hooks.slack.com/commands/T0TEST/1/down"

    bot.leads.service.error = peewee.OperationalError("server closed the connection unexpectedly")
    await bot.command("U0ANN", "/lead", "list", url)
    await bot.settle()

    assert bot.response_urls.to(url)[-1]["text"] == DATABASE_UNAVAILABLE
    after = counted("command")
    assert after["unavailable"] - before["unavailable"] == 1
    assert after["failed"] == before["failed"]


async def test_an_answer_slack_refused_counts_undelivered_but_a_bug_whose_apology_it_refused_stays_failed() -> None:
    bot = InProcessBot()
    bot.store.connect(me("U0ANN"))
    bot.response_urls.refusing = True
    before = counted("command")

    await bot.command("U0ANN", "/lead", "list", "https://hooks.slack.com/commands/T0TEST/1/gone")
    await bot.settle()
    bot.leads.service.error = RuntimeError("a bug")
    await bot.command("U0ANN", "/lead", "list", "https://hooks.slack.com/commands/T0TEST/1/gone-too")
    await bot.settle()

    after = counted("command")
    assert after["undelivered"] - before["undelivered"] == 1  # the list was ready; Slack did not take it
    assert after["failed"] - before["failed"] == 1  # a bug is counted as one, whether its apology landed or not
    assert after["answered"] == before["answered"]


async def test_an_ack_later_than_slacks_3_s_is_counted_above_that_bucket_and_logged(caplog) -> None:
    bot = InProcessBot()
    registry = registry_for()

    def acks(le: str) -> float:
        return registry.get_sample_value("zohobot_slack_ack_seconds_bucket", {"kind": "command", "le": le}) or 0.0

    in_time, within_5 = acks("3.0"), acks("5.0")
    # The Slack route took it in 4 s ago (a database that held up its replay check, say)
    await bot.command("U0ALICE", "/lead", "help", URL, arrived=time.monotonic() - 4.0)

    assert (acks("3.0"), acks("5.0")) == (in_time, within_5 + 1)
    assert "a command was acked after 4.0 s: Slack waits 3 s and showed an error" in caplog.text


async def test_every_request_leaves_one_info_line_naming_it_without_what_was_typed(caplog) -> None:
    bot = InProcessBot()
    bot.store.connect(me("U0ALICE"))

    with caplog.at_level(logging.INFO, logger="bot.slack.front_door"):
        await bot.command("U0ALICE", "/lead", "list jane@acme.test", URL)
        await bot.command("U0ALICE", "/lead", "jane@acme.test", URL)  # not a sub-command
        await bot.settle()

    said = [r.getMessage() for r in caplog.records if r.name == "bot.slack.front_door"]
    assert [line.rsplit(" in ", 1)[0] for line in said] == [
        "command /lead list by T0TEST/U0ALICE: answered",
        "command /lead … by T0TEST/U0ALICE: invalid",
    ]
    assert "jane" not in caplog.text
