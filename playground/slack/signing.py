"""How Slack signs the requests it sends to an app (v0 HMAC-SHA256 over timestamp and raw body)."""

from __future__ import annotations

import hashlib
import hmac
import time


def sign_slack_request(signing_secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack adds to a request carrying `body`: `X-Slack-Request-Timestamp` and `X-Slack-Signature`.

    `timestamp` defaults to now (Unix seconds); pass an old one to produce a stale request.
    """
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}
