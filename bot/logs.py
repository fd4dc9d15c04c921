"""Logging for the whole process: one line per event, and nothing secret in any line.

Code logs identities and request ids, never tokens; the `RedactSecrets` filter is the second line of defence
for anything a library might print (Zoho and Slack token shapes, OAuth codes, query strings of callback URLs).
`OneLineFormatter` shows control characters escaped (a newline as \\n, an escape as \\x1b), tracebacks included,
and cuts overlong lines, so text from a request can neither forge a log line nor flood the log.

`LOG_FORMAT=json` writes one JSON object per line instead (`JsonLineFormatter`): time, level, logger, message,
request_id, and the traceback when there is one; the same redaction and the same length caps, JSON's own escaping
for control characters.

Every line carries the id of the request it was written for (`REQUEST_ID`): set for each HTTP request as it
arrives, for a Slack request to Slack's own id when it has one, and again where its work runs in a task of its
own (bot.slack.front_door), so the ack and the answer of one command share it. Lines written outside any request
(start, stop, background retries) carry none.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b1000\.[0-9a-f]{32}\.[0-9a-f]{32}\b"), "1000.***"),  # Zoho tokens and grant codes
    (re.compile(r"\bx(?:ox[abposre]|app)-[0-9A-Za-z-]+"), "xox*-***"),  # Slack tokens
    (
        re.compile(r"(?i)\b(code|state|token|refresh_token|access_token|client_secret)=([^&\s\"']+)"),
        r"\1=***",
    ),
    (re.compile(r"(?i)(Zoho-oauthtoken|Bearer)\s+[^\s\"',]+"), r"\1 ***"),
    # Slack response URLs (and incoming webhooks): whoever has one can post as the app for 30 minutes.
    (re.compile(r"(?i)(https?://[^\s/\"']+)/(commands|actions|services|response)/[^\s\"',]+"), r"\1/\2/***"),
)


# A message longer than this is cut in the middle (its start and end say most); a traceback gets more room, since
# its last lines name the error. One line stays small enough for any log collector (most cut at 16-256 kB).
MAX_LINE_CHARS = 2_000
MAX_TRACEBACK_CHARS = 8_000

# C0 controls, DEL, C1 controls and the Unicode line and paragraph separators: each ends a line somewhere (a
# terminal, a log viewer, a JSON-lines shipper) or drives a terminal.
_ESCAPES = {
    code: ("\\n" if code == 10 else "\\r" if code == 13 else "\\t" if code == 9 else f"\\x{code:02x}")
    for code in (*range(0x20), *range(0x7F, 0xA0))
} | {0x2028: "\\u2028", 0x2029: "\\u2029"}


REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
SHOWN_ID_CHARS = 12  # the text format shows this much of an id: Slack's event ids whole, our own ones (8) too


def start_request(slack_id: str | None = None) -> str:
    """Give what runs from here on in this context a request id: `slack_id` (Slack's own, the same on its retries)
    when there is one, else a short random one. Returns it."""
    request_id = slack_id or secrets.token_hex(4)
    REQUEST_ID.set(request_id)
    return request_id


def cut(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """`text` cut in the middle to about `limit` characters (saying how many were cut)."""
    if len(text) <= limit:
        return text
    head, tail = limit * 3 // 4, limit // 4
    return f"{text[:head]}…[{len(text) - head - tail:,} characters cut]…{text[-tail:]}"


def one_line(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """`text` with control characters escaped, cut in the middle to about `limit` characters (saying how many)."""
    return cut(text.translate(_ESCAPES), limit)


def redact(text: str) -> str:
    """`text` with every token-shaped or secret-valued part masked."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Masks secrets in the fully formatted message (args included) of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string or args: log what is there, still redacted
            message = f"{record.msg!s} {record.args!r}"
            record.msg, record.args = message, None
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class OneLineFormatter(logging.Formatter):
    """Formats a record as exactly one line: message and traceback escaped by `one_line`, joined by " | "."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.getMessage())
        request_id = REQUEST_ID.get()
        record.request_tag = f" [{one_line(request_id[:SHOWN_ID_CHARS])}]" if request_id else ""
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += " | " + one_line(record.exc_text, MAX_TRACEBACK_CHARS)
        if record.stack_info:
            line += " | " + one_line(self.formatStack(record.stack_info), MAX_TRACEBACK_CHARS)
        return line


class JsonLineFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line: time (UTC, ISO 8601), level, logger, message, request_id,
    `worker` in a `--workers` process, and `exception`/`stack` when the record has them; each text cut like the
    text format's."""

    def __init__(self, worker: int | None = None) -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str | int | None] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": cut(record.getMessage()),
            "request_id": REQUEST_ID.get(),
        }
        if self.worker is not None:
            entry["worker"] = self.worker
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = cut(record.exc_text, MAX_TRACEBACK_CHARS)
        if record.stack_info:
            entry["stack"] = cut(self.formatStack(record.stack_info), MAX_TRACEBACK_CHARS)
        # ensure_ascii: every control character, and U+2028/U+2029 too, is written as an escape.
        return json.dumps(entry, ensure_ascii=True)


def configure_logging(level: str, stream=None, log_format: str = "text", *, worker: int | None = None) -> None:
    """Send every logger's records, redacted, as single lines to stderr (or `stream`): readable text, or one JSON
    object a line with `log_format="json"`. Each line of a `--workers` process says which worker wrote it
    (`[worker 2]`, or `"worker": 2`)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLineFormatter(worker))
    else:
        where = "" if worker is None else f"[worker {worker}] "
        handler.setFormatter(OneLineFormatter(f"%(asctime)s %(levelname)s {where}%(name)s%(request_tag)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # The Zoho SDK logs every request URL (search words, e-mails) at INFO: keep only its warnings.
    logging.getLogger("SDKLogger").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    for name in SELF_JUDGING_LOGGERS:  # the same level they inherit, now their own
        logging.getLogger(name).setLevel(level)


# slack_sdk and bolt decide whether to build a debug line (an answer's whole body and headers, each middleware's
# name) from their logger's own level, not from the level it inherits: a logger with no level of its own (NOTSET,
# 0) makes every request build lines that logging then drops. These are the loggers they judge so in this bot.
SELF_JUDGING_LOGGERS = (
    "slack_bolt",  # the app's framework logger (bot.app)
    "slack_sdk.web.async_base_client",  # AsyncWebClient
    "slack_sdk.webhook.async_client",  # AsyncWebhookClient: every answer to a response URL
    "slack_sdk.socket_mode.aiohttp",  # Socket Mode's client
)


class Tally:
    """What happened many times (refused requests, connections, commands), counted by kind and told in one
    WARNING line per `every` seconds at most: the first after a quiet spell at once, the rest together when the
    period ends. `describe(counts)` words the line; it is asked only when a line is written."""

    def __init__(self, logger: logging.Logger, every: float, describe: Callable[[Counter[str]], str]) -> None:
        self._logger = logger
        self._every = every
        self._describe = describe
        self._counts: Counter[str] = Counter()
        self._last_told: float | None = None
        self._pending: asyncio.TimerHandle | None = None

    def count(self, kind: str) -> None:
        self._counts[kind] += 1
        if self._pending is not None:
            return
        wait = 0.0 if self._last_told is None else self._last_told + self._every - time.monotonic()
        if wait <= 0:
            self.tell()
        else:
            self._pending = asyncio.get_running_loop().call_later(wait, self.tell)

    def tell(self) -> None:
        """Write the line for what was counted since the last one (nothing when nothing was)."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if not self._counts:
            return
        self._logger.warning("%s", self._describe(self._counts))
        self._counts = Counter()
        self._last_told = time.monotonic()
