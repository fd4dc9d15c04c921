"""A Zoho accounts + CRM v8 emulator over real loopback HTTP (see server.ZohoEmulator)."""

from .crm import CrmCall
from .directory import OAuthClient, ZohoUser
from .server import ZohoEmulator

__all__ = ["CrmCall", "OAuthClient", "ZohoEmulator", "ZohoUser"]
