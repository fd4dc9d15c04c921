"""Slack telling us the app is gone from a workspace: every Zoho connection there is revoked and forgotten.

`app_uninstalled`, and `tokens_revoked` when the bot token is among the revoked ones (its `tokens.bot` lists
bot user ids; a Slack app has one bot user, so any entry is ours). They pass the front door like every request,
patiently: the work is never turned away. The workspace is the envelope's `team_id`. No DM is sent: the bot
token no longer works.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.slack.front_door import Delivery, FrontDoor, Incoming, Needs, Visit, Work
from bot.slack.views.revoke import UNINSTALL_ACTOR
from oauth.revocation import RevokeOutcome

log = logging.getLogger(__name__)


def read_app_uninstalled(incoming: Incoming) -> Work[str] | None:
    return _forget(incoming, "app_uninstalled")


def read_tokens_revoked(incoming: Incoming) -> Work[str] | None:
    return _forget(incoming, "tokens_revoked") if bot_token_revoked(incoming.payload) else None


def _forget(incoming: Incoming, why: str) -> Work[str] | None:
    team_id = incoming.team_id
    if not team_id:
        log.warning("%s event without a team_id; ignored", why)
        return None
    # Patient: a workspace that removed the app must lose its Zoho access even when the bot is busy.
    return Work(team_id, name=f"{why} {team_id}", delivery=Delivery.NOBODY, needs=Needs.NOTHING, patient=True)


async def run_forget_workspace(visit: Visit, team_id: str) -> None:
    results = await visit.services.revocation.forget_workspace(team_id, UNINSTALL_ACTOR, "uninstall")
    queued = sum(r.outcome is RevokeOutcome.QUEUED for r in results)
    log.info("forgot %d Zoho connections of team=%s (%d revocations queued)", len(results), team_id, queued)


def bot_token_revoked(event: dict[str, Any]) -> bool:
    """True when a `tokens_revoked` event names a bot token (not only user tokens)."""
    tokens = event.get("tokens")
    return isinstance(tokens, dict) and bool(tokens.get("bot"))


def register(door: FrontDoor) -> None:
    door.event("app_uninstalled", read_app_uninstalled, run_forget_workspace)
    door.event("tokens_revoked", read_tokens_revoked, run_forget_workspace)
