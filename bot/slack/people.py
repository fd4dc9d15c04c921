"""Who a Slack user is, for the login's pages: name, handle, workspace and e-mail (`users.info`, `users:read.email`,
and the workspace's name from the bot's own `auth.test`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from oauth.login import ChatPerson
from store import ChatIdentity

log = logging.getLogger(__name__)


def slack_people(client: AsyncWebClient, workspace: Callable[[], Awaitable[Any]] | None = None):
    """`describe(identity) -> ChatPerson | None` over the Slack Web API (None when Slack cannot say).

    `workspace`: the bot's `auth.test` answer (its `team` is the workspace's name), asked once by its owner.
    """

    async def describe(identity: ChatIdentity) -> ChatPerson | None:
        try:
            answer = await client.users_info(user=identity.user_id)
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", identity, exc.response.get("error"))
            return None
        user = answer.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("real_name") or user.get("real_name") or user.get("name") or identity.user_id
        return ChatPerson(
            name=str(name),
            email=profile.get("email") or None,
            handle=user.get("name") or None,
            workspace=await _workspace_name(workspace),
        )

    return describe


async def _workspace_name(workspace: Callable[[], Awaitable[Any]] | None) -> str | None:
    if workspace is None:
        return None
    try:
        return (await workspace()).get("team") or None
    except SlackApiError as exc:  # the page can name the person without their workspace
        log.warning("auth.test for the workspace name failed: %s", exc.response.get("error"))
        return None
