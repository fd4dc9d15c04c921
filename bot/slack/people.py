"""Who a Slack user is, from `users.info`: for the login's pages, name, handle, workspace and e-mail
(`users:read.email`, and the workspace's name from the bot's own `auth.test`); for what `tomorrow` and `15:00`
mean to them, their time zone (`PersonZones`)."""

from __future__ import annotations

import datetime
import logging
import time
import zoneinfo
from collections import OrderedDict
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


class PersonZones:
    """Each person's time zone as Slack knows it (`users.info`: the IANA `tz`, else the `tz_offset` seconds), asked
    only when a value they typed depends on it and kept `keep_s` (at most `most` people): a person who moves
    through time zones is followed within the hour. None when Slack cannot say: the caller takes UTC."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        keep_s: float = 3600.0,
        most: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._keep_s = keep_s
        self._most = most
        self._clock = clock
        self._known: OrderedDict[ChatIdentity, tuple[float, datetime.tzinfo | None]] = OrderedDict()

    async def of(self, identity: ChatIdentity) -> datetime.tzinfo | None:
        now = self._clock()
        known = self._known.get(identity)
        if known is not None and now - known[0] < self._keep_s:
            return known[1]
        zone = await self._ask(identity)
        self._known[identity] = (now, zone)
        self._known.move_to_end(identity)
        while len(self._known) > self._most:
            self._known.popitem(last=False)
        return zone

    async def _ask(self, identity: ChatIdentity) -> datetime.tzinfo | None:
        user = await user_of(self._client, identity)
        return zone_of(user) if user is not None else None  # None: the value is read in UTC


async def user_of(client: AsyncWebClient, identity: ChatIdentity) -> dict[str, Any] | None:
    """Slack's user object for `identity` (`users.info`), or None, logged, when Slack refused or could not be
    reached: a caller that must decide without it decides the safe way."""
    try:
        user = (await client.users_info(user=identity.user_id))["user"]
    except SlackApiError as exc:
        log.warning("users.info for %s failed: %s", identity, exc.response.get("error"))
        return None
    except Exception as exc:  # network failure, timeout, or an answer without a user
        log.warning("users.info for %s failed: %s", identity, type(exc).__name__)
        return None
    return user if isinstance(user, dict) else None


def zone_of(user: dict[str, Any]) -> datetime.tzinfo | None:
    """The time zone of a Slack user object: its IANA name (which knows summer time), else its offset now."""
    name = user.get("tz")
    if isinstance(name, str) and name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    offset = user.get("tz_offset")
    if isinstance(offset, int) and abs(offset) < 24 * 3600:
        return datetime.timezone(datetime.timedelta(seconds=offset))
    return None
