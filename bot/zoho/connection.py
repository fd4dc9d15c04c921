"""What the CRM adapter needs to know about one stored Zoho connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class StoredConnection(Protocol):
    """What `store.Connection` offers (duck-typed so bot.zoho needs nothing from store)."""

    id: str
    api_domain: str | None
    accounts_server: str | None
    org_id: str | None

    @property
    def user_signature(self) -> str: ...


@dataclass(frozen=True)
class CrmConnection:
    """One user's Zoho connection as the SDK sees it.

    `token_id` is the id of the token in the TokenStore; `user_signature` is "<email>:<zgid>" (also the key
    of the SDK's field-metadata cache); `api_domain` is the CRM base (`https://www.zohoapis.eu`, or the
    emulator's loopback URL); `accounts_server` is the accounts base (`https://accounts.zoho.eu`), without
    `/oauth/v2/token`. `org_id` is the Zoho org's id ("" when the stored connection does not know it); the
    metrics count it only by a hash.
    """

    token_id: str
    user_signature: str
    api_domain: str
    accounts_server: str
    org_id: str = ""

    @property
    def org_key(self) -> str:
        """What the org's calls in flight are counted under: its id; unknown (a token saved without one), the
        user's own, as each Zoho user belongs to one org."""
        return f"org:{self.org_id}" if self.org_id else f"host:{self.api_domain}:{self.user_signature}"

    @classmethod
    def of(cls, stored: StoredConnection) -> CrmConnection:
        """The CrmConnection of a stored connection (`store.Connection`); ValueError if it lacks its hosts."""
        if not stored.api_domain or not stored.accounts_server:
            raise ValueError("stored connection has no api_domain or accounts_server")
        return cls(
            str(stored.id), stored.user_signature, stored.api_domain, stored.accounts_server, stored.org_id or ""
        )

    def __repr__(self) -> str:
        return f"CrmConnection(token_id={self.token_id!r}, api_domain={self.api_domain!r})"
