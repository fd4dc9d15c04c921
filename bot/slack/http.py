"""The `POST /slack/events` route: turns an aiohttp request into a bolt request and back.

bolt's own parser treats any form body that contains the substring "payload" (for example `/lead list payload`)
as an interactivity payload and, finding no `payload` field, parses it as empty: the command is then answered 404.
`SlackFormRequest` parses form bodies by their fields instead, so such text works; bodies that are not UTF-8 or
carry malformed payload JSON are answered 400 here instead of crashing in bolt (500).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # Slack's largest payloads (view submissions) stay far below this


class MalformedSlackBody(ValueError):
    """The body is not a form or JSON document Slack would send."""


def parse_slack_body(raw_body: str, content_type: str | None) -> dict[str, Any]:
    """Parse a Slack request body the way Slack means it: by form field, not by substring."""
    if not raw_body:
        return {}
    try:
        if content_type == "application/json" or raw_body.startswith("{"):
            parsed = json.loads(raw_body)
        else:
            fields = dict(parse_qsl(raw_body, keep_blank_values=True))
            parsed = json.loads(fields["payload"]) if "payload" in fields else fields
    except json.JSONDecodeError as exc:
        raise MalformedSlackBody(f"payload is not valid JSON ({exc.msg})") from exc
    if not isinstance(parsed, dict):
        raise MalformedSlackBody("payload is not a JSON object")
    return parsed


class SlackFormRequest(AsyncBoltRequest):
    """An AsyncBoltRequest whose body is parsed by `parse_slack_body` (also in copies bolt makes)."""

    def __init__(
        self, *, body: str, query: Any = None, headers: Any = None, context: Any = None, mode: str = "http"
    ) -> None:
        # Let bolt set raw_body/headers/query; its body parse never raises for non-JSON text.
        super().__init__(body="", query=query, headers=headers, context=context, mode=mode)
        self.raw_body = body
        self.body = parse_slack_body(body, self.content_type)
        self.context = build_async_context(AsyncBoltContext(context if context else {}), self.body)

    def to_copyable(self) -> SlackFormRequest:
        return SlackFormRequest(
            body=self.raw_body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            mode=self.mode,
        )


def is_signed_by_slack(raw: bytes, headers: Any, signing_secret: str, now: float | None = None) -> bool:
    """Slack's v0 signature over the raw bytes (slack_sdk's verifier needs UTF-8; a bad body may not be)."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent_at) > 60 * 5:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def slack_events_handler(bolt_app: AsyncApp, signing_secret: str):
    """An aiohttp handler that dispatches Slack requests to `bolt_app`."""

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            text = raw.decode("utf-8")
            bolt_request = SlackFormRequest(body=text, query=request.query_string, headers=dict(request.headers))
        except (UnicodeDecodeError, MalformedSlackBody) as exc:
            if signing_secret and not is_signed_by_slack(raw, request.headers, signing_secret):
                return web.json_response({"error": "invalid request"}, status=401)
            log.warning("slack request rejected: %s", exc)
            return web.json_response({"error": "malformed request body"}, status=400)
        bolt_response = await bolt_app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    return handle
