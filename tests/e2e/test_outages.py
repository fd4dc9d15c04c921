"""When Zoho, Slack or the database fail, the person hears what happened, in words, and the bot recovers by
itself: each test shows the answer the user sees and the server's health afterwards.

Nothing here is mocked: the Zoho emulator answers 500s, 429s or hangs; the Slack emulator answers 429s and
5xx; the database is a PostgreSQL database of its own that refuses and cuts connections for a moment.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path

import pytest

from bot.slack.reply import DATABASE_UNAVAILABLE
from bot.slack.views.lead_actions import LEAD_EDIT
from store import generate_key
from tests.e2e.test_leads import click
from tests.processes import admin_connection, ask, health, server_database
from tests.stack import ANN, BOB, start_stack

ANN_EMAIL = "ann@acme.test"
NO_TRACEBACK = ("Traceback", "Sorry, something went wrong")


async def _connected_with_a_lead(stack) -> None:
    await stack.connect(ANN, ANN_EMAIL)
    stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "Steady", "Company": "Outage Co"}])
    assert "Steady" in await ask(stack, ANN, "list")


def _clean(text: str) -> None:
    for bad in NO_TRACEBACK:
        assert bad not in text, text


# ----- Zoho ----------------------------------------------------------------------------------------------------


async def test_zoho_server_errors_are_told_and_the_next_command_works(stack) -> None:
    await _connected_with_a_lead(stack)
    stack.zoho.fail_with = 500

    answer = await ask(stack, ANN, "list")

    assert "Zoho CRM is not available right now" in answer
    _clean(answer)
    assert await health(stack.url) == 200
    stack.zoho.fail_with = None
    assert "Steady" in await ask(stack, ANN, "list")


async def test_zoho_rate_limit_says_when_to_try_again(stack) -> None:
    await _connected_with_a_lead(stack)
    stack.zoho.fail_with = 429
    stack.zoho.retry_after = 30

    answer = await ask(stack, ANN, "create last=Later company=Busy")

    assert "limiting requests" in answer and "30 seconds" in answer
    assert "Later" in answer  # what was typed is echoed, so it can be sent again
    _clean(answer)
    assert await health(stack.url) == 200
    stack.zoho.fail_with = None
    assert "Steady" in await ask(stack, ANN, "list")
    assert not [lead for lead in stack.zoho.leads(stack.zoho.user(ANN_EMAIL).org_id) if lead["Last_Name"] == "Later"]


@pytest.mark.slow
async def test_a_hung_zoho_is_told_within_15_seconds_and_other_users_still_get_answers(stack) -> None:
    await _connected_with_a_lead(stack)
    stack.zoho.hang = True
    started = time.monotonic()
    result = await stack.command(ANN, "list")

    # meanwhile BOB's commands that need no Zoho answer at once
    assert "not connected" in await ask(stack, BOB, "whoami", timeout=5)
    assert await health(stack.url) == 200
    message = await stack.slack.wait_for_message(
        lambda m: m.response_url == result.response_url and m.shown and "Working on it" not in m.text, timeout=15
    )

    assert time.monotonic() - started < 15
    assert "did not answer" in message.text or "not available" in message.text, message.text
    _clean(message.text)
    stack.zoho.hang = False
    assert "Steady" in await ask(stack, ANN, "list")


# ----- Slack ---------------------------------------------------------------------------------------------------


async def test_slack_rate_limit_on_post_message_is_retried(stack) -> None:
    stack.slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    before = len(stack.slack.dms(ANN))

    answer = await ask(stack, ANN, "login")

    assert "direct message" in answer
    assert len(stack.slack.dms(ANN)) == before + 1
    limited = [c for c in stack.slack.calls if c.method == "chat.postMessage" and c.status == 429]
    assert len(limited) == 1


async def test_slack_rate_limit_and_errors_on_a_response_url_are_retried(stack) -> None:
    await stack.connect(ANN, ANN_EMAIL)
    stack.slack.rate_limit("response_url", times=1, retry_after=1)
    limited = await ask(stack, ANN, "whoami")
    stack.slack.fail_method("response_url", status=503, times=1)
    failed_once = await ask(stack, ANN, "whoami")

    assert "ann@acme.test" in limited and "ann@acme.test" in failed_once


async def test_slack_server_error_on_post_message_is_retried_once(stack) -> None:
    stack.slack.fail_method("chat.postMessage", status=503, times=1)

    answer = await ask(stack, ANN, "login")

    assert "direct message" in answer
    assert stack.slack.dms(ANN)


async def test_slack_down_for_dms_shows_the_login_link_in_the_reply(stack) -> None:
    stack.slack.fail_method("chat.postMessage", status=500, times=10)

    answer = await ask(stack, ANN, "login")

    assert "Here is your personal login link" in answer and "/zoho/login?state=" in answer
    _clean(answer)
    assert await health(stack.url) == 200


# ----- the database --------------------------------------------------------------------------------------------


def cut_off(database_url: str, allow: bool) -> None:
    """Refuse (or allow again) new connections to the database, and cut the ones open now."""
    name = database_url.rsplit("/", 1)[1]
    admin = admin_connection(database_url)
    try:
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allow else "false"}')
            if not allow:
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"  # not an autovacuum worker's
                    " WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    (name,),
                )
    finally:
        admin.close()


@pytest.mark.postgres
async def test_database_outage_is_told_and_recovers_without_a_restart(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    with server_database("postgres") as url:
        stack = await start_stack(tmp_path, env={"DATABASE_URL": url, "TOKEN_ENCRYPTION_KEY": generate_key()})
        try:
            await _connected_with_a_lead(stack)
            assert "ann@acme.test" in await ask(stack, ANN, "whoami")

            listed = [m for m in stack.slack.messages() if m.user == ANN and "Steady" in m.text + str(m.blocks)][-1]

            await asyncio.to_thread(cut_off, url, False)
            assert await health(stack.url) == 503
            assert await health(stack.url) == 503  # a load balancer asks again and again: said once
            during = [await ask(stack, ANN, text) for text in ("whoami", "list", "login")]
            # A button pressed during the outage (Edit on the list shown before it) hears the same.
            pressed = await click(stack, ANN, listed, LEAD_EDIT)  # the list's one Edit button
            during.append(pressed.text)

            await asyncio.to_thread(cut_off, url, True)
            assert await health(stack.url) == 200
            after_whoami = await ask(stack, ANN, "whoami")
            after_list = await ask(stack, ANN, "list")
        finally:
            await stack.stop()
            await stack.slack.stop()
            await stack.zoho.stop()

    for answer in during:
        assert DATABASE_UNAVAILABLE in answer
        _clean(answer)
    assert "ann@acme.test" in after_whoami  # the connection survived, no new login needed
    assert "Steady" in after_list
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "database is unavailable" in logged
    said = [line for line in logged.splitlines() if line.startswith("health check:")]
    assert len(said) == 2, said
    assert said[0].startswith("health check: database did not answer: OperationalError: ")  # the server's reason
    assert re.fullmatch(r"health check: the database answers again \(after \d+ s\)", said[1]), said
    for secret in stack.zoho.issued_tokens():
        assert secret not in logged
