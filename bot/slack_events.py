"""Slack telling us the app is gone from a workspace: every Zoho connection there is revoked and forgotten.

`app_uninstalled`, and `tokens_revoked` when the bot token is among the revoked ones (its `tokens.bot` lists
bot user ids; a Slack app has one bot user, so any entry is ours). bolt acks events before the listener runs,
and the work goes to the background. The workspace is the envelope's `team_id`. No DM is sent: the bot token
no longer works.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.app.async_app import AsyncApp

from bot.revoke_command import UNINSTALL_ACTOR
from bot.services import BotServices
from oauth.revocation import RevokeOutcome

log = logging.getLogger(__name__)


async def forget_workspace(services: BotServices, team_id: str, why: str) -> None:
    results = await services.revocation.forget_workspace(team_id, UNINSTALL_ACTOR, "uninstall")
    queued = sum(r.outcome is RevokeOutcome.QUEUED for r in results)
    log.info("%s: forgot %d Zoho connections of team=%s (%d revocations queued)", why, len(results), team_id, queued)


def bot_token_revoked(event: dict[str, Any]) -> bool:
    """True when a `tokens_revoked` event names a bot token (not only user tokens)."""
    tokens = event.get("tokens")
    return isinstance(tokens, dict) and bool(tokens.get("bot"))


def register_slack_events(app: AsyncApp, services: BotServices) -> None:
    """Attach the `app_uninstalled` and `tokens_revoked` listeners."""

    def start(body: dict[str, Any], why: str) -> None:
        team_id = body.get("team_id")
        if not isinstance(team_id, str) or not team_id:
            log.warning("%s event without a team_id; ignored", why)
            return
        services.background.spawn(forget_workspace(services, team_id, why), name=f"{why} {team_id}")

    @app.event("app_uninstalled")
    async def app_uninstalled(body: dict[str, Any]) -> None:
        start(body, "app_uninstalled")

    @app.event("tokens_revoked")
    async def tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        if bot_token_revoked(event):
            start(body, "tokens_revoked")
