"""Under load the bot keeps acking at once and answers every command the machine and Zoho can serve: one
person's burst waits its turn (two at a time) without holding up anybody else, a crowd gets all its answers,
Zoho's 429s are waited out, the calls in flight per Zoho org stay within ZOHO_ORG_CONCURRENCY across replicas,
and a command is refused only in its ack, saying when to try again, when it could not get its turn in time."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from bot.limits import AdmissionLimits, Limits
from playground.slack.records import RecordedMessage
from tests.processes import running_fleet, server_database, shown
from tests.stack import ADA, ANN, BOB, Stack, start_stack

WORKING = ":hourglass_flowing_sand: Working on it…"


@pytest.fixture
async def stack(tmp_path):
    running = await start_stack(tmp_path)
    yield running
    running.zoho.hang = False
    await running.stop()
    await running.slack.stop()
    await running.zoho.stop()


async def answer_to(stack: Stack, result, timeout: float = 20.0) -> RecordedMessage:
    return await stack.slack.wait_for_message(
        lambda m: m.response_url == result.response_url and m.text != WORKING, timeout=timeout
    )


async def all_answers(slack, results, timeout: float) -> dict[str, RecordedMessage]:
    """The final answer of every command in `results`, by response_url, in the order they arrived."""
    wanted = {r.response_url for r in results}
    deadline = time.monotonic() + timeout
    while True:
        answers = {m.response_url: m for m in slack.messages() if m.response_url in wanted and m.text != WORKING}
        if len(answers) == len(wanted):
            return answers
        assert time.monotonic() < deadline, f"{len(answers)} of {len(wanted)} answered in {timeout} s"
        await asyncio.sleep(0.2)


async def test_one_persons_burst_of_twenty_is_all_answered_and_does_not_hold_up_another_person(stack) -> None:
    await stack.connect(ANN, "ann@acme.test")
    await stack.connect(ADA, "ada@acme.test")  # the same Zoho org: the same org slots
    stack.zoho.seed_leads("ann@acme.test", [{"Last_Name": "Lovelace", "Company": "Engines"}])
    await answer_to(stack, await stack.command(ANN, "list"))  # Zoho's field lists fetched before it slows down
    stack.zoho.latency = 0.5  # Ann's last command waits about 5 s for its turn
    order: list[str] = []

    async def command_and_answer(user: str, label: str) -> str:
        result = await stack.command(user, "list")
        assert result.status == 200 and not result.ack_body  # acked, nothing refused at the door
        answer = await answer_to(stack, result, timeout=60)
        order.append(label)
        return shown(answer)

    anns = [asyncio.ensure_future(command_and_answer(ANN, f"ann{n}")) for n in range(20)]
    await asyncio.sleep(0.1)  # Ann's twenty are all in before Ada types
    ada = await command_and_answer(ADA, "ada")
    answers = await asyncio.gather(*anns)

    assert all("Lovelace" in answer for answer in answers + [ada])  # every one answered with the list
    assert order.index("ada") <= 4  # behind at most Ann's first two pairs, not behind her eighteen others


async def test_a_crowd_of_forty_people_sending_five_commands_each_gets_two_hundred_answers(stack) -> None:
    people = [(f"U0CROWD{n:02d}", f"p{n}@{('acme', 'globex')[n % 2]}.test") for n in range(40)]
    for user_id, email in people:
        stack.slack.add_user(user_id, name=email.split("@")[0], email=email)
        stack.zoho.add_user(email=email, org_name=("Acme Ltd", "Globex")[email.endswith("globex.test")])
        await stack.connect(user_id, email)
    stack.zoho.latency = 0.1
    stack.zoho.reset_counters()

    results = await asyncio.gather(*(stack.command(user_id, "list") for _ in range(5) for user_id, _ in people))

    assert [r.status for r in results] == [200] * 200 and not [r.ack_body for r in results if r.ack_body]
    answers = await all_answers(stack.slack, results, timeout=180)
    texts = [shown(m) for m in answers.values()]
    assert sum("Your Leads" in text or "no Leads" in text for text in texts) == 200, texts[:3]
    assert max(stack.zoho.most_in_flight.values()) <= 10  # ZOHO_ORG_CONCURRENCY's default, per org
    assert not [c for c in stack.zoho.crm_calls if c.status == 429]


async def test_zoho_429s_for_too_many_calls_at_once_are_waited_out_and_answered_without_an_error(stack) -> None:
    await stack.connect(ANN, "ann@acme.test")
    await stack.connect(ADA, "ada@acme.test")
    stack.zoho.seed_leads("ann@acme.test", [{"Last_Name": "Patient", "Company": "Acme"}])
    await answer_to(stack, await stack.command(ANN, "list"))
    stack.zoho.org_concurrency, stack.zoho.latency = 2, 0.2  # the org's edition takes fewer than the bot's 10

    results = [await stack.command(user, "list") for _ in range(4) for user in (ANN, ADA)]
    answers = await all_answers(stack.slack, results, timeout=60)

    assert all("Patient" in shown(m) for m in answers.values())
    assert not [m for m in answers.values() if "limiting requests" in shown(m)]
    assert any(c.status == 429 for c in stack.zoho.crm_calls)  # Zoho did push back


async def test_a_command_that_could_not_get_its_turn_in_time_is_told_in_the_ack_when_to_try_again(tmp_path) -> None:
    limits = Limits(admission=AdmissionLimits(per_person=1, answer_within_s=2.0, max_wait_s=4.0))
    stack = await start_stack(tmp_path, limits=limits)
    try:
        await stack.connect(ANN, "ann@acme.test")
        await stack.connect(BOB, "bob@globex.test")
        stack.zoho.seed_leads("ann@acme.test", [{"Last_Name": "Lovelace", "Company": "Engines"}])
        stack.zoho.latency = 0.5
        for _ in range(4):  # the bot learns (a running average) that a list takes about half a second
            await answer_to(stack, await stack.command(ANN, "list"))
        calls_before = len(stack.zoho.crm_calls)

        results = await asyncio.gather(*(stack.command(ANN, "list") for _ in range(30)))
        bob = await stack.command(BOB, "whoami")

        at_door = [r for r in results if r.ack_body]
        let_in = [r for r in results if not r.ack_body]
        # One at a time, half a second each: a few can be answered within 2 s; the rest are told now.
        assert 2 <= len(let_in) <= 8 and len(at_door) == 30 - len(let_in)
        for refused in at_door:
            text = refused.ack_body["text"]
            assert refused.ack_body["response_type"] == "ephemeral" and "nothing was changed" in text
            wait = re.search(r"try again in about (\d+) seconds", text)
            assert wait is not None and int(wait.group(1)) >= 5
        assert not bob.ack_body and "bob@globex.test" in shown(await answer_to(stack, bob))  # others come in
        answers = await all_answers(stack.slack, let_in, timeout=30)
        assert all("Lovelace" in shown(m) for m in answers.values())  # everyone let in is answered
        await asyncio.sleep(0.5)
        told_at_door = {r.response_url for r in at_door}
        assert [m for m in stack.slack.messages(ANN) if m.response_url in told_at_door] == []  # one answer each
        assert len(stack.zoho.crm_calls) - calls_before == len(let_in)  # nothing was sent to Zoho for the others
    finally:
        await stack.stop()
        await stack.slack.stop()
        await stack.zoho.stop()


async def test_the_working_notice_counts_from_when_the_command_was_typed(tmp_path) -> None:
    # One command of a person at a time: Ann's second and third commands wait for the first (2 s at a slow Zoho).
    stack = await start_stack(tmp_path, limits=Limits(admission=AdmissionLimits(per_person=1)))
    try:
        await stack.connect(ANN, "ann@acme.test")
        await answer_to(stack, await stack.command(ANN, "list"))  # field lists fetched before Zoho slows down
        stack.zoho.latency = 2.0

        first = await stack.command(ANN, "list")
        second = await stack.command(ANN, "list")
        third = await stack.command(ANN, "whoami")
        first_answer = await answer_to(stack, first)
        first_answered_at = time.monotonic()

        # The second waited 2 s for its turn, so its notice comes as soon as it starts, not 1.5 s later.
        await stack.slack.wait_for_message(
            lambda m: m.response_url == second.response_url and m.text == WORKING, timeout=5
        )
        assert time.monotonic() - first_answered_at < 1.0
        assert "Your Leads" in first_answer.text and "Your Leads" in (await answer_to(stack, second)).text
        # The third waited 4 s and then needed no Zoho call: its answer comes alone, without a notice first.
        assert "ann@acme.test" in (await answer_to(stack, third)).text
        assert [m.text for m in stack.slack.messages(ANN) if m.response_url == third.response_url][0] != WORKING
    finally:
        await stack.stop()
        await stack.slack.stop()
        await stack.zoho.stop()


@pytest.mark.slow
async def test_two_replicas_on_postgresql_keep_an_orgs_calls_in_flight_within_its_limit(tmp_path) -> None:
    with server_database("postgres") as url:
        async with running_fleet(tmp_path, url, extra_env={"ZOHO_ORG_CONCURRENCY": "3"}) as fleet:
            a, b = fleet.replicas
            people = [(ANN, "ann@acme.test"), (ADA, "ada@acme.test")]
            for n in range(2):
                user_id, email = f"U0ACME{n}", f"acme{n}@acme.test"
                fleet.slack.add_user(user_id, name=f"acme{n}", email=email)
                fleet.zoho.add_user(email=email, org_name="Acme Ltd")
                people.append((user_id, email))
            for user_id, email in people:
                await fleet.connect(user_id, email, via=a)
            fleet.zoho.seed_leads("ann@acme.test", [{"Last_Name": "Shared", "Company": "Acme"}])
            for user_id, _ in people:  # each replica has fetched each person's field lists
                for replica in (a, b):
                    assert "Shared" in await fleet.ask(user_id, "list", via=replica)
            fleet.zoho.latency = 0.3
            fleet.zoho.reset_counters()

            # Each replica alone would let 3 of the org's calls fly; four people × two at a time on each offer 16.
            results = await asyncio.gather(
                *(fleet.command(user_id, "list", via=r) for _ in range(3) for user_id, _ in people for r in (a, b))
            )
            answers = await all_answers(fleet.slack, results, timeout=120)

            assert all("Shared" in shown(m) for m in answers.values())
            org = fleet.zoho.user("ann@acme.test").org_id
            assert fleet.zoho.most_in_flight[org] == 3  # reached, never passed, across both replicas
            assert not any("Traceback" in bot.logs() for bot in fleet.replicas)
