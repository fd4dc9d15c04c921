"""Shared pieces of the Lead and CRM tests (plain functions and classes, imported where needed):
Lead values and pages, an in-memory TokenStore, and logging a user in at the Zoho emulator."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import aiohttp
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store.token_store import TokenStore
from zohocrmsdk.src.com.zoho.crm.api.exception.sdk_exception import SDKException
from zohocrmsdk.src.com.zoho.crm.api.user_signature import UserSignature

from bot.leads.model import Lead, LeadPage, LeadQuery
from bot.zoho import CrmConnection


def make_lead(index: int, **values: str) -> Lead:
    base = {
        "First_Name": "Jane",
        "Last_Name": f"Doe{index}",
        "Company": f"Acme {index}",
        "Email": f"jane{index}@acme.test",
        "Phone": f"+1 555 01{index:02d}",
    }
    base.update(values)
    return Lead(str(5725767000000400000 + index), {k: v for k, v in base.items() if v})


def pages_of(leads: list[Lead], per_page: int = 10, query: str = "") -> list[LeadPage]:
    """How a list of Leads splits into pages, the way the CRM adapter answers them."""
    chunks = [leads[i : i + per_page] for i in range(0, len(leads), per_page)] or [[]]
    return [
        LeadPage(tuple(chunk), page=n + 1, has_more=n + 1 < len(chunks), query=LeadQuery.search(query))
        for n, chunk in enumerate(chunks)
    ]


# --- a Zoho account at the emulator, as the CRM adapter tests need it ---------------------------------------


CLIENT_ID = "1000.LEADTESTS"
CLIENT_SECRET = "lead-tests-secret"
REDIRECT_URI = "http://127.0.0.1:3000/zoho/callback"
SCOPES = (
    "ZohoCRM.modules.leads.ALL,ZohoCRM.settings.fields.READ,ZohoCRM.settings.layouts.READ,"
    "ZohoCRM.settings.modules.READ,"
    "ZohoCRM.users.READ,ZohoCRM.org.READ"
)
_TOKEN_FIELDS = (
    "id",
    "user_signature",
    "client_id",
    "client_secret",
    "refresh_token",
    "access_token",
    "grant_token",
    "expires_in",
    "redirect_url",
    "api_domain",
)


class MemoryTokenStore(TokenStore):
    """A thread-safe in-memory zohocrmsdk TokenStore with FileStore's semantics (match by id, then user
    signature, then refresh/grant token; fresh OAuthToken objects out, copies in)."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, object]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.saves = 0
        self.reads_by_id = 0

    @staticmethod
    def _row(token: OAuthToken) -> dict[str, object]:
        return {name: getattr(token, f"get_{name}")() for name in _TOKEN_FIELDS}

    @staticmethod
    def _merge(token: OAuthToken, row: dict[str, object]) -> OAuthToken:
        for name in _TOKEN_FIELDS:
            if getattr(token, f"get_{name}")() is None and row[name] is not None:
                getattr(token, f"set_{name}")(row[name])
        return token

    def _match(self, token: OAuthToken) -> dict[str, object] | None:
        signature = token.get_user_signature()
        for row in self._rows.values():
            stored_signature = row["user_signature"]
            if signature is not None:
                if isinstance(stored_signature, UserSignature) and stored_signature.get_name() == signature.get_name():
                    return row
            elif (
                token.get_refresh_token()
                and token.get_refresh_token() == row["refresh_token"]
                or token.get_grant_token()
                and token.get_grant_token() == row["grant_token"]
            ):
                return row
        return None

    def find_token(self, token: OAuthToken) -> OAuthToken | None:
        with self._lock:
            row = self._match(token)
            return self._merge(token, row) if row else None

    def find_token_by_id(self, id: str) -> OAuthToken:
        with self._lock:
            self.reads_by_id += 1
            row = self._rows.get(id)
            if row is None:
                raise SDKException("TOKEN_STORE", "No such token id")
            blank = object.__new__(OAuthToken)
            for name in _TOKEN_FIELDS:
                getattr(blank, f"set_{name}")(None)
            blank._OAuthToken__find_user = True  # type: ignore[attr-defined]
            return self._merge(blank, row)

    def save_token(self, token: OAuthToken) -> None:
        with self._lock:
            self.saves += 1
            row = self._rows.get(token.get_id()) if token.get_id() else self._match(token)
            if row is not None:
                self._merge(token, row)
                token.set_id(row["id"])
            elif token.get_id() is None:
                token.set_id(str(next(self._ids)))
            self._rows[str(token.get_id())] = self._row(token)

    def delete_token(self, id: str) -> None:
        with self._lock:
            if self._rows.pop(id, None) is None:
                raise SDKException("TOKEN_STORE", "No such token id")

    def get_tokens(self) -> list[OAuthToken]:
        with self._lock:
            ids = list(self._rows)
        return [self.find_token_by_id(i) for i in ids]

    def delete_tokens(self) -> None:
        with self._lock:
            self._rows.clear()

    def access_token_of(self, token_id: str) -> str:
        with self._lock:
            return str(self._rows[token_id]["access_token"])


@dataclass(frozen=True)
class ZohoAccount:
    """A Zoho user at the emulator, logged in, with their token saved in a TokenStore."""

    email: str
    org_id: str
    connection: CrmConnection
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)


@dataclass(frozen=True)
class Grant:
    """A token answer of the emulator after an (auto-approved) login."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    api_domain: str
    accounts_server: str
    expires_at_ms: int


async def log_in(http: aiohttp.ClientSession, emu: object, email: str, scopes: str = SCOPES) -> Grant:
    """Log `email` in at the emulator: auto-approved consent, then the code exchange."""
    base: str = emu.url  # type: ignore[attr-defined]
    emu.auto_approve_as = email  # type: ignore[attr-defined]
    params = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": scopes,
        "access_type": "offline",
        "prompt": "consent",
        "state": "s",
    }
    async with http.get(f"{base}/oauth/v2/auth", params=params, allow_redirects=False) as answer:
        assert answer.status == 302, await answer.text()
        query = parse_qs(urlsplit(answer.headers["Location"]).query)
    code, accounts_server = query["code"][0], query["accounts-server"][0]
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": REDIRECT_URI,
        "code": code,
    }
    async with http.post(f"{accounts_server}/oauth/v2/token", data=form) as answer:
        body = await answer.json()
    assert "access_token" in body, sorted(body)
    expires_at_ms = int(time.time() * 1000) + int(body["expires_in"]) * 1000
    return Grant(body["access_token"], body["refresh_token"], body["api_domain"], accounts_server, expires_at_ms)


async def connect_account(
    http: aiohttp.ClientSession, emu: object, store: MemoryTokenStore, email: str, scopes: str = SCOPES
) -> ZohoAccount:
    """Log `email` in at the emulator and save the token in `store` the way the SDK would."""
    grant = await log_in(http, emu, email, scopes)
    user = emu.user(email)  # type: ignore[attr-defined]
    signature = f"{email}:{user.zgid}"
    token = OAuthToken(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=grant.refresh_token,
        access_token=grant.access_token,
        redirect_url=REDIRECT_URI,
        user_signature=UserSignature(signature),
        api_domain=grant.api_domain,
    )
    token.set_expires_in(str(grant.expires_at_ms))
    store.save_token(token)
    connection = CrmConnection(str(token.get_id()), signature, grant.api_domain, grant.accounts_server, user.org_id)
    return ZohoAccount(email, user.org_id, connection, grant.access_token, grant.refresh_token)
