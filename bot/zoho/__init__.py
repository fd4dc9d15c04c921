"""Zoho CRM, as the bot needs it: Lead records of the connected user, through the official SDK in worker threads.

`bot.zoho` is the only package that touches `zohocrmsdk` for CRM calls; its errors are drawn in
`bot.zoho.errors`.
"""

from bot.zoho.adapter import ZohoCrm
from bot.zoho.connection import CrmConnection
from bot.zoho.errors import (
    CrmBusy,
    CrmError,
    FieldRejected,
    LeadNotFound,
    NoPermission,
    RateLimited,
    ReconnectNeeded,
    RequestNotMade,
    RequestRefused,
    SearchRejected,
    ZohoTimeout,
    ZohoUnavailable,
)
from bot.zoho.records import CrmRecord, RecordPage

__all__ = [
    "CrmBusy",
    "CrmConnection",
    "CrmError",
    "CrmRecord",
    "FieldRejected",
    "LeadNotFound",
    "NoPermission",
    "RateLimited",
    "ReconnectNeeded",
    "RecordPage",
    "RequestNotMade",
    "RequestRefused",
    "SearchRejected",
    "ZohoTimeout",
    "ZohoCrm",
    "ZohoUnavailable",
]
