"""What a post to a `response_url` does: `POST /response/<id>` with a JSON message (docs/reference/slack.md §1).

Each URL takes at most 5 posts within 30 minutes. A post with `replace_original`/`delete_original` acts on
the message that held the clicked button (a slash command's URL has no original: a new message is posted).
The answers for a refused post (404 `used_url`/`expired_url`, 400 `invalid_blocks`) are best guesses ⚠.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from playground.slack.block_limits import message_block_problems
from playground.slack.records import RecordedMessage
from playground.slack.workspace import RESPONSE_URL_MAX_POSTS, RESPONSE_URL_TTL_SECONDS, ResponseSink, Workspace


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    return value is True or str(value).lower() == "true"


def post_to_sink(ws: Workspace, sink: ResponseSink, body: dict[str, Any], url: str) -> RecordedMessage:
    """Record what the user sees after `body` was posted to `sink` (already checked for limits)."""
    blocks = body.get("blocks") or []
    text = str(body.get("text") or "")
    response_type = body.get("response_type")
    replace_original = _flag(body, "replace_original")
    delete_original = _flag(body, "delete_original")
    original = ws.find_shown(sink.channel_id, sink.message_ts) if sink.message_ts else None
    common = {"response_url": url, "response_type": response_type, "thread_ts": body.get("thread_ts")}
    if original is not None and (replace_original or delete_original):
        index, old = original
        ws.update_message(index, shown=False)
        return ws.record_message(
            kind=old.kind,
            channel=old.channel,
            user=old.user,
            text="" if delete_original else text,
            blocks=[] if delete_original else blocks,
            ts=old.ts,
            replace_original=replace_original,
            delete_original=delete_original,
            shown=not delete_original,
            **common,
        )
    return ws.record_message(
        kind="response_url",
        channel=sink.channel_id,
        user=sink.user_id,
        text=text,
        blocks=blocks,
        replace_original=replace_original,
        delete_original=delete_original,
        shown=not delete_original,
        **common,
    )


# The name under which faults of response_url posts are scripted, like a Web API method's.
RESPONSE_URL_FAULTS = "response_url"


def _refusal(status: int, error: str, **extra: Any) -> web.Response:
    return web.json_response({"ok": False, "error": error, **extra}, status=status)


class ResponseUrls:
    """The handler for `POST /response/{sink_id}`."""

    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def handle(self, request: web.Request) -> web.Response:
        fault = self._ws.take_fault(RESPONSE_URL_FAULTS)  # `rate_limit("response_url")`, `fail_method(...)`
        if fault is not None:
            if fault.status == 429:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(fault.retry_after or 0)},
                )
            return _refusal(fault.status, "fatal_error")
        sink = self._ws.sinks.get(request.match_info["sink_id"])
        if sink is None:
            return _refusal(404, "no_service")
        if self._ws.clock() - sink.created_at > RESPONSE_URL_TTL_SECONDS:
            return _refusal(404, "expired_url")
        if sink.posts >= RESPONSE_URL_MAX_POSTS:
            return _refusal(404, "used_url")
        try:
            body = json.loads(await request.text())
        except ValueError:
            return _refusal(400, "invalid_payload")
        if not isinstance(body, dict):
            return _refusal(400, "invalid_payload")
        if "blocks" in body:
            problems = message_block_problems(body["blocks"])
            if problems:
                return _refusal(400, "invalid_blocks", response_metadata={"messages": problems})
        if not body.get("text") and not body.get("blocks") and not _flag(body, "delete_original"):
            return _refusal(400, "no_text")
        sink.posts += 1
        post_to_sink(self._ws, sink, body, str(request.url))
        return web.json_response({"ok": True})
