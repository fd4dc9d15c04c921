"""LOG_FORMAT=json through the whole stack: one JSON object per line, and one request id from a command's arrival
to its answer on the response URL."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import aiohttp
import pytest

from bot.logs import configure_logging
from tests.e2e.test_leads import ANN_EMAIL, ask
from tests.stack import ANN, BOB


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Our JSON logging at DEBUG into a string; the test runner's own handlers put back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream, log_format="json")
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)


async def test_a_commands_lines_share_one_request_id_from_arrival_to_answer(stack, json_log):
    await stack.connect(ANN, ANN_EMAIL)
    json_log.truncate(0)
    json_log.seek(0)

    await ask(stack, ANN, "list")
    await ask(stack, BOB, "whoami")

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert all(set(line) >= {"time", "level", "logger", "message", "request_id"} for line in lines)
    arrived = [line["request_id"] for line in lines if line["message"].startswith("Running listener")]
    answered = [line["request_id"] for line in lines if line["message"].startswith("Sending a request - url:")]
    assert len(arrived) == 2 and None not in arrived and arrived[0] != arrived[1]
    assert sorted(set(answered)) == sorted(arrived)  # each answer posted under its own command's id


async def test_an_oauth_page_has_its_own_request_id(stack, json_log):
    async with aiohttp.ClientSession() as http:
        for _ in range(2):
            async with http.get(f"{stack.url}/zoho/callback", params={"state": "nope", "code": "x"}) as page:
                assert page.status >= 400

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    failed = [line["request_id"] for line in lines if line["message"].startswith("login callback failed")]
    assert len(failed) == 2 and None not in failed and failed[0] != failed[1]
