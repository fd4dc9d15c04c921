"""Logging for the whole process: one line per event, and nothing secret in any line.

Code logs identities and request ids, never tokens; the `RedactSecrets` filter is the second line of defence
for anything a library might print (Zoho and Slack token shapes, OAuth codes, query strings of callback URLs).
"""

from __future__ import annotations

import logging
import re
import sys

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


def configure_logging(level: str, stream=None) -> None:
    """Send every logger's records, redacted, as single lines to stderr (or `stream`)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # The Zoho SDK logs every request URL (search words, e-mails) at INFO: keep only its warnings.
    logging.getLogger("SDKLogger").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
