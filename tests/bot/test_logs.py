"""No token, code or secret reaches a log line, whatever a library prints."""

from __future__ import annotations

import contextvars
import io
import json
import logging
from datetime import datetime

from bot.logs import configure_logging, redact, start_request

ZOHO_TOKEN = "1000." + "a" * 32 + "." + "b" * 32


def test_token_shapes_are_masked():
    line = (
        f"GET /zoho/callback?code={ZOHO_TOKEN}&state=abc123 Authorization: Zoho-oauthtoken {ZOHO_TOKEN} "
        "xoxb-123-456-abcdef refresh_token=r1 client_secret=hush"
    )
    clean = redact(line)
    for secret in (ZOHO_TOKEN, "abc123", "xoxb-123-456-abcdef", "r1 ", "hush"):
        assert secret not in clean


def test_slack_response_urls_are_masked():
    line = (
        "Sending a request - url: https://hooks.slack.com/commands/T0/123/AbCdEf, body: {'text': 'hi'}; "
        "and http://127.0.0.1:5555/response/9f8e7d6c"
    )
    clean = redact(line)
    assert "AbCdEf" not in clean and "9f8e7d6c" not in clean
    assert "https://hooks.slack.com/commands/***" in clean and "{'text': 'hi'}" in clean


def test_the_root_handler_redacts_args_and_tracebacks():
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    log = logging.getLogger("some.library")
    log.info("token answer %s", {"access_token": ZOHO_TOKEN})
    try:
        raise ValueError(f"bad token {ZOHO_TOKEN}")
    except ValueError:
        log.exception("failed")
    out = stream.getvalue()
    assert ZOHO_TOKEN not in out
    assert "1000.***" in out and "ValueError" in out


def test_json_lines_carry_time_level_logger_message_and_request_id_and_stay_redacted():
    stream = io.StringIO()
    configure_logging("INFO", stream=stream, log_format="json")
    log = logging.getLogger("some.library")
    context = contextvars.copy_context()
    context.run(start_request, "Ev0123ABCD")
    context.run(log.info, 'token answer %s\n{"level": "forged"}', {"access_token": ZOHO_TOKEN})
    try:
        raise ValueError(f"bad token {ZOHO_TOKEN}")
    except ValueError:
        log.exception("failed with xoxb-123-456-abcdef")
    out = stream.getvalue()
    first, second = (json.loads(line) for line in out.splitlines())  # exactly two lines, each one object
    assert ZOHO_TOKEN not in out and "xoxb-123-456-abcdef" not in out
    assert first["level"] == "INFO" and first["logger"] == "some.library" and first["request_id"] == "Ev0123ABCD"
    assert first["message"].startswith("token answer {'access_token': '1000.***'}\n{")
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert second["request_id"] is None  # written outside any request
    assert "ValueError: bad token 1000.***" in second["exception"]


def test_text_lines_show_the_request_id_and_none_outside_a_request():
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    log = logging.getLogger("bot.app")
    context = contextvars.copy_context()
    request_id = context.run(start_request)
    context.run(log.info, "inside")
    log.info("outside")
    inside, outside = stream.getvalue().splitlines()
    assert len(request_id) == 8 and inside.endswith(f"INFO bot.app [{request_id}]: inside")
    assert outside.endswith("INFO bot.app: outside")
