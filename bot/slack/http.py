"""The `POST /slack/events` route: checks Slack's signature, then turns the request into a bolt request and back.

Nothing of an unsigned request is read before its signature is checked over the raw bytes: it is answered 401
`{"error": "invalid request"}` before any decoding, parsing or bolt call, so an outsider can neither make the
parsers work (100,000 `[` once ended in a RecursionError, a 500) nor put up to 256 KB of text of their choice into
the log (bolt's own check logs every body it refuses, at INFO). Refusals are counted and told in one WARNING line
per period at most (how many, and why: missing headers, unreadable or stale timestamp, bad signature), never the
body: a flood of forged requests cannot flood the log either. Each refusal is counted in the metrics too
(`zohobot_slack_rejected_requests` by reason).

A signed request is accepted once. Its signature is remembered in the database for the signature window
(`first_sighting`, store.seen_requests), so the same bytes sent again within Slack's 5 minutes, to this replica or
any other, are refused 401 before bolt sees them: a replayed `/lead create` creates no second Lead, a replayed
`app_uninstalled` revokes nothing twice. Refused replays are counted with the other refusals ("replayed"). While the
database cannot be reached, or does not answer within REPLAY_CHECK_S (Slack waits 3 s for the ack), the request
goes on unremembered: everything a replay could repeat needs the database too, and the person then hears that it
is unavailable instead of a bare refusal, or Slack's timeout. The ack's clock (`zohobot_slack_ack_seconds`) starts
when the request reaches this route, so the check's time is in it.

bolt's own signature check is off (`request_verification_enabled=False` in `bot.app`). In HTTP mode this route is
the only way into bolt, and it has already checked the signature over the same bytes; checking twice would only
add a second clock reading at the 5-minute edge, where bolt would then log the body it refuses. In Socket Mode
there is no such route at all (the app token authenticates the socket, and bolt skips the check for socket
requests anyway). Anything that ever hands bolt HTTP requests another way must check signatures the same way.

bolt's own parser treats any form body that contains the substring "payload" (for example `/lead list payload`)
as an interactivity payload and, finding no `payload` field, parses it as empty: the command is then answered 404.
`SlackFormRequest` parses form bodies by their fields instead, so such text works; signed bodies that are not
UTF-8 or carry malformed (or absurdly nested) payload JSON are answered 400 here instead of crashing in bolt (500).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.logs import REQUEST_ID, Tally, start_request
from bot.metrics import SLACK_REJECTED, label
from store.errors import STORE_OUTAGE

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # Slack's largest payloads (view submissions) stay far below this
MAX_AGE_SECONDS = 60 * 5  # Slack's own rule: older requests may be replays
REFUSALS_TOLD_EVERY_SECONDS = 10.0
# Signatures are remembered this long past the window: replicas' clocks may differ by a little.
REMEMBERED_BEYOND_WINDOW_SECONDS = 60
REPLAY_CHECK_S = 1.0  # the most of Slack's 3 s for the ack that the replay check may take (the database's answer)
_TIMESTAMP_DIGITS = 12  # Unix seconds have 10 digits until the year 5138; more is not a time Slack sends


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
    except RecursionError as exc:
        raise MalformedSlackBody("payload JSON is nested too deeply") from exc
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
        # For `authorize` (bot.slack.installation): bolt's own context leaves out which app a request is for.
        self.context["api_app_id"] = self.body.get("api_app_id")

    def to_copyable(self) -> SlackFormRequest:
        return SlackFormRequest(
            body=self.raw_body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            mode=self.mode,
        )


def signature_problem(raw: bytes, headers: Any, signing_secret: str, now: float | None = None) -> str | None:
    """Why `raw` is not Slack's v0-signed body (None: it is), checked over the bytes, before any decoding.

    slack_sdk's verifier needs UTF-8 and raises on a timestamp that is not a number; this one only says no.
    """
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp or not signature:
        return "missing headers"
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _TIMESTAMP_DIGITS):
        return "unreadable timestamp"
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE_SECONDS:
        return "stale timestamp"
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = b"v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest().encode()
    # aiohttp hands over non-ASCII header bytes as surrogates; compare_digest refuses non-ASCII str.
    if not hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape")):
        return "bad signature"
    return None


def is_signed_by_slack(raw: bytes, headers: Any, signing_secret: str, now: float | None = None) -> bool:
    """Slack's v0 signature over the raw bytes, at most 5 minutes old (a bad body may not be UTF-8)."""
    return signature_problem(raw, headers, signing_secret, now) is None


def refusals_tally(every: float = REFUSALS_TOLD_EVERY_SECONDS) -> Tally:
    """Refused requests counted by reason, told in one line per `every` seconds at most."""

    def describe(counts: Counter[str]) -> str:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items()))
        return f"refused {counts.total()} Slack request(s) in the last {every:.0f} s ({reasons})"

    return Tally(log, every, describe)


FirstSighting = Callable[[str, int], bool]
"""Remembers a request signature until the given epoch milliseconds; False when it was remembered already."""


def slack_events_handler(
    bolt_app: AsyncApp,
    signing_secret: str,
    first_sighting: FirstSighting,
    *,
    summary_every: float = REFUSALS_TOLD_EVERY_SECONDS,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler that checks Slack's signature and refuses replays, then dispatches to `bolt_app`.

    `first_sighting`: the shared memory of accepted signatures (blocking: it runs in a worker thread).
    `summary_every`: the shortest time between two log lines about refused requests (tests shorten it).
    """
    if not signing_secret:
        raise ValueError("the Slack events route needs the signing secret")
    refusals = refusals_tally(summary_every)

    async def handle(request: web.Request) -> web.Response:
        arrived = time.monotonic()  # the ack's clock starts here: the replay check below counts against Slack's 3 s
        raw = await request.read()
        problem = signature_problem(raw, request.headers, signing_secret)
        if problem is None and await _replayed(first_sighting, request.headers):
            problem = "replayed"
        if problem is not None:
            refusals.count(problem)
            SLACK_REJECTED.labels(label(problem)).inc()
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            bolt_request = SlackFormRequest(
                body=raw.decode("utf-8"), query=request.query_string, headers=dict(request.headers)
            )
        except (UnicodeDecodeError, MalformedSlackBody) as exc:
            log.warning("signed slack request rejected: %s", _reason(exc))
            SLACK_REJECTED.labels("malformed_body").inc()
            return web.json_response({"error": "malformed request body"}, status=400)
        log.debug("signed Slack request accepted (%d bytes)", len(raw))
        event_id = bolt_request.body.get("event_id")
        # Slack's own id follows an event through its retries; the front door takes the id from bolt's context.
        bolt_request.context["request_id"] = start_request(event_id) if event_id else REQUEST_ID.get()
        bolt_request.context["arrived"] = arrived
        bolt_response = await bolt_app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    return handle


async def _replayed(first_sighting: FirstSighting, headers: Any) -> bool:
    """Whether this signed request was accepted before (headers already checked by `signature_problem`). A
    database that does not answer within REPLAY_CHECK_S is taken as away: Slack waits 3 s for the ack."""
    fresh_until_s = int(headers["X-Slack-Request-Timestamp"]) + MAX_AGE_SECONDS + REMEMBERED_BEYOND_WINDOW_SECONDS
    try:
        async with asyncio.timeout(REPLAY_CHECK_S):
            return not await asyncio.to_thread(first_sighting, headers["X-Slack-Signature"], fresh_until_s * 1000)
    except STORE_OUTAGE as exc:
        log.warning("could not check a Slack request for replay: the database is unavailable (%s)", type(exc).__name__)
        return False
    except TimeoutError:
        # The thread goes on and remembers the signature when the database answers; the request goes on now.
        log.warning(
            "could not check a Slack request for replay: the database did not answer within %g s", REPLAY_CHECK_S
        )
        return False


def _reason(exc: Exception) -> str:
    # A UnicodeDecodeError's text quotes the bytes it could not decode; say only where.
    if isinstance(exc, UnicodeDecodeError):
        return f"body is not UTF-8 (byte {exc.start})"
    return str(exc)
