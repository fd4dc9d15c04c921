"""A request's log lines share one id from its ack to its answer, even when its work starts after someone else's."""

from __future__ import annotations

import asyncio

from bot.limits import AdmissionLimits
from bot.logs import REQUEST_ID
from bot.slack.front_door import Delivery, Incoming, Visit, Work
from tests.bot.slack.in_process import InProcessBot, me, until

URL = "https://hooks.slack.com/actions/T0TEST/1/click"


async def test_work_started_when_another_finishes_keeps_its_own_request_id() -> None:
    # One at a time per person: the second click's work starts from the first one's end, in the first one's task.
    bot = InProcessBot(limits=AdmissionLimits(per_person=1))
    at_ack: dict[str, str | None] = {}
    at_answer: dict[str, str | None] = {}

    def read(incoming: Incoming) -> Work[str]:
        value = str(incoming.payload.get("value"))
        at_ack[value] = REQUEST_ID.get()
        return Work(value, name="test click", delivery=Delivery.BELOW)

    async def run(visit: Visit, value: str) -> None:
        await asyncio.sleep(0.05)
        at_answer[value] = REQUEST_ID.get()
        await visit.reply.send(f"ran {value}")

    bot.door.action("test_action", read, run)
    bot.store.connect(me("U0ALICE"))

    await asyncio.gather(bot.click("U0ALICE", "test_action", "a", URL), bot.click("U0ALICE", "test_action", "b", URL))
    await bot.settle()

    assert set(at_answer) == {"a", "b"}
    assert at_ack["a"] and at_ack["b"] and at_ack["a"] != at_ack["b"]
    assert at_answer == at_ack


async def test_an_event_is_known_by_slacks_own_event_id() -> None:
    bot = InProcessBot()
    seen: list[str | None] = []

    def read(incoming: Incoming) -> None:
        seen.append(REQUEST_ID.get())

    bot.door.event("reaction_added", read, lambda visit, request: asyncio.sleep(0))
    await bot.event({"type": "reaction_added", "user": "U0ALICE"})
    await until(lambda: bool(seen))  # bolt acks an event before its listener runs

    assert seen == ["Ev1"]  # a retry of the same event carries the same id
