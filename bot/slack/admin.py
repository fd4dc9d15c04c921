"""Who may run `/zoho-revoke`: Slack workspace admins, owners and primary owners, plus ZOHO_ADMIN_USER_IDS.

Asked on the server for every admin action. A "yes" is never cached: an admin demoted a moment ago must not
revoke anyone. A "no" is cached per user for a short time, so a non-admin repeating the command costs one call.
A failed `users.info` is never cached and means "not admin", with a reason that says Slack could not confirm.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.people import user_of
from store import ChatIdentity

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0


class AdminReason(enum.Enum):
    LISTED = "listed in ZOHO_ADMIN_USER_IDS"
    WORKSPACE_ADMIN = "Slack workspace admin"
    WORKSPACE_OWNER = "Slack workspace owner"
    NOT_ADMIN = "not a workspace admin"
    UNCONFIRMED = "Slack could not confirm"


@dataclass(frozen=True)
class AdminVerdict:
    allowed: bool
    reason: AdminReason


class AdminCheck:
    """Decides whether a chat identity is an admin of its workspace."""

    def __init__(
        self,
        client: AsyncWebClient,
        admin_user_ids: frozenset[str],
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._listed = admin_user_ids
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[ChatIdentity, tuple[float, AdminVerdict]] = {}

    async def check(self, identity: ChatIdentity) -> AdminVerdict:
        """The verdict for `identity`; never raises (a Slack failure gives `UNCONFIRMED`, not allowed)."""
        if identity.user_id in self._listed:
            return AdminVerdict(True, AdminReason.LISTED)
        now = self._clock()
        cached = self._cache.get(identity)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        user = await user_of(self._client, identity)
        if user is None:  # Slack refused or could not be reached: fail closed
            return AdminVerdict(False, AdminReason.UNCONFIRMED)
        verdict = _verdict(user)
        if not verdict.allowed:
            self._cache[identity] = (now, verdict)
        return verdict


def _verdict(user: dict[str, object]) -> AdminVerdict:
    if user.get("deleted"):
        return AdminVerdict(False, AdminReason.NOT_ADMIN)
    if user.get("is_owner") or user.get("is_primary_owner"):
        return AdminVerdict(True, AdminReason.WORKSPACE_OWNER)
    if user.get("is_admin"):
        return AdminVerdict(True, AdminReason.WORKSPACE_ADMIN)
    return AdminVerdict(False, AdminReason.NOT_ADMIN)
