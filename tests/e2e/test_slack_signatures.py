"""Slack's signature through the whole stack: a forged request is refused before anything reads its body.

The companion of `test_foundation.test_wrong_signature_or_stale_timestamp_gets_401`: here the forgeries are the
ones that used to reach the parsers or bolt (a signature lifted from another body, odd timestamps, absurdly nested
JSON), and the log is read too.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import aiohttp

from playground.slack import sign_slack_request
from tests.stack import ANN, SIGNING_SECRET

MARKER = "MARKER-e2e-5d1c"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def command_body(text: str) -> bytes:
    return urlencode(
        {"team_id": "T0TEST", "user_id": ANN, "command": "/lead", "text": text, "channel_id": "C1", "trigger_id": "1"}
    ).encode()


async def test_forged_requests_get_401_and_leave_neither_body_nor_traceback_in_the_log(stack, caplog):
    caplog.set_level(logging.INFO)
    body = command_body(f"list {MARKER}")
    now = str(int(time.time()))
    deep = b"[" * 100_000
    forgeries = [
        (body, {**FORM, **sign_slack_request(SIGNING_SECRET, command_body("help"))}),  # another body's signature
        (body, {**FORM, **sign_slack_request(SIGNING_SECRET, body), "X-Slack-Request-Timestamp": "soon"}),
        (body, {**FORM, **sign_slack_request(SIGNING_SECRET, body), "X-Slack-Request-Timestamp": "9" * 5000}),
        (body, {**FORM, "X-Slack-Request-Timestamp": now}),
        (deep, {"Content-Type": "application/json"}),
    ]
    async with aiohttp.ClientSession() as http:
        for forged, headers in forgeries:
            async with http.post(f"{stack.url}/slack/events", data=forged, headers=headers) as answer:
                assert answer.status == 401, headers
                assert await answer.json() == {"error": "invalid request"}
        signed_deep = {"Content-Type": "application/json", **sign_slack_request(SIGNING_SECRET, deep)}
        async with http.post(f"{stack.url}/slack/events", data=deep, headers=signed_deep) as answer:
            assert answer.status == 400
        signed = {**FORM, **sign_slack_request(SIGNING_SECRET, body)}
        async with http.post(f"{stack.url}/slack/events", data=body, headers=signed) as answer:
            assert answer.status == 200  # the same body, really signed, is a command

    assert "Traceback" not in caplog.text
    assert MARKER not in caplog.text
    assert "[[[[" not in caplog.text
    assert "refused 1 Slack request(s)" in caplog.text  # the first refusal is told at once, the rest later
