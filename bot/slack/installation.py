"""Who the bot is in its workspace (Slack's `auth.test`), asked once and given to bolt through its `authorize` hook.

bolt would otherwise call `auth.test` inside the first request, before that request's ack, so a bad token
showed up as a failing command instead of a log line at start. The server asks at start (`auth_test`); bolt's
`authorize` then reuses that answer for every request, and asks again only while there is none.

The same answer says which workspace (`team_id`) and which app (`app_id`, when Slack includes it) the bot is. A
request signed with the signing secret but naming another workspace or another app (the secret reused by a second
installation, a copy of the app, a shared channel's other side) is not this installation's: `authorize` finds no
authorization for it, and bolt answers it with its "not installed" error without running any listener. So
everything downstream, `ZOHO_ADMIN_USER_IDS` included, only ever sees people of this one workspace. (bolt's
`team_id` is one of the teams a request names, a view's installing team first; the front door refuses a request
whose other teams are not this one, in Socket Mode too.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import SLACK_REJECTED

log = logging.getLogger(__name__)


class Installation:
    """The bot's own identity in the workspace its token belongs to."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._answer: Any = None
        self._asking = asyncio.Lock()
        self.refused = ""  # Slack's error when it last refused the token (`invalid_auth`…); "" once it took it

    @property
    def token_ok(self) -> float:
        """1 while Slack has not refused the bot token at its last `auth.test` (the `zohobot_slack_bot_token_ok`
        gauge); 0 after a refusal: then every request fails until the token is fixed."""
        return 0.0 if self.refused else 1.0

    async def auth_test(self) -> Any:
        """Slack's answer to `auth.test` for the bot token (asked once); raises SlackApiError when refused."""
        if self._answer is None:
            async with self._asking:
                if self._answer is None:
                    try:
                        self._answer = await self._client.auth_test()
                    except SlackApiError as exc:
                        self.refused = str(exc.response.get("error") or "refused")
                        raise
                    self.refused = ""
        return self._answer

    def authorize(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """bolt's `authorize` hook: a plain function, since bolt passes its arguments by parameter name."""

        async def authorize(
            context: Any, enterprise_id: str | None, team_id: str | None, user_id: str | None
        ) -> AuthorizeResult | None:
            try:
                answer = await self.auth_test()
            except SlackApiError:
                # Each request then fails before any listener (bolt answers it and logs why): counted here, where
                # the metrics can see it, with the token's gauge at 0.
                SLACK_REJECTED.labels("bot_token_refused").inc()
                raise
            app_id, sent_app_id = answer.get("app_id"), context.get("api_app_id")
            # A request naming no workspace is nobody's: the front door refuses it (NO_IDENTITY), and bolt's "no
            # listener" 404 still tells Slack it was not understood.
            if (team_id and team_id != answer.get("team_id")) or (app_id and sent_app_id and sent_app_id != app_id):
                log.warning("refused a Slack request for another installation (team %s, app %s)", team_id, sent_app_id)
                SLACK_REJECTED.labels("other_installation").inc()
                return None
            return AuthorizeResult.from_auth_test_response(bot_token=self._client.token, auth_test_response=answer)

        return authorize
