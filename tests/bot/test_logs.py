"""No token, code or secret reaches a log line, whatever a library prints."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import sys
from datetime import datetime

from aiohttp import web
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.logs import configure_logging, redact, start_request
from bot.server import _RETRY_WITHOUT_TRACEBACK

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


def test_a_workers_lines_name_it_in_text_and_in_json():
    text, lines = io.StringIO(), io.StringIO()
    configure_logging("INFO", stream=text, worker=2)
    logging.getLogger("bot.server").info("listening")
    configure_logging("INFO", stream=lines, log_format="json", worker=2)
    logging.getLogger("bot.server").info("listening")
    assert text.getvalue().rstrip().endswith("INFO [worker 2] bot.server: listening")
    assert json.loads(lines.getvalue())["worker"] == 2


async def test_slack_sdks_debug_lines_show_at_debug_and_only_then(aiohttp_server):
    async def answer(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/answer", answer)
    server = await aiohttp_server(app)
    for level, shown in (("DEBUG", True), ("INFO", False), ("DEBUG", True)):
        lines = io.StringIO()
        configure_logging(level, stream=lines)
        await AsyncWebhookClient(str(server.make_url("/answer"))).send(text="hello")
        assert ("slack_sdk.webhook.async_client: Sending a request" in lines.getvalue()) is shown, level


def test_a_failed_socket_mode_try_is_one_line_naming_its_error_even_a_silent_timeout() -> None:
    lines = []
    for error in (TimeoutError(), ConnectionRefusedError(111, "Connection refused")):
        try:
            raise error
        except OSError:
            record = logging.LogRecord(
                "slack_bolt", logging.ERROR, __file__, 1, f"Failed to connect (error: {error}); Retrying...", None, None
            )
            record.exc_info = sys.exc_info()
        assert _RETRY_WITHOUT_TRACEBACK.filter(record)
        lines.append(logging.Formatter("%(message)s").format(record))

    assert lines == [
        "Failed to connect (error: TimeoutError); Retrying...",
        "Failed to connect (error: [Errno 111] Connection refused); Retrying...",
    ]
