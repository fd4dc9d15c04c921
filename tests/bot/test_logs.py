"""No token, code or secret reaches a log line, whatever a library prints."""

from __future__ import annotations

import io
import logging

from bot.logs import configure_logging, redact

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
