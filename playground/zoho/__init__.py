"""A Zoho accounts + CRM v8 emulator over real loopback HTTP: one aiohttp server is both the accounts
server (`/oauth/v2/auth`, `/oauth/v2/token`, `/oauth/v2/token/revoke`) and the API domain (`/crm/v8/...`).

    emu = ZohoEmulator()
    emu.register_client(client_id="1000.LOCAL", client_secret="local-secret",
                        redirect_uri="http://127.0.0.1:3000/zoho/callback")
    ann = emu.add_user(email="ann@acme.test", full_name="Ann Smith", org_name="Acme Ltd", location="us")
    await emu.start(host="127.0.0.1", port=0)     # -> emu.url
    ...
    await emu.stop()

Knobs (read on every request): auto_approve_as, token_lifetime, latency, fail_with (500|429),
fail_accounts_with (500), fail_fields_of (modules whose /settings/fields answers 500), hang, retry_after,
enforce_scopes, refresh_limit, refresh_window, code_lifetime.
Observing: counters, crm_calls, accounts_calls, revoked_refresh_tokens, issued_tokens(), issued_codes(),
leads(org_id). Arranging: add_user, register_client, set_permissions, seed_leads, expire_access_tokens,
reset_counters. The same over HTTP under `/_emulator/` (see control.py) and `python -m playground.zoho`.
"""

from .crm import CrmCall
from .directory import OAuthClient, ZohoUser
from .server import ZohoEmulator
from .token_routes import AccountsCall

__all__ = ["AccountsCall", "CrmCall", "OAuthClient", "ZohoEmulator", "ZohoUser"]
