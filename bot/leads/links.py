"""Which Lead a Zoho CRM link names: `https://crm.zoho.<dc>/crm/org<ORG>/tab/Leads/<id>`, in any data centre.

A link may go on after the id (`/edit`, `?tab=notes`, `#notes`); anything else (another module, another host, a
Lead link without its org) names no Lead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oauth.datacentres import DATA_CENTRES

CRM_HOSTS: dict[str, str] = {dc.crm_host: dc.code for dc in DATA_CENTRES.values()}
_LEAD_LINK = re.compile(
    r"https://(?P<host>[A-Za-z0-9.-]+)/crm/org(?P<org>\d{1,20})/tab/Leads/(?P<id>\d{1,25})(?:[/?#].*)?"
)


@dataclass(frozen=True)
class LeadLink:
    """A link to one Lead: the data centre it is in, the org id and the Lead id, and the link as given."""

    url: str
    location: str
    org_id: str
    lead_id: str


def lead_url(location: str, org_id: str, lead_id: str) -> str:
    """The link to a Lead in Zoho CRM's web pages (of the US data centre when `location` is not known)."""
    dc = DATA_CENTRES.get(location) or DATA_CENTRES["us"]
    return f"https://{dc.crm_host}/crm/org{org_id}/tab/Leads/{lead_id}"


def lead_link(url: str) -> LeadLink | None:
    """The Lead `url` names, or None when it is not a Zoho CRM Lead link."""
    found = _LEAD_LINK.fullmatch(url.strip())
    if found is None:
        return None
    location = CRM_HOSTS.get(found["host"].lower())
    if location is None:
        return None
    return LeadLink(url=url, location=location, org_id=found["org"], lead_id=found["id"])
