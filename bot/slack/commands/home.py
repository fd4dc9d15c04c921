"""The App Home tab: what a person sees when they open the app (`app_home_opened`), and its buttons.

`HomeTab.publish(identity)` builds the person's Home from the store (their connection; for admins, asked of
Slack at every build, the workspace's connections, audit and revocation queue) and Zoho (their latest Leads, the
only Zoho call), and publishes it with `views.publish`. It never raises: a Zoho failure becomes a note on the tab,
anything else is logged. The composition root also calls it when a connection comes or goes (bot.app).

The buttons pass the front door like any click; they carry no response_url, so they are answered by DM
(`Delivery.DM`) and the tab is republished. Connect sends the login DM (as `/lead login`), Disconnect does what
`/lead logout` does, New Lead opens the create form, Edit is the Lead messages' own Edit button
(bot.slack.commands.lead_buttons). An admin's Revoke asks Slack again whether the clicker is an admin, then does
what `/zoho-revoke @person` does (bot.slack.commands.revoke).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.leads.model import Lead
from bot.leads.service import LeadServices
from bot.slack.admin import AdminCheck
from bot.slack.commands.lead import log_out, open_lead_form, send_login
from bot.slack.commands.revoke import admin_or_say_no, tell_and_answer
from bot.slack.front_door import Delivery, FrontDoor, Incoming, Needs, Visit, Work
from bot.slack.services import SlackServices, SlackStore
from bot.slack.views.errors import Failure
from bot.slack.views.home import (
    AUDIT_ON_HOME,
    HOME_CONNECT,
    HOME_DISCONNECT,
    HOME_NEW_LEAD,
    HOME_PEOPLE_NEXT,
    HOME_PEOPLE_PREV,
    HOME_REVOKE,
    LATEST_LEADS,
    WAITING_NAMED,
    AdminPart,
    Home,
    home_view,
    page_of,
)
from bot.slack.views.revoke import revoked_line
from bot.zoho import CrmError, NoPermission, ReconnectNeeded
from oauth.revocation import RevokeOutcome
from store import ChatIdentity, Connection, NotConnected
from store.errors import STORE_OUTAGE

log = logging.getLogger(__name__)

ZOHO_DID_NOT_ANSWER = "Zoho CRM did not answer just now. Open this tab again in a minute to try again."
ZOHO_REFUSED = "Zoho no longer accepts your connection (it expired or was revoked): disconnect and connect again."
NOT_ALLOWED = "Your Zoho CRM profile does not allow you to see Leads. Ask your Zoho administrator."


class HomeTab:
    """Builds and publishes people's Home tabs; stateless, so any part of the bot may make one."""

    def __init__(self, slack: AsyncWebClient, store: SlackStore, leads: LeadServices, admin: AdminCheck) -> None:
        self._slack = slack
        self._store = store
        self._leads = leads
        self._admin = admin

    @classmethod
    def of(cls, services: SlackServices) -> HomeTab:
        return cls(services.slack, services.store, services.leads, services.admin)

    async def publish(self, identity: ChatIdentity, page: int = 1) -> bool:
        """Publish `identity`'s Home (the admins' people list at `page`); False, logged, when it was not."""
        try:
            home = await self.build(identity, page)
            await self._slack.views_publish(user_id=identity.user_id, view=home_view(home))
            return True
        except SlackApiError as exc:
            log.warning("Home tab of %s not published: %s", identity, exc.response.get("error"))
        except STORE_OUTAGE as exc:  # the tab keeps what it showed until the database is back
            log.warning("Home tab of %s not published: the database is unavailable (%s)", identity, type(exc).__name__)
        except Exception:  # a bug: the tab keeps what it showed, the log says why
            log.exception("Home tab of %s not published", identity)
        return False

    async def connected(self, connection: Connection) -> None:
        """LoginService's `on_connected`: the new connection shown on its owner's Home."""
        await self.publish(connection.identity)

    async def forgotten(self, identity: ChatIdentity) -> None:
        """RevocationService's `on_forgotten`: the person's Home no longer shows the connection."""
        await self.publish(identity)

    async def build(self, identity: ChatIdentity, page: int = 1) -> Home:
        connection = await asyncio.to_thread(self._store.connections.get, identity)
        leads, problem = await self._latest_leads(connection)
        admin = await self._admin_part(identity, page)
        return Home(connection, leads, problem, admin)

    async def _latest_leads(self, connection: Connection | None) -> tuple[tuple[Lead, ...], str]:
        """The person's latest Leads, or why they could not be loaded."""
        if connection is None:
            return (), ""
        try:
            page = await self._leads.of(connection).list(1, counted=False)
        except ReconnectNeeded:
            return (), ZOHO_REFUSED
        except NoPermission:  # Zoho answered: not a "try again"
            return (), NOT_ALLOWED
        except (CrmError, NotConnected) as error:
            log.info("Home tab of %s without Leads: %s", connection.identity, type(error).__name__)
            return (), ZOHO_DID_NOT_ANSWER
        except Exception:  # the rest of the tab is still worth showing
            log.exception("Home tab of %s: Leads not loaded", connection.identity)
            return (), ZOHO_DID_NOT_ANSWER
        return page.leads[:LATEST_LEADS], ""

    async def _admin_part(self, identity: ChatIdentity, page: int) -> AdminPart | None:
        """For an admin (asked of Slack now): the workspace's part, from the store only (no Zoho call)."""
        if not (await self._admin.check(identity)).allowed:
            return None
        store, team_id = self._store, identity.team_id
        people = await asyncio.to_thread(store.connections.list, team_id)
        audit = await asyncio.to_thread(store.audit.list, team_id, AUDIT_ON_HOME)
        waiting, named = await asyncio.to_thread(store.revocations.waiting, team_id, WAITING_NAMED)
        return AdminPart(tuple(people), page, tuple(audit), waiting, tuple(named))


# ----- opening the tab -------------------------------------------------------------------------------------------


def read_home_opened(incoming: Incoming) -> Work[None] | None:
    """Only the Home tab (the Messages tab sends this event too)."""
    if incoming.payload.get("tab") != "home":
        return None
    return Work(None, name="home opened", delivery=Delivery.NOBODY, needs=Needs.NOTHING)


async def run_publish(visit: Visit, _: object) -> None:
    await HomeTab.of(visit.services).publish(visit.person, page_of(_home_view(visit.incoming)))


# ----- everyone's buttons ------------------------------------------------------------------------------------------


def read_connect(incoming: Incoming) -> Work[None]:
    return Work(None, name="home connect button", delivery=Delivery.DM, needs=Needs.LOOKUP)


async def run_connect(visit: Visit, _: None) -> None:
    await send_login(visit)


def read_disconnect(incoming: Incoming) -> Work[None]:
    return Work(None, name="home disconnect button", delivery=Delivery.DM, needs=Needs.LOOKUP)


async def run_disconnect(visit: Visit, _: None) -> None:
    """As `/lead logout`; the revocation service republishes the tab when a connection went."""
    if (await log_out(visit)).outcome is RevokeOutcome.NOT_CONNECTED:
        await HomeTab.of(visit.services).publish(visit.person)  # the tab was out of date


def read_new_lead(incoming: Incoming) -> Work[None]:
    return Work(
        None,
        name="home new lead button",
        delivery=Delivery.DM,
        failure=Failure("No form this time"),
        again="Once you are, press *New Lead* on the Home tab again.",
    )


async def run_new_lead(visit: Visit, _: None) -> None:
    await open_lead_form(visit)


# ----- the admins' buttons -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevokeClick:
    user_id: str  # whose connection
    page: int  # the people page the button was on


def read_revoke(incoming: Incoming) -> Work[RevokeClick] | None:
    user_id = str(incoming.payload.get("value") or "")
    if not user_id:
        return None
    click = RevokeClick(user_id, page_of(_home_view(incoming)))
    return Work(click, name="home revoke button", delivery=Delivery.DM, needs=Needs.NOTHING)


async def run_revoke(visit: Visit, click: RevokeClick) -> None:
    """The admin check again, on the click: a page published to an admin since demoted grants nothing."""
    home, admin = HomeTab.of(visit.services), visit.person
    if not await admin_or_say_no(visit, "You pressed Revoke on the Home tab."):
        await home.publish(admin)  # without the admin part now
        return
    subject = ChatIdentity(team_id=admin.team_id, user_id=click.user_id)
    results = await visit.services.revocation.forget_many([subject], admin.user_id, "revoke")
    await tell_and_answer(visit, results, [revoked_line(result) for result in results])
    await home.publish(admin, click.page)


def read_people_page(incoming: Incoming) -> Work[int]:
    try:
        page = max(1, int(str(incoming.payload.get("value") or "1")))
    except ValueError:
        page = 1
    return Work(page, name="home people page", delivery=Delivery.DM, needs=Needs.NOTHING)


async def run_people_page(visit: Visit, page: int) -> None:
    """Building the tab asks Slack whether the clicker is an admin: a non-admin gets their own part only."""
    await HomeTab.of(visit.services).publish(visit.person, page)


def _home_view(incoming: Incoming) -> dict | None:
    """The Home view a click came from, or the one the event says is shown."""
    view = incoming.body.get("view") or (incoming.body.get("event") or {}).get("view")
    return view if isinstance(view, dict) else None


def register(door: FrontDoor) -> None:
    door.event("app_home_opened", read_home_opened, run_publish)
    door.action(HOME_CONNECT, read_connect, run_connect)
    door.action(HOME_DISCONNECT, read_disconnect, run_disconnect)
    door.action(HOME_NEW_LEAD, read_new_lead, run_new_lead)
    door.action(HOME_REVOKE, read_revoke, run_revoke)
    door.action(HOME_PEOPLE_PREV, read_people_page, run_people_page)
    door.action(HOME_PEOPLE_NEXT, read_people_page, run_people_page)
