"""How the emulator hands a request to the app, like Slack: a signed HTTP POST to the app's Request URL.

Slack waits 3 s for the answer; past that, or when the app cannot be reached or answers an error status, the
user sees an error line instead (docs/reference/slack.md §1): that is the `error` of a `Delivered`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from playground.slack.signing import sign_slack_request

ACK_TIMEOUT_SECONDS = 3.0
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


@dataclass(frozen=True)
class Delivered:
    """The app's answer to one delivery (status 0 when there was none; then `error` says why)."""

    status: int
    text: str
    content_type: str = ""
    error: str | None = None

    @property
    def body(self) -> str | dict[str, Any] | None:
        """The answer body: None when empty, a dict when JSON, else the text."""
        if not self.text:
            return None
        if self.content_type.startswith(JSON) or self.text.lstrip().startswith("{"):
            try:
                parsed = json.loads(self.text)
            except ValueError:
                return self.text
            return parsed if isinstance(parsed, dict) else self.text
        return self.text


def error_for_status(status: int) -> str | None:
    """The error Slack shows the user for an app's HTTP status (None for 200) ⚠ wording of 4xx/5xx."""
    if status == 200:
        return None
    if 400 <= status < 500:
        return "http_client_error"
    if status >= 500:
        return "500_service_error"
    return "dispatch_failed"


class HttpDelivery:
    """Signed POSTs to the app over one client session (no proxy from the environment)."""

    def __init__(self, signing_secret: str, timeout: float = ACK_TIMEOUT_SECONDS) -> None:
        self._secret = signing_secret
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(trust_env=False)
        return self._session

    async def post_raw(self, url: str, body: bytes, headers: dict[str, str]) -> Delivered:
        """POST `body` with exactly `headers`; a timeout or connection failure becomes a `Delivered` error."""
        try:
            async with self._client().post(
                url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=self._timeout)
            ) as resp:
                text = await resp.text()
                return Delivered(resp.status, text, resp.content_type, error_for_status(resp.status))
        except TimeoutError:
            return Delivered(0, "", error="operation_timeout")
        except aiohttp.ClientError:
            return Delivered(0, "", error="dispatch_failed")

    async def post_signed(self, url: str, body: bytes, content_type: str) -> Delivered:
        """POST `body` signed with the signing secret, as Slack does for every request."""
        headers = {"Content-Type": content_type, "User-Agent": USER_AGENT, **sign_slack_request(self._secret, body)}
        return await self.post_raw(url, body, headers)
