"""Posting answers to Slack `response_url`s over one shared HTTP session.

bolt's `respond()` builds a new aiohttp session (and TCP connection) for every post: about 4 ms of the event
loop's time each, which under load costs more than acking the command did (bench/ack_bench.py). `ResponseUrls`
keeps one session for the process and hands out `respond`-compatible callables.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

Respond = Callable[..., Awaitable[WebhookResponse]]


def slack_retry_handlers() -> list[Any]:
    """How every call to Slack is retried (Web API and response URLs alike): a 429 waits its Retry-After (twice at
    most), a 5xx or a dropped connection is tried once more."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=1),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=1),
    ]


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        port = -1
    return parts.scheme, (parts.hostname or "").lower(), port


class ResponseUrls:
    """`respond_for(url)` gives `await respond(text=…, blocks=…, response_type=…, replace_original=…)`."""

    def __init__(
        self, timeout: int = 10, slack_api_url: str = "https://slack.com/api/", also_allowed: tuple[str, ...] = ()
    ) -> None:
        self._timeout = timeout
        # Slack's response URLs live on hooks.slack.com; emulators serve them beside their Web API. `also_allowed`:
        # more origins for a harness that serves response URLs itself (bench/ack_bench.py).
        self._allowed = {("https", "hooks.slack.com", 443), _origin(slack_api_url), *map(_origin, also_allowed)}
        self._session: aiohttp.ClientSession | None = None
        self._retry_handlers = slack_retry_handlers()

    def _shared(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        return self._session

    def respond_for(self, url: str) -> Respond:
        async def respond(**message: Any) -> WebhookResponse:
            if not url:
                raise ValueError("no response_url to answer through")
            if _origin(url) not in self._allowed:
                raise ValueError("the response_url is not one of Slack's; nothing was posted to it")
            client = AsyncWebhookClient(
                url, timeout=self._timeout, session=self._shared(), retry_handlers=self._retry_handlers
            )
            return await client.send_dict({k: v for k, v in message.items() if v is not None})

        return respond

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
