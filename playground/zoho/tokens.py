"""Grant codes, refresh tokens and access tokens with Zoho's lifetimes and limits (docs/reference/zoho.md §2, §3).

Plain bookkeeping, no I/O: the accounts routes decide what goes on the wire.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

THROTTLE_DESCRIPTION = "You have made too many requests continuously. Please try again after some time."


def new_token_value() -> str:
    """A value shaped like Zoho's: `1000.` + 32 hex + `.` + 32 hex."""
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


@dataclass
class AuthCode:
    value: str
    client_id: str
    redirect_uri: str
    email: str
    org_id: str
    scopes: tuple[str, ...]
    offline: bool
    issued_at: float
    used: bool = False


@dataclass
class RefreshToken:
    value: str
    client_id: str
    email: str
    org_id: str
    scopes: tuple[str, ...]
    issued_at: float
    revoked: bool = False
    refresh_times: deque[float] = field(default_factory=deque)
    access_tokens: list[str] = field(default_factory=list)


@dataclass
class AccessToken:
    value: str
    client_id: str
    email: str
    org_id: str
    scopes: tuple[str, ...]
    expires_at: float
    refresh_token: str | None
    revoked: bool = False


class TokenError(Exception):
    """A token request Zoho answers with `{"error": code}` (HTTP 200)."""

    def __init__(self, code: str, description: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.description = description


@dataclass(frozen=True)
class Grant:
    """What a successful token request hands out."""

    access_token: AccessToken
    refresh_token: str | None


class TokenLedger:
    """Every code and token issued, and which are still alive."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.code_lifetime = 120.0
        self.refresh_limit = 10
        self.refresh_window = 600.0
        self.max_access_per_refresh = 15
        self.max_refresh_per_user_client = 20
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.revoked_refresh_tokens: list[str] = []
        self.issued: list[str] = []

    def issue_code(
        self, client_id: str, redirect_uri: str, email: str, org_id: str, scopes: tuple[str, ...], offline: bool
    ) -> str:
        """A fresh single-use grant code for that user and client."""
        code = AuthCode(
            value=new_token_value(),
            client_id=client_id,
            redirect_uri=redirect_uri,
            email=email,
            org_id=org_id,
            scopes=scopes,
            offline=offline,
            issued_at=self.clock(),
        )
        self.codes[code.value] = code
        return code.value

    def exchange_code(self, client_id: str, code_value: str, redirect_uri: str | None, lifetime: float) -> Grant:
        """Trade a grant code for tokens (a refresh token only for access_type=offline).

        Raises TokenError("invalid_code") for an unknown, used, expired or foreign code and
        TokenError("invalid_redirect_uri") when the redirect URI differs from the authorize request's.
        """
        code = self.codes.get(code_value or "")
        now = self.clock()
        if code is None or code.used or code.client_id != client_id or now - code.issued_at >= self.code_lifetime:
            raise TokenError("invalid_code")
        if redirect_uri != code.redirect_uri:
            raise TokenError("invalid_redirect_uri")
        code.used = True
        refresh: RefreshToken | None = None
        if code.offline:
            refresh = RefreshToken(
                value=new_token_value(),
                client_id=client_id,
                email=code.email,
                org_id=code.org_id,
                scopes=code.scopes,
                issued_at=now,
            )
            self._evict_oldest_refresh(code.email, client_id)
            self.refresh_tokens[refresh.value] = refresh
            self.issued.append(refresh.value)
        access = self._new_access(client_id, code.email, code.org_id, code.scopes, lifetime, refresh)
        return Grant(access_token=access, refresh_token=refresh.value if refresh else None)

    def refresh(self, client_id: str, refresh_value: str, lifetime: float) -> Grant:
        """A new access token from a refresh token.

        Raises TokenError("invalid_code") for an unknown, revoked or foreign refresh token and
        TokenError("Access Denied", …) past `refresh_limit` refreshes in `refresh_window` seconds.
        """
        refresh = self.refresh_tokens.get(refresh_value or "")
        if refresh is None or refresh.revoked or refresh.client_id != client_id:
            raise TokenError("invalid_code")
        now = self.clock()
        times = refresh.refresh_times
        while times and now - times[0] >= self.refresh_window:
            times.popleft()
        if len(times) >= self.refresh_limit:
            raise TokenError("Access Denied", THROTTLE_DESCRIPTION)
        times.append(now)
        access = self._new_access(client_id, refresh.email, refresh.org_id, refresh.scopes, lifetime, refresh)
        return Grant(access_token=access, refresh_token=None)

    def revoke(self, value: str) -> bool:
        """Revoke a refresh token and every access token minted from it; False if unknown or already revoked."""
        refresh = self.refresh_tokens.get(value or "")
        if refresh is None or refresh.revoked:
            return False
        self._kill_refresh(refresh)
        self.revoked_refresh_tokens.append(refresh.value)
        return True

    def authenticate(self, value: str) -> AccessToken | None:
        """The live access token with that value, or None (unknown, expired, revoked or evicted)."""
        token = self.access_tokens.get(value)
        if token is None or token.revoked or self.clock() >= token.expires_at:
            return None
        return token

    def lookup_access(self, value: str) -> AccessToken | None:
        """The access token with that value whatever its state (for recording who a call came from)."""
        return self.access_tokens.get(value)

    def expire(self, email: str | None = None) -> int:
        """Expire now every live access token (or only `email`'s); returns how many."""
        now = self.clock()
        count = 0
        for token in self.access_tokens.values():
            if token.expires_at > now and (email is None or token.email.lower() == email.lower()):
                token.expires_at = now
                count += 1
        return count

    def _new_access(
        self,
        client_id: str,
        email: str,
        org_id: str,
        scopes: tuple[str, ...],
        lifetime: float,
        refresh: RefreshToken | None,
    ) -> AccessToken:
        access = AccessToken(
            value=new_token_value(),
            client_id=client_id,
            email=email,
            org_id=org_id,
            scopes=scopes,
            expires_at=self.clock() + lifetime,
            refresh_token=refresh.value if refresh else None,
        )
        self.access_tokens[access.value] = access
        self.issued.append(access.value)
        if refresh is not None:
            now = self.clock()
            refresh.access_tokens = [
                v
                for v in refresh.access_tokens
                if not self.access_tokens[v].revoked and self.access_tokens[v].expires_at > now
            ]
            refresh.access_tokens.append(access.value)
            # The 16th live access token silently invalidates the oldest one.
            while len(refresh.access_tokens) > self.max_access_per_refresh:
                self.access_tokens[refresh.access_tokens.pop(0)].revoked = True
        return access

    def _evict_oldest_refresh(self, email: str, client_id: str) -> None:
        mine = [
            r
            for r in self.refresh_tokens.values()
            if not r.revoked and r.client_id == client_id and r.email.lower() == email.lower()
        ]
        while len(mine) >= self.max_refresh_per_user_client:
            self._kill_refresh(mine.pop(0))

    def _kill_refresh(self, refresh: RefreshToken) -> None:
        refresh.revoked = True
        for value in refresh.access_tokens:
            self.access_tokens[value].revoked = True
