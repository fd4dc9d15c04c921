"""`GET /metrics` through real HTTP: only on METRICS_PORT, in the Prometheus text format, moved by what people do.

The series are per process and these tests share one, so each reads how much a figure moved, not its value.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import org_bucket
from playground.slack import sign_slack_request
from tests.e2e.test_leads import ANN_EMAIL, ask, org_of
from tests.e2e.test_revoke_retry import queue_anns_token
from tests.e2e.test_token_refresh import connected, expire_stored_token
from tests.stack import ANN, SIGNING_SECRET, Stack, free_port, start_stack

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def metered(tmp_path) -> AsyncIterator[Stack]:
    running = await start_stack(tmp_path, {"METRICS_PORT": str(free_port())})
    yield running
    await running.stop()
    await running.slack.stop()
    await running.zoho.stop()


def metrics_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.settings.metrics_port}/metrics"


async def scrape(stack: Stack) -> tuple[str, Samples]:
    async with aiohttp.ClientSession() as http, http.get(metrics_url(stack)) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain; version=")
        text = await answer.text()
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def moved(stack: Stack, before: Samples, name: str, **labels: str) -> float:
    """How much a series moved since `before`, waiting a little for work that ends after its answer is shown."""
    deadline = time.monotonic() + 5
    while True:
        _, now = await scrape(stack)
        change = value(now, name, **labels) - value(before, name, **labels)
        if change or time.monotonic() > deadline:
            return change
        await asyncio.sleep(0.05)


async def test_metrics_are_served_on_the_metrics_port_and_never_on_the_public_one(metered):
    async with aiohttp.ClientSession() as http, http.get(f"{metered.url}/metrics") as public:
        assert public.status == 404
    text, samples = await scrape(metered)
    assert "# TYPE zohobot_slack_requests_total counter" in text
    assert value(samples, "zohobot_admission_waiting") == 0
    assert value(samples, "zohobot_revocations_waiting") == 0


async def test_a_listed_command_counts_as_answered_with_one_zoho_list_call_in_its_org_bucket(metered):
    await metered.connect(ANN, ANN_EMAIL)
    metered.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "Metered", "Company": "Gauges Ltd"}])
    _, before = await scrape(metered)

    listed = await ask(metered, ANN, "list all")  # every Lead she may see: a plain list (hers alone is a search)
    assert "Gauges Ltd" in listed.text or "Metered" in str(listed.blocks)

    assert await moved(metered, before, "zohobot_slack_requests_total", kind="command", outcome="answered") == 1
    assert await moved(metered, before, "zohobot_zoho_calls_total", operation="list", status="ok") == 1
    assert await moved(metered, before, "zohobot_zoho_call_seconds_count", operation="list") == 1
    assert await moved(metered, before, "zohobot_slack_answer_seconds_count", kind="command") == 1
    assert await moved(metered, before, "zohobot_slack_ack_seconds_count", kind="command") == 1
    text, after = await scrape(metered)
    org = org_of(metered, ANN_EMAIL)
    bucket = org_bucket(org)
    assert ("zohobot_zoho_calls_in_flight", frozenset({("org_bucket", bucket)})) in after  # none running now: 0
    assert value(after, "zohobot_zoho_calls_in_flight", org_bucket=bucket) == 0
    assert org not in text  # an org is a bucket, never its id


async def test_an_answer_slack_would_not_take_counts_as_undelivered_and_says_why_in_the_log(metered, caplog):
    await metered.connect(ANN, ANN_EMAIL)
    _, before = await scrape(metered)
    metered.slack.fail_method("response_url", status=500, times=2)  # the answer's post and its one retry

    sent = await metered.command(ANN, "whoami")

    assert sent.status == 200
    assert await moved(metered, before, "zohobot_slack_requests_total", kind="command", outcome="undelivered") == 1
    _, after = await scrape(metered)
    assert value(after, "zohobot_slack_requests_total", kind="command", outcome="answered") == value(
        before, "zohobot_slack_requests_total", kind="command", outcome="answered"
    )
    assert "reply to /lead whoami refused by Slack: HTTP 500" in caplog.text
    assert not [m for m in metered.slack.messages(ANN) if m.response_url == sent.response_url]

    assert "ann@acme.test" in (await ask(metered, ANN, "whoami")).text  # Slack is back: answered, and counted so
    assert await moved(metered, before, "zohobot_slack_requests_total", kind="command", outcome="answered") == 1


async def test_a_person_not_connected_counts_as_not_connected(metered):
    _, before = await scrape(metered)
    await ask(metered, ANN, "list")
    assert await moved(metered, before, "zohobot_slack_requests_total", kind="command", outcome="not_connected") == 1


async def test_a_request_with_a_bad_signature_is_counted_as_rejected(metered):
    _, before = await scrape(metered)
    body = b"team_id=T0TEST&user_id=U0ANN&command=%2Flead&text=list"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **sign_slack_request(SIGNING_SECRET, b"another body"),
    }
    events = f"{metered.url}/slack/events"
    async with aiohttp.ClientSession() as http, http.post(events, data=body, headers=headers) as answer:
        assert answer.status == 401
    assert await moved(metered, before, "zohobot_slack_rejected_requests_total", reason="bad_signature") == 1
    _, after = await scrape(metered)
    assert value(after, "zohobot_slack_requests_total", kind="command", outcome="answered") == value(
        before, "zohobot_slack_requests_total", kind="command", outcome="answered"
    )


async def test_a_busy_metrics_port_stops_the_start_with_one_line_naming_it(tmp_path):
    root = Path(__file__).resolve().parents[2]
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(root),
            "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
            "SLACK_SIGNING_SECRET": "sig",
            "ZOHO_CLIENT_ID": "1000.CLIENT",
            "ZOHO_CLIENT_SECRET": "s3cret",
            "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing there: the start does not wait for Slack
            "PORT": str(port),
            "METRICS_PORT": str(taken),
        }
        started = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
        )
        _, stderr = await asyncio.wait_for(started.communicate(), 60)
    said = stderr.decode()
    assert started.returncode == 1
    assert said.splitlines()[-1] == (
        f"error: METRICS_PORT {taken} is in use; set METRICS_PORT=… to another port (or unset it: no metrics)"
    )
    assert "Traceback" not in said
    assert (
        "bot.server: stopped" not in said and "bot.server: not started (what was opened for it is closed again)" in said
    )
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # the public port was given up too


async def test_token_refreshes_are_counted_by_outcome(metered):
    connection = await connected(metered, ANN, ANN_EMAIL)
    await expire_stored_token(metered, connection)
    _, before = await scrape(metered)

    await ask(metered, ANN, "list")  # the stored token expired: one refresh, then the list
    assert await moved(metered, before, "zohobot_token_refreshes_total", outcome="ok") == 1

    secrets = await asyncio.to_thread(metered.store.connections.secrets, connection.id)
    await metered.components.accounts.revoke(secrets.accounts_server, secrets.refresh_token)
    await expire_stored_token(metered, connection)
    await ask(metered, ANN, "list")  # Zoho refuses the refresh token: the person is asked to log in again
    assert await moved(metered, before, "zohobot_token_refreshes_total", outcome="refused") == 1


async def test_revocations_waiting_for_zoho_are_read_at_each_scrape(metered):
    await queue_anns_token(metered)  # logged out while Zoho answered 503

    _, samples = await scrape(metered)

    assert value(samples, "zohobot_revocations_waiting") == 1


async def test_a_zoho_call_running_now_shows_in_its_orgs_bucket(metered):
    await metered.connect(ANN, ANN_EMAIL)
    bucket = org_bucket(org_of(metered, ANN_EMAIL))
    metered.zoho.latency = 0.5  # Zoho answers slowly: the call is running while the metrics are read
    listing = asyncio.ensure_future(ask(metered, ANN, "list"))

    seen = 0.0
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        _, samples = await scrape(metered)
        seen = value(samples, "zohobot_zoho_calls_in_flight", org_bucket=bucket)
    await listing

    assert seen == 1
    _, samples = await scrape(metered)
    assert value(samples, "zohobot_zoho_calls_in_flight", org_bucket=bucket) == 0


async def test_the_database_gauge_is_1_while_it_answers_and_0_once_its_file_is_moved_away(metered, tmp_path):
    _, samples = await scrape(metered)
    assert value(samples, "zohobot_database_up") == 1
    assert value(samples, "zohobot_slack_bot_token_ok") == 1

    aside = tmp_path / "aside"
    aside.mkdir()
    (tmp_path / "bot.db").rename(aside / "bot.db")  # the bot still writes to the file it opened: not healthy
    _, samples = await scrape(metered)

    assert value(samples, "zohobot_database_up") == 0


async def test_a_bot_token_slack_refuses_shows_in_its_gauge_and_each_request_is_counted_refused(tmp_path):
    stack = await start_stack(
        tmp_path, {"METRICS_PORT": str(free_port()), "SLACK_BOT_TOKEN": "xoxb-fake-token-slack-refuses"}
    )
    try:
        _, before = await scrape(stack)  # Slack refused the token at start (auth.test: invalid_auth)
        result = await stack.command(ANN, "help")

        assert value(before, "zohobot_slack_bot_token_ok") == 0
        assert result.status == 200  # bolt's own "not installed" answer: no listener ran
        assert await moved(stack, before, "zohobot_slack_rejected_requests_total", reason="bot_token_refused") == 1
    finally:
        await stack.stop()
        await stack.slack.stop()
        await stack.zoho.stop()
