"""Keeping the Zoho SDK's log lines free of tokens and of the personal data in request URLs.

The SDK logs through the `SDKLogger` logger: every request at INFO as `METHOD - URL = … , HEADERS = … ,
PARAMS = {…}` (search words, e-mails and phone numbers in the query), and failures at ERROR with the cause's
text, which for a connection error repeats the URL with its query. It also logs with stray arguments and no
placeholder (`logger.error(msg, ex)`), which breaks `getMessage()`.

`quiet_sdk_logger` sets that logger's level (WARNING by default) and adds `SdkLogScrubber`, which rewrites
every record before any handler sees it: the message (and its arguments) flattened into one string, query
strings and PARAMS removed, token-shaped values masked, and tracebacks dropped (their text carries URLs).
"""

from __future__ import annotations

import logging
import re

SDK_LOGGER_NAME = "SDKLogger"

_SCRUB: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"PARAMS = .*", re.DOTALL), "PARAMS = {…}"),  # always the end of the SDK's request line
    (re.compile(r"(\?)[^\s'\"]*"), r"\1…"),
    (re.compile(r"\b1000\.[0-9a-f]{32}\.[0-9a-f]{32}\b"), "1000.***"),
    (re.compile(r"(?i)(Zoho-oauthtoken|Bearer)\s+[^\s\"',]+"), r"\1 ***"),
    (
        re.compile(
            r"(?i)\b(refresh_token|access_token|client_secret|grant_token|code)(['\"]?\s*[:=]\s*['\"]?)[^\s&'\",}]+"
        ),
        r"\1\2***",
    ),
)


def scrub(text: str) -> str:
    """`text` without query strings, request parameters or token-shaped values."""
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


def _flatten(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except (TypeError, ValueError):
        extra = " ".join(str(arg) for arg in (record.args or ()))  # type: ignore[union-attr]
        return f"{str(record.msg).rstrip()} {extra}".strip()


class SdkLogScrubber(logging.Filter):
    """Rewrites each SDK log record into one scrubbed line (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = _flatten(record)
        if record.exc_info and record.exc_info[1] is not None:
            message += f" ({type(record.exc_info[1]).__name__})"
        record.msg, record.args = scrub(message), None
        record.exc_info, record.exc_text = None, None
        return True


def quiet_sdk_logger(level: int = logging.WARNING) -> None:
    """Set the SDK logger's level and make sure the scrubber is on it (idempotent).

    Also keeps urllib3's connection pool (under `requests`, so under the SDK) at INFO or above: at DEBUG it
    logs every request line with its query string.
    """
    pool = logging.getLogger("urllib3.connectionpool")
    pool.setLevel(max(logging.INFO, pool.level))
    logger = logging.getLogger(SDK_LOGGER_NAME)
    logger.setLevel(level)
    if not any(isinstance(f, SdkLogScrubber) for f in logger.filters):
        logger.addFilter(SdkLogScrubber())
