"""One record, one line: what a request carries (a newline, a terminal escape, a megabyte) can neither forge a log
line nor flood the log, whether we log it or a library does, in a message or in an exception."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import MAX_LINE_CHARS, configure_logging
from tests.oauth.http_browser import HttpBrowser
from tests.stack import ANN

FORGED = "\n2026-01-01 00:00:00,000 ERROR bot.app: forged"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Our logging configuration, writing to a string; the test runner's own handlers put back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)


def test_a_newline_in_a_message_cannot_forge_a_line(log_stream) -> None:
    logging.getLogger("bot.app").info("unknown command %r%s", "x", FORGED)
    lines = log_stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "\\n2026-01-01 00:00:00,000 ERROR bot.app: forged" in lines[0]


def test_carriage_returns_escapes_and_other_control_characters_are_shown_escaped(log_stream) -> None:
    logging.getLogger("slack_bolt.AsyncApp").warning("a\rb\x1b[31mred\x00\x7f\x85\u2028end")
    (line,) = log_stream.getvalue().splitlines()
    assert "a\\rb\\x1b[31mred\\x00\\x7f\\x85\\u2028end" in line
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in line)


def test_a_library_exception_with_newlines_stays_on_one_line(log_stream) -> None:
    try:
        raise ValueError("bad header" + FORGED)
    except ValueError:
        logging.getLogger("aiohttp.server").exception("Error handling request")
    (line,) = log_stream.getvalue().splitlines()
    assert "Traceback" in line and "ValueError: bad header\\n2026-01-01" in line


def test_a_megabyte_message_is_cut_and_says_how_much(log_stream) -> None:
    logging.getLogger("bot.app").warning("%s", "x" * 1_000_000)
    (line,) = log_stream.getvalue().splitlines()
    assert len(line) <= MAX_LINE_CHARS + 200
    cut = 1_000_000 - line.count("x")
    assert f"[{cut:,} characters cut]" in line


async def test_a_forged_error_in_the_login_callback_is_logged_on_one_escaped_line(stack, log_stream) -> None:
    async with HttpBrowser() as browser:
        link = await stack.login_link(ANN)
        await browser.open_login_link(link)
        state = link.split("state=", 1)[1]
        page = await browser.callback(stack.url, {"state": state, "error": "x\nforged"})
    assert page.status == 400
    lines = [line for line in log_stream.getvalue().splitlines() if "refused at Zoho" in line]
    assert len(lines) == 1 and lines[0].endswith("error=x\\nforged")
    assert not any(line.startswith("forged") for line in log_stream.getvalue().splitlines())
