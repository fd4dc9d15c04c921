"""Who a Slack user is, for the login's success page: their name and e-mail (`users.info`, `users:read.email`)."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from oauth.login import ChatPerson
from store import ChatIdentity

log = logging.getLogger(__name__)


def slack_people(client: AsyncWebClient):
    """`describe(identity) -> ChatPerson | None` over the Slack Web API (None when Slack cannot say)."""

    async def describe(identity: ChatIdentity) -> ChatPerson | None:
        try:
            answer = await client.users_info(user=identity.user_id)
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", identity, exc.response.get("error"))
            return None
        user = answer.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("real_name") or user.get("real_name") or user.get("name") or identity.user_id
        return ChatPerson(name=str(name), email=profile.get("email") or None)

    return describe
