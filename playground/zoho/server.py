"""`ZohoEmulator`: the Zoho accounts server and CRM v8 API on one loopback aiohttp server, with test knobs."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from . import authorize, control, crm, crm_listing, crm_records, token_routes
from .context import EMULATOR
from .crm import OVER_ORG_LIMIT, CrmCall, crm_gate
from .crm_listing import PageCursor
from .directory import Directory, OAuthClient, Permissions, ZohoUser
from .envelopes import crm_error
from .hold import RequestHold
from .leads import LeadStore, Record
from .token_routes import AccountsCall
from .tokens import TokenLedger

log = logging.getLogger(__name__)

COUNTER_NAMES = ("authorize", "code_exchange", "refresh", "revoke", "crm")


class ZohoEmulator:
    """A fake Zoho (accounts + CRM v8) over real HTTP. Nothing listens until `await start()`.

    Knobs are plain attributes read on every request, so a test may change them at any time:
    `auto_approve_as`, `token_lifetime`, `latency`, `fail_with`, `fail_accounts_with`, `fail_fields_of`, `hang`,
    `retry_after`, `enforce_scopes`, `refresh_limit`, `refresh_window`, `code_lifetime`, `org_concurrency`.

    `most_in_flight` records, per org, the most CRM calls that were in flight at once (from arrival to answer,
    the `latency` included); with `org_concurrency` set, a call beyond it is answered 429 TOO_MANY_REQUESTS with
    no Retry-After, as Zoho answers calls over its per-org concurrency limit (docs/reference/zoho.md §10).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.directory = Directory()
        self.ledger = TokenLedger(clock=lambda: self.clock())
        self.lead_store = LeadStore(now_iso=self._now_iso)
        self.page_tokens: dict[str, PageCursor] = {}
        self.auto_approve_as: str | None = None
        self.token_lifetime: float = 3600
        self.latency: float = 0.0
        self.fail_with: int | None = None
        self.fail_accounts_with: int | None = None
        self.fail_fields_of: list[str] = []  # modules whose field metadata Zoho answers with a 500
        self.retry_after: int = 1
        self.org_concurrency: int | None = None
        self.in_flight: dict[str, int] = {}
        self.most_in_flight: dict[str, int] = {}
        self.enforce_scopes = True
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self.crm_calls: list[CrmCall] = []
        self.accounts_calls: list[AccountsCall] = []
        self._hold = RequestHold()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # ----- lifecycle -------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """`http://HOST:PORT`: the accounts server and the API domain. Raises RuntimeError before start()."""
        if self._url is None:
            raise RuntimeError("ZohoEmulator is not started")
        return self._url

    def make_app(self) -> web.Application:
        """The aiohttp application (start() runs it; exposed for embedding)."""
        app = web.Application(middlewares=[self._gate])
        app[EMULATOR] = self
        authorize.add_routes(app)
        token_routes.add_routes(app)
        control.add_routes(app)
        crm.add_routes(app)
        crm_listing.add_routes(app)
        crm_records.add_routes(app)
        crm.add_fallback_route(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 = OS-chosen); returns the base URL, also kept in `url`."""
        self._hold.bind(asyncio.get_running_loop())
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self._url = f"http://{host}:{bound_port}"
        return self._url

    async def stop(self) -> None:
        """Stop listening; requests held by `hang` are released with a 503."""
        self._hold.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ZohoEmulator:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ----- knobs -----------------------------------------------------------------------------------------
    @property
    def hang(self) -> bool:
        """True: accounts and CRM requests wait until this is cleared or the server stops."""
        return self._hold.engaged

    @hang.setter
    def hang(self, value: bool) -> None:
        self._hold.set(value)

    @property
    def refresh_limit(self) -> int:
        """Refreshes allowed per refresh token per `refresh_window` seconds (Zoho: 10 per 600 s)."""
        return self.ledger.refresh_limit

    @refresh_limit.setter
    def refresh_limit(self, value: int) -> None:
        self.ledger.refresh_limit = value

    @property
    def refresh_window(self) -> float:
        return self.ledger.refresh_window

    @refresh_window.setter
    def refresh_window(self, value: float) -> None:
        self.ledger.refresh_window = value

    @property
    def code_lifetime(self) -> float:
        """Seconds a grant code stays valid (Zoho: 120)."""
        return self.ledger.code_lifetime

    @code_lifetime.setter
    def code_lifetime(self, value: float) -> None:
        self.ledger.code_lifetime = value

    # ----- arranging -------------------------------------------------------------------------------------
    def register_client(self, client_id: str, client_secret: str, redirect_uri: str | list[str]) -> OAuthClient:
        """Register an API client (one or several redirect URIs); any number of clients."""
        return self.directory.register_client(client_id, client_secret, redirect_uri)

    def add_user(
        self,
        email: str,
        full_name: str | None = None,
        org_name: str | None = None,
        org_id: str | None = None,
        location: str = "us",
        has_crm: bool = True,
    ) -> ZohoUser:
        """Add a Zoho user. The same org_name (or org_id) twice means the same org, sharing Leads.

        Defaults: full name from the email's local part, org named after the email's domain.
        `has_crm=False` makes the consent redirect carry `error=no_org`. Raises ValueError on a duplicate email.
        """
        local, _, domain = email.partition("@")
        return self.directory.add_user(
            email=email,
            full_name=full_name or local.replace(".", " ").title(),
            org_name=org_name or domain or "Zoho Org",
            org_id=org_id,
            location=location,
            has_crm=has_crm,
            created_time=self._now_iso(),
        )

    def user(self, email: str) -> ZohoUser | None:
        """The user with that email, or None."""
        return self.directory.user(email)

    def set_permissions(
        self, email: str, create: bool = True, read: bool = True, update: bool = True, delete: bool = True
    ) -> None:
        """What the user's profile allows on Leads; a False operation answers 403 NO_PERMISSION."""
        self.directory.set_permissions(email, Permissions(create=create, read=read, update=update, delete=delete))

    def expire_access_tokens(self, email: str | None = None) -> int:
        """Expire now every live access token (or one user's); the next CRM call gets 401 INVALID_TOKEN."""
        return self.ledger.expire(email)

    def seed_leads(self, email: str, leads: int | list[Record]) -> list[str]:
        """Store Leads directly in that user's org (owner = that user); returns their ids, in order."""
        user = self.directory.require_user(email)
        if isinstance(leads, int):
            leads = [
                {
                    "First_Name": "Seed",
                    "Last_Name": f"Lead {i + 1}",
                    "Company": f"Company {i + 1}",
                    "Email": f"seed.lead{i + 1}@example.test",
                }
                for i in range(leads)
            ]
        return [self.lead_store.seed(user, {"Last_Name": "Unnamed", **values}) for values in leads]

    # ----- observing -------------------------------------------------------------------------------------
    def leads(self, org_id: str) -> list[Record]:
        """Copies of the stored Lead records of one org, oldest first (API names → values, `id` a str)."""
        return copy.deepcopy(self.lead_store.records(org_id))

    @property
    def revoked_refresh_tokens(self) -> list[str]:
        """Every refresh token revoked through the revoke endpoint, in order."""
        return list(self.ledger.revoked_refresh_tokens)

    def issued_tokens(self) -> list[str]:
        """Every access and refresh token value ever issued (for checking none leaks into logs or a DB)."""
        return list(self.ledger.issued)

    def issued_codes(self) -> list[str]:
        """Every grant code ever issued."""
        return list(self.ledger.codes)

    def reset_counters(self) -> None:
        """Zero the counters and forget the recorded CRM and accounts calls."""
        self.counters = dict.fromkeys(COUNTER_NAMES, 0)
        self.most_in_flight = {}
        self.crm_calls = []
        self.accounts_calls = []

    def config(self) -> dict[str, Any]:
        """The current knob values."""
        return {
            "auto_approve_as": self.auto_approve_as,
            "token_lifetime": self.token_lifetime,
            "latency": self.latency,
            "fail_with": self.fail_with,
            "fail_accounts_with": self.fail_accounts_with,
            "fail_fields_of": self.fail_fields_of,
            "hang": self.hang,
            "retry_after": self.retry_after,
            "enforce_scopes": self.enforce_scopes,
            "refresh_limit": self.refresh_limit,
            "refresh_window": self.refresh_window,
            "code_lifetime": self.code_lifetime,
            "org_concurrency": self.org_concurrency,
        }

    def state(self) -> dict[str, Any]:
        """Everything a multi-process test may want to see, as JSON-able data."""
        return {
            "url": self._url,
            "counters": dict(self.counters),
            "most_in_flight": dict(self.most_in_flight),
            "crm_calls": [asdict(call) for call in self.crm_calls],
            "accounts_calls": [asdict(call) for call in self.accounts_calls],
            "revoked_refresh_tokens": self.revoked_refresh_tokens,
            "config": self.config(),
            "users": [asdict(u) for u in self.directory.users.values()],
            "orgs": [
                {"org_id": o.org_id, "name": o.name, "zgid": o.zgid, "users": list(o.user_emails)}
                for o in self.directory.orgs.values()
            ],
        }

    # ----- internals -------------------------------------------------------------------------------------
    def _now_iso(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).replace(microsecond=0).isoformat()

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/_emulator/"):
            return await handler(request)
        org = self._org_of(request) if request.path.startswith("/crm/") else None
        if org is None:
            return await self._answer(request, handler)
        now = self.in_flight[org] = self.in_flight.get(org, 0) + 1
        self.most_in_flight[org] = max(self.most_in_flight.get(org, 0), now)
        try:
            request[OVER_ORG_LIMIT] = self.org_concurrency is not None and now > self.org_concurrency
            return await self._answer(request, handler)
        finally:
            self.in_flight[org] -= 1

    async def _answer(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if not await self._hold.wait():
            return web.Response(status=503, text="emulator stopping")
        if request.path.startswith("/crm/"):
            return await crm_gate(request, self._guarded(handler))
        return await handler(request)

    def _org_of(self, request: web.Request) -> str | None:
        """The org whose access token the CRM call carries (None: no known token)."""
        header = request.headers.get("Authorization", "")
        prefix = "Zoho-oauthtoken "
        known = self.ledger.lookup_access(header[len(prefix) :].strip()) if header.startswith(prefix) else None
        return known.org_id if known else None

    @staticmethod
    def _guarded(handler: Any) -> Any:
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except web.HTTPException:
                raise
            except Exception:
                log.exception("zoho emulator: CRM handler failed for %s %s", request.method, request.path)
                return crm_error(500, "INTERNAL_ERROR", "emulator error")

        return run
