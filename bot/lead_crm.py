"""The one door from the Slack handlers to Zoho CRM: `crm_call`, and how its failures are told to the person.

`crm_call` makes sure the connection's access token is fresh first (`services.refresher`, single-flight), runs
one ZohoCrm operation as that connection, and when Zoho rejects the access token anyway it refreshes once and
tries again (a rejected token never wrote anything). A refresh token Zoho refuses becomes ReconnectNeeded;
`tell_crm_error` then forgets the unusable connection and DMs a fresh login link.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import store
from bot.crm import CrmConnection, CrmError, ReconnectNeeded, ZohoCrm, ZohoTimeout, ZohoUnavailable
from bot.lead_command import send_login_link
from bot.leads.blocks import problems_message
from bot.reply import Reply
from bot.services import BotServices
from oauth.accounts_client import ZohoUnreachable
from oauth.refresh import TokenRevoked
from store import ChatIdentity, Connection

log = logging.getLogger(__name__)

T = TypeVar("T")
Operation = Callable[[ZohoCrm, CrmConnection], Awaitable[T]]

# Codes after which one refresh may help; a scope mismatch needs a new login.
_RETRY_AFTER_REFRESH = frozenset({"INVALID_TOKEN", "INVALID_OAUTHTOKEN", "AUTHENTICATION_FAILURE", "401"})


class NotConnected(Exception):
    """The connection was removed (logout, revoke) while the command was running."""


async def crm_call(services: BotServices, connection: Connection, operation: Operation[T]) -> T:
    """Run `operation(crm, crm_connection)` as `connection`. Every CRM call of the bot goes through here.

    Raises the CrmErrors of bot.crm (ReconnectNeeded when the token cannot be made to work), or NotConnected.
    """
    try:
        target = CrmConnection.of(connection)
    except ValueError:  # a stored connection without its hosts cannot be used
        raise ReconnectNeeded("NO_API_DOMAIN") from None
    try:
        access_token = await services.refresher.ensure_fresh(connection)
        try:
            return await operation(services.crm, target)
        except ReconnectNeeded as rejected:
            if rejected.code not in _RETRY_AFTER_REFRESH:
                raise
            log.info("access token rejected (%s) connection=%s; refreshing once", rejected.code, connection.id)
            await services.refresher.refresh_rejected(connection, access_token)
            return await operation(services.crm, target)
    except TokenRevoked as revoked:
        raise ReconnectNeeded(revoked.code) from None
    except store.NotConnected:
        raise NotConnected() from None
    except ZohoUnreachable as unreachable:
        raise ZohoUnavailable(None, str(unreachable)) from None


async def forget_and_relink(services: BotServices, identity: ChatIdentity, reply: Reply) -> None:
    """The token is unusable: forget the local connection and DM a fresh login link."""
    await asyncio.to_thread(services.store.connections.delete, identity)
    log.info("connection of %s forgotten: Zoho no longer accepts its token", identity)
    await send_login_link(
        services,
        identity,
        reply,
        "Zoho no longer accepts your connection (it expired or was revoked), so I've disconnected it. "
        "Nothing was changed in Zoho CRM.",
    )


async def tell_crm_error(
    services: BotServices,
    identity: ChatIdentity,
    reply: Reply,
    error: CrmError | NotConnected,
    *,
    summary: str,
    typed: str | None = None,
) -> None:
    """Say what went wrong talking to Zoho (its typed message) and what the person typed."""
    if isinstance(error, ReconnectNeeded):
        await forget_and_relink(services, identity, reply)
        return
    if isinstance(error, NotConnected):
        await send_login_link(services, identity, reply, "You're no longer connected to Zoho CRM.")
        return
    if isinstance(error, ZohoTimeout):
        summary = "Zoho CRM did not answer in time"
    await reply.send(**problems_message(summary, [error.message], typed))
