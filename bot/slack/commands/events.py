"""Slack telling us the app is gone from a workspace, or a person is: their Zoho connections are revoked and
forgotten.

A person deactivated in Slack (`user_change` with `deleted: true`, confirmed with `users.info`, since a departing
employee must not keep acting in the CRM through the bot) loses their Zoho connection at once, audited as done by
Slack; the admins are not asked and nobody is sent a DM.

`app_uninstalled`, and `tokens_revoked` when the bot token is among the revoked ones (its `tokens.bot` lists
bot user ids; a Slack app has one bot user, so any entry is ours). They pass the front door like every request,
patiently: the work is never turned away. The workspace is the envelope's `team_id`. No DM is sent: the bot
token no longer works.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack.front_door import Delivery, FrontDoor, Incoming, Needs, Visit, Work
from bot.slack.views.revoke import DEACTIVATION_ACTOR, UNINSTALL_ACTOR
from oauth.revocation import RevokeOutcome
from store import ChatIdentity

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


def read_user_change(incoming: Incoming) -> Work[tuple[ChatIdentity, ...]] | None:
    """Only a deactivation matters (profile edits come as `user_change` too). The person is looked up under the
    workspace the event came to (the envelope's team, where their commands came from and their connection is
    kept), and under the user's own `team_id` when it names another: on Enterprise Grid it can be their home
    workspace, and a departed employee must not keep their Zoho access because the two differ."""
    user = incoming.payload.get("user")
    if not isinstance(user, dict) or user.get("deleted") is not True:
        return None
    user_id = user.get("id")
    teams = [t for t in (incoming.team_id, user.get("team_id")) if isinstance(t, str) and t]
    if not teams or not isinstance(user_id, str) or not user_id:
        log.warning("user_change event without a team or user id; ignored")
        return None
    people = tuple(ChatIdentity(team_id, user_id) for team_id in dict.fromkeys(teams))
    if len(people) > 1:
        log.info("user_change for %s names team %s besides team %s: looked up under both", user_id, *teams[::-1])
    return Work(people, name="user deactivated", delivery=Delivery.NOBODY, needs=Needs.NOTHING, patient=True)


async def run_user_deactivated(visit: Visit, people: tuple[ChatIdentity, ...]) -> None:
    services = visit.services
    connected = [p for p in people if await asyncio.to_thread(services.store.connections.get, p) is not None]
    if not connected:
        return  # most of a workspace never connected: nothing to revoke, nothing to audit
    if not await _deactivated(visit, connected[0]):
        return
    for person in connected:
        result = await services.revocation.forget(person, DEACTIVATION_ACTOR, "revoke", "Slack user deactivated")
        log.info("%s deactivated in Slack: Zoho connection %s", person, result.outcome.value)


async def _deactivated(visit: Visit, person: ChatIdentity) -> bool:
    """Slack's own word that `person` is deactivated (an event is signed, but the Web API is the record)."""
    try:
        answer = await visit.services.slack.users_info(user=person.user_id)
    except SlackApiError as exc:
        if exc.response.get("error") == "user_not_found":
            return True  # gone for good
        problem = str(exc.response.get("error"))
    except Exception as exc:  # network trouble
        problem = type(exc).__name__
    else:
        if (answer.get("user") or {}).get("deleted") is True:
            return True
        log.warning("user_change said %s was deactivated, users.info says not; Zoho connection kept", person)
        return False
    log.warning(
        "users.info could not confirm that %s was deactivated (%s): Zoho connection kept; an admin can cut it with "
        "/zoho-revoke",
        person,
        problem,
    )
    return False


def bot_token_revoked(event: dict[str, Any]) -> bool:
    """True when a `tokens_revoked` event names a bot token (not only user tokens)."""
    tokens = event.get("tokens")
    return isinstance(tokens, dict) and bool(tokens.get("bot"))


def register(door: FrontDoor) -> None:
    door.event("app_uninstalled", read_app_uninstalled, run_forget_workspace)
    door.event("tokens_revoked", read_tokens_revoked, run_forget_workspace)
    door.event("user_change", read_user_change, run_user_deactivated)
