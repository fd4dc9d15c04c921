"""Who the bot is in its workspace (Slack's `auth.test`), asked once and given to bolt through its `authorize` hook.

bolt would otherwise call `auth.test` inside the first request, before that request's ack, so a bad token
showed up as a failing command instead of a log line at start. The server asks at start (`auth_test`); bolt's
`authorize` then reuses that answer for every request, and asks again only while there is none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient


class Installation:
    """The bot's own identity in the workspace its token belongs to."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._answer: Any = None
        self._asking = asyncio.Lock()

    async def auth_test(self) -> Any:
        """Slack's answer to `auth.test` for the bot token (asked once); raises SlackApiError when refused."""
        if self._answer is None:
            async with self._asking:
                if self._answer is None:
                    self._answer = await self._client.auth_test()
        return self._answer

    def authorize(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """bolt's `authorize` hook: a plain function, since bolt passes its arguments by parameter name."""

        async def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
            answer = await self.auth_test()
            return AuthorizeResult.from_auth_test_response(bot_token=self._client.token, auth_test_response=answer)

        return authorize
