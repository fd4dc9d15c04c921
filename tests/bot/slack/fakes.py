"""Small stand-ins for the services the Slack listeners are given (bot.slack.services.SlackServices).

Each records what the listeners asked of it, so a test can say what a person would have seen: the messages
posted to a response_url, the DMs, the Leads listed or deleted. No network, no database, no mocks library.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.leads.fields import OrgFields
from bot.leads.model import Lead, LeadPage, LeadQuery
from bot.leads.validation import check_lead_values, prepare_values
from bot.slack.admin import AdminReason, AdminVerdict
from oauth.login import LoginLink
from oauth.revocation import Forgotten, RevokeOutcome
from store import AuditEntry, ChatIdentity, Connection, DeletedConnection

LOGIN_URL = "https://bot.test/zoho/login?state=fake"


def connection_of(identity: ChatIdentity, email: str = "jane@acme.test") -> Connection:
    now = datetime.now(UTC)
    return Connection(
        id=f"conn-{identity.user_id}",
        identity=identity,
        zoho_email=email,
        zoho_user_id="z1",
        org_id="org1",
        org_name="Acme",
        location="us",
        accounts_server="https://accounts.zoho.test",
        api_domain="https://www.zohoapis.test",
        created_at=now,
        updated_at=now,
        access_expires_at=None,
    )


@dataclass
class FakeLeadService:
    """A person's Leads: answers from `leads`, records each call, raises `error` when told to.

    `delete_takes_s`: how long a delete holds its slot; `running`/`most_at_once` count deletes in flight.
    `get` answers the Lead of `leads` with that id, else `missing` when set, else a Lead "Doe"."""

    leads: list[Lead] = field(default_factory=list)
    error: Exception | None = None
    delete_takes_s: float = 0.0
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0
    org_fields: OrgFields = field(default_factory=OrgFields.standard)
    missing: Exception | None = None  # raised by get and delete for a Lead not in `leads` (a LeadNotFound)
    fields_stored: bool = True  # the store holds a fresh copy of `org_fields` (else only a Zoho call would tell)

    async def known_problems(self, typed: Mapping[str, str], *, creating: bool) -> dict[str, str] | None:
        """As the real service: the problems by `org_fields` without a Zoho call, None when they are not stored."""
        if not self.fields_stored:
            return None
        return check_lead_values(typed, creating=creating, org=self.org_fields)

    async def fields(self) -> OrgFields:
        self._called("fields")
        return self.org_fields

    def _called(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if self.error is not None:
            raise self.error

    def called(self, name: str) -> list[tuple[Any, ...]]:
        return [args for called, args in self.calls if called == name]

    async def list(self, page: int = 1, query: LeadQuery | None = None, *, counted: bool = True) -> LeadPage:
        query = query or LeadQuery()
        self._called("list", page, query)
        return LeadPage(tuple(self.leads), page, False, query)

    async def get(self, lead_id: str) -> Lead:
        self._called("get", lead_id)
        for lead in self.leads:
            if lead.id == lead_id:
                return lead
        if self.missing is not None:
            raise self.missing
        return Lead(lead_id, {"Last_Name": "Doe"})

    async def create(self, values: Mapping[str, str]) -> Lead:
        """Keys and values are checked against `org_fields` as the real service does: a refused one is no call."""
        checked = prepare_values(values, self.org_fields, creating=True)
        self._called("create", checked)
        return Lead("1", checked)

    async def update(self, lead_id: str, values: Mapping[str, str]) -> Lead:
        checked = prepare_values(values, self.org_fields, creating=False)
        self._called("update", lead_id, checked)
        return Lead(lead_id, checked)

    async def delete(self, lead_id: str) -> Lead:
        if self.missing is not None:
            self._called("delete", lead_id)
            raise self.missing
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            self._called("delete", lead_id)
            await asyncio.sleep(self.delete_takes_s)
            return Lead(lead_id, {"First_Name": "Jane", "Last_Name": "Doe"})
        finally:
            self.running -= 1


@dataclass
class FakeLeadServices:
    """`.of(connection)`: the same FakeLeadService for everyone; remembers whose connection asked."""

    service: Any = field(default_factory=FakeLeadService)
    asked_for: list[Connection] = field(default_factory=list)
    zones: list[Any] = field(default_factory=list)  # the time zone each was asked with (None: not looked up)

    def of(self, connection: Connection, zone: Any = None) -> Any:
        self.asked_for.append(connection)
        self.zones.append(zone)
        return self.service


@dataclass
class FakeConnections:
    by_identity: dict[ChatIdentity, Connection] = field(default_factory=dict)

    def get(self, identity: ChatIdentity) -> Connection | None:
        return self.by_identity.get(identity)

    def delete(self, identity: ChatIdentity) -> DeletedConnection | None:
        self.by_identity.pop(identity, None)
        return None

    def list(self, team_id: str) -> list[Connection]:
        return [c for i, c in self.by_identity.items() if i.team_id == team_id]


@dataclass
class FakeAudit:
    entries: list[AuditEntry] = field(default_factory=list)

    def list(self, team_id: str, limit: int = 20) -> list[AuditEntry]:
        return [e for e in self.entries if e.team_id == team_id][:limit]


@dataclass
class FakeStore:
    connections: FakeConnections = field(default_factory=FakeConnections)
    audit: FakeAudit = field(default_factory=FakeAudit)

    def connect(self, identity: ChatIdentity) -> Connection:
        connection = self.connections.by_identity[identity] = connection_of(identity)
        return connection


@dataclass
class FakeMessenger:
    """DMs land in `dms` (user id, text); every DM reaches its person."""

    dms: list[tuple[str, str]] = field(default_factory=list)
    login_links: list[tuple[ChatIdentity, str, str]] = field(default_factory=list)

    async def dm(self, user_id: str, text: str, blocks: list[dict[str, Any]] | None = None) -> bool:
        self.dms.append((user_id, text))
        return True

    async def send_login_link(self, identity: ChatIdentity, link: str, reason: str) -> tuple[str, str]:
        self.login_links.append((identity, link, reason))
        return f"D{identity.user_id}", f"1.{len(self.login_links):06d}"

    async def take_down(self, posted: tuple[str, str]) -> None:
        return None


class FakeLogin:
    async def login_link(self, identity: ChatIdentity, command: str = "") -> LoginLink:
        return LoginLink(LOGIN_URL, "state")

    async def link_sent(self, link: LoginLink, channel: str, message_id: str) -> tuple[str, str] | None:
        return None


class Posted:
    status_code = 200


class Refused:
    status_code = 404


@dataclass
class FakeResponseUrls:
    """Every message posted to a response_url, as (url, message), in order."""

    posted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refusing: bool = False  # Slack answers every post with a 404 (an expired response_url), and nothing lands

    def respond_for(self, url: str) -> Any:
        async def respond(**message: Any) -> Posted:
            if self.refusing:
                return Refused()
            self.posted.append((url, message))
            return Posted()

        return respond

    def to(self, url: str) -> list[dict[str, Any]]:
        return [message for posted_to, message in self.posted if posted_to == url]

    async def close(self) -> None:
        return None


@dataclass
class FakeAdminCheck:
    allowed: bool = False

    async def check(self, identity: ChatIdentity) -> AdminVerdict:
        return AdminVerdict(self.allowed, AdminReason.WORKSPACE_ADMIN if self.allowed else AdminReason.NOT_ADMIN)


@dataclass
class FakeRevocation:
    """Records every revocation asked for; nobody was connected."""

    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    async def forget(self, identity: ChatIdentity, actor_user_id: str, action: str, detail: str = "") -> Forgotten:
        self.calls.append(("forget", (identity, actor_user_id, action)))
        return Forgotten(identity, RevokeOutcome.NOT_CONNECTED)

    async def forget_workspace(self, team_id: str, actor_user_id: str, action: str) -> list[Forgotten]:
        self.calls.append(("forget_workspace", (team_id, actor_user_id, action)))
        return []

    async def forget_many(self, identities: Any, actor_user_id: str, action: str) -> list[Forgotten]:
        identities = list(identities)
        self.calls.append(("forget_many", (identities, actor_user_id, action)))
        return [Forgotten(i, RevokeOutcome.NOT_CONNECTED) for i in identities]


class ViewsRecorder(AsyncWebClient):
    """Slack's Web API where `views.open`, `views.update` and `views.push` are recorded in `calls` (method,
    arguments) and answered ok with the view; every other method goes where the client points (nowhere, in the
    in-process bot)."""

    VIEW_METHODS = ("views.open", "views.update", "views.push")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:  # type: ignore[override]
        if api_method not in self.VIEW_METHODS:
            return await super().api_call(api_method, **kwargs)
        args = dict(kwargs.get("json") or {})
        self.calls.append((api_method, args))
        view = {**args["view"], "id": args.get("view_id") or f"V{len(self.calls)}", "hash": f"h{len(self.calls)}"}
        answer = {"ok": True, "view": view}
        return AsyncSlackResponse(
            client=self, http_verb="POST", api_url=api_method, req_args={}, data=answer, headers={}, status_code=200
        )

    def views(self, method: str) -> list[dict[str, Any]]:
        """The views sent with `method`, in order."""
        return [args["view"] for called, args in self.calls if called == method]
