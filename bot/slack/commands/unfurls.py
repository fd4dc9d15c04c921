"""Link unfurls: a Zoho CRM Lead link posted in Slack (`link_shared`) becomes a small card (`chat.unfurl`).

The Lead is read as the person who posted the link, so a card never shows what that person may not see:
nothing unfurls for someone who is not connected (and nobody is asked to log in: they only posted a link), for a
link into an org or a data centre other than the one they are connected to (no Zoho call at all), or for a Lead
Zoho does not give them (missing, or not theirs to read; logged). Slack sends the event for the domains the
manifest lists (`unfurl_domains` in app.yaml).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.leads.links import LeadLink, lead_link
from bot.slack.commands.lead_buttons import run_nothing
from bot.slack.front_door import Delivery, FrontDoor, Incoming, Needs, Visit, Work
from bot.slack.views.unfurl import OPEN_IN_ZOHO, lead_card
from bot.zoho import CrmError, ReconnectNeeded
from oauth.datacentres import data_centre_of_api

log = logging.getLogger(__name__)

MAX_LINKS = 5  # Slack unfurls at most this many links of one message


@dataclass(frozen=True)
class SharedLinks:
    """The Lead links of one `link_shared` event, and what `chat.unfurl` needs to name that message."""

    channel: str
    ts: str
    unfurl_id: str
    source: str
    links: tuple[LeadLink, ...]

    def message_args(self) -> dict[str, str]:
        """`unfurl_id` and `source` when Slack gave them (they name a message still being written too), else
        the channel and message ts."""
        if self.unfurl_id and self.source:
            return {"unfurl_id": self.unfurl_id, "source": self.source}
        return {"channel": self.channel, "ts": self.ts}


def read_link_shared(incoming: Incoming) -> Work[SharedLinks] | None:
    event = incoming.payload
    found = (lead_link(str(link.get("url") or "")) for link in event.get("links") or [] if isinstance(link, dict))
    links = tuple(link for link in found if link is not None)[:MAX_LINKS]
    if not links:
        return None
    shared = SharedLinks(
        channel=str(event.get("channel") or ""),
        ts=str(event.get("message_ts") or ""),
        unfurl_id=str(event.get("unfurl_id") or ""),
        source=str(event.get("source") or ""),
        links=links,
    )
    # LOOKUP, not CONNECTION: someone who is not connected only posted a link; no login link is sent for that.
    return Work(shared, name="link unfurl", delivery=Delivery.NOBODY, needs=Needs.LOOKUP)


async def run_unfurl(visit: Visit, shared: SharedLinks) -> None:
    connection = visit.connection
    if connection is None:
        log.info("link unfurl by %s: not connected, nothing unfurled", visit.identity)
        return
    cards: dict[str, Any] = {}
    for link in shared.links:
        if link.org_id != connection.org_id:
            log.info("link unfurl by %s: org %s is not theirs, nothing unfurled", visit.identity, link.org_id)
            continue
        # Where their Zoho calls go; the data centre Zoho named at login when that URL is not Zoho's own (an
        # override: a proxy, an emulator).
        theirs = data_centre_of_api(connection.api_domain) or connection.location
        if theirs and link.location != theirs:
            # Org ids are each data centre's own: the same number elsewhere is another org, and its link would not
            # open for them anyway.
            log.info(
                "link unfurl by %s: a link into the %s data centre, theirs is %s; nothing unfurled",
                visit.identity,
                link.location,
                theirs,
            )
            continue
        try:
            lead = await visit.leads.get(link.lead_id)
        except ReconnectNeeded:
            raise  # the front door forgets the connection and tells its owner
        except CrmError as error:
            log.info("link unfurl by %s: Lead %s not read (%s)", visit.identity, link.lead_id, type(error).__name__)
            continue
        cards[link.url] = lead_card(lead, link.url)
    if cards:
        await _unfurl(visit, shared, cards)


async def _unfurl(visit: Visit, shared: SharedLinks, cards: dict[str, Any]) -> None:
    try:
        await visit.services.slack.chat_unfurl(unfurls=cards, **shared.message_args())
    except SlackApiError as exc:
        log.warning("chat.unfurl refused for %s: %s", visit.identity, exc.response.get("error"))


def register(door: FrontDoor) -> None:
    door.event("link_shared", read_link_shared, run_unfurl)
    door.action(OPEN_IN_ZOHO, lambda incoming: None, run_nothing)
