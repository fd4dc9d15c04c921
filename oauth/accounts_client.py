"""Calls to Zoho's accounts server (code exchange, refresh, revoke) and the two CRM calls that name the user.

Every call has a timeout. Zoho answers token errors with HTTP 200 and an `error` key; those become
`ZohoAuthError`, a network failure or timeout becomes `ZohoUnreachable`. No token ever appears in a message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

TOKEN_PATH = "/oauth/v2/token"
REVOKE_PATH = "/oauth/v2/token/revoke"


class ZohoAuthError(Exception):
    """Zoho refused: `code` is its error code (invalid_code, invalid_client, …)."""

    def __init__(self, code: str, description: str = "") -> None:
        self.code = code
        self.description = description
        super().__init__(f"Zoho refused the request: {code}" + (f" ({description})" if description else ""))


class ZohoUnreachable(Exception):
    """Zoho could not be reached in time, or answered with a server error."""


@dataclass(frozen=True)
class TokenGrant:
    """What a token answer gave us. Secrets are kept out of repr."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    api_domain: str | None
    expires_at_ms: int


@dataclass(frozen=True)
class ZohoIdentity:
    """Who a token belongs to: the Zoho user and the org it was issued for."""

    email: str
    user_id: str
    full_name: str
    org_id: str
    org_name: str


def _expires_at_ms(answer: dict[str, Any], now: float) -> int:
    # Zoho's legacy answer gives expires_in in ms beside expires_in_sec (the SDK reads it the same way).
    if "expires_in_sec" in answer:
        lifetime_ms = int(answer["expires_in_sec"]) * 1000
    else:
        lifetime_ms = int(answer.get("expires_in", 3600)) * 1000
    return int(now * 1000) + lifetime_ms


class ZohoAccountsClient:
    """An aiohttp client for the accounts server of any data centre, with one timeout per call."""

    def __init__(self, client_id: str, client_secret: str, *, timeout: float = 10.0) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # No cookie jar: one session serves every user, and nothing of one may ride along with the next.
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, trust_env=False, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _post_token(self, accounts_server: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            # No redirects: a 307/308 would carry the client secret and codes to wherever it points.
            async with self._http().post(accounts_server + TOKEN_PATH, data=form, allow_redirects=False) as response:
                if response.status >= 500:
                    raise ZohoUnreachable(f"Zoho accounts answered HTTP {response.status}")
                answer = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise ZohoUnreachable(f"Zoho accounts did not answer: {type(exc).__name__}") from None
        if not isinstance(answer, dict):
            raise ZohoUnreachable("Zoho accounts answered something that is not a JSON object")
        if "access_token" not in answer:
            raise ZohoAuthError(str(answer.get("error", "no access_token")), str(answer.get("error_description", "")))
        return answer

    async def exchange_code(self, accounts_server: str, code: str, redirect_uri: str) -> TokenGrant:
        """Trade an authorization code for tokens at `accounts_server` (already checked as trusted)."""
        answer = await self._post_token(
            accounts_server,
            {
                "grant_type": "authorization_code",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        return TokenGrant(
            access_token=answer["access_token"],
            refresh_token=answer.get("refresh_token"),
            api_domain=answer.get("api_domain"),
            expires_at_ms=_expires_at_ms(answer, time.time()),
        )

    async def refresh(self, accounts_server: str, refresh_token: str) -> TokenGrant:
        """A new access token for `refresh_token` (the refresh token itself stays the same)."""
        answer = await self._post_token(
            accounts_server,
            {
                "grant_type": "refresh_token",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "refresh_token": refresh_token,
            },
        )
        return TokenGrant(
            access_token=answer["access_token"],
            refresh_token=None,
            api_domain=answer.get("api_domain"),
            expires_at_ms=_expires_at_ms(answer, time.time()),
        )

    async def revoke(self, accounts_server: str, refresh_token: str) -> bool:
        """Revoke `refresh_token` at Zoho. True when Zoho confirms or says the token is already unknown.

        Raises ZohoUnreachable when Zoho cannot be asked (the caller queues a retry).
        """
        try:
            async with self._http().post(
                accounts_server + REVOKE_PATH, data={"token": refresh_token}, allow_redirects=False
            ) as response:
                if response.status >= 500:
                    raise ZohoUnreachable(f"Zoho accounts answered HTTP {response.status}")
                answer = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise ZohoUnreachable(f"Zoho accounts did not answer: {type(exc).__name__}") from None
        if isinstance(answer, dict) and answer.get("status") == "success":
            return True
        # An already revoked or unknown token is as revoked as it gets.
        return response.status == 400

    async def identify(self, api_domain: str, access_token: str) -> ZohoIdentity:
        """The current CRM user and org of a fresh token (`users?type=CurrentUser` and `org`)."""
        headers = {"Authorization": f"Zoho-oauthtoken {access_token}"}
        try:
            async with self._http().get(
                f"{api_domain}/crm/v8/users", params={"type": "CurrentUser"}, headers=headers, allow_redirects=False
            ) as response:
                users = await response.json(content_type=None) if response.status == 200 else None
                user_status = response.status
            async with self._http().get(f"{api_domain}/crm/v8/org", headers=headers, allow_redirects=False) as response:
                org = await response.json(content_type=None) if response.status == 200 else None
                org_status = response.status
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise ZohoUnreachable(f"Zoho CRM did not answer: {type(exc).__name__}") from None
        if not users or not users.get("users"):
            raise ZohoAuthError("no_crm_user", f"CRM users call answered HTTP {user_status}")
        if not org or not org.get("org"):
            raise ZohoAuthError("no_org", f"CRM org call answered HTTP {org_status}")
        user, org_row = users["users"][0], org["org"][0]
        return ZohoIdentity(
            email=str(user.get("email", "")),
            user_id=str(user.get("id", "")),
            full_name=str(user.get("full_name", "")),
            org_id=str(org_row.get("id", "")),
            org_name=str(org_row.get("company_name") or org_row.get("name") or ""),
        )
