"""Zoho CRM, as the bot needs it: Leads of the connected user, through the official SDK in worker threads.

`bot.crm` is the only package that touches `zohocrmsdk` for CRM calls.
"""

from bot.crm.adapter import ZohoCrm
from bot.crm.connection import CrmConnection
from bot.crm.errors import (
    CrmBusy,
    CrmError,
    FieldRejected,
    LeadNotFound,
    NoPermission,
    RateLimited,
    ReconnectNeeded,
    SearchRejected,
    ZohoTimeout,
    ZohoUnavailable,
)

__all__ = [
    "CrmBusy",
    "CrmConnection",
    "CrmError",
    "FieldRejected",
    "LeadNotFound",
    "NoPermission",
    "RateLimited",
    "ReconnectNeeded",
    "SearchRejected",
    "ZohoTimeout",
    "ZohoCrm",
    "ZohoUnavailable",
]
