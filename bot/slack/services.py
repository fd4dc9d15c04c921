"""What the Slack listeners are given: the services the composition root built, and nothing global."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from slack_sdk.web.async_client import AsyncWebClient

from bot.leads.service import LeadServices
from bot.slack.admin import AdminCheck
from bot.slack.messages import Messenger
from bot.slack.people import PersonZones
from bot.slack.response_urls import ResponseUrls
from oauth.login import LoginService
from oauth.revocation import RevocationService
from store import AuditEntry, ChatIdentity, Connection, DeletedConnection, WaitingRevocation


class ConnectionsRead(Protocol):
    def get(self, identity: ChatIdentity) -> Connection | None: ...
    def delete(self, identity: ChatIdentity) -> DeletedConnection | None: ...
    def list(self, team_id: str) -> list[Connection]: ...


class AuditRead(Protocol):
    def list(self, team_id: str, limit: int = 20) -> list[AuditEntry]: ...


class RevocationsRead(Protocol):
    def waiting(self, team_id: str, limit: int = 20) -> tuple[int, list[WaitingRevocation]]: ...


class SlackStore(Protocol):
    """The parts of the store the Slack layer reads (store.PeeweeTokenStore has them)."""

    @property
    def connections(self) -> ConnectionsRead: ...
    @property
    def audit(self) -> AuditRead: ...
    @property
    def revocations(self) -> RevocationsRead: ...


@dataclass(frozen=True)
class SlackServices:
    store: SlackStore
    slack: AsyncWebClient
    messenger: Messenger
    login: LoginService
    leads: LeadServices
    admin: AdminCheck
    revocation: RevocationService
    response_urls: ResponseUrls
    working_notice_after_s: float
    zones: PersonZones  # each person's time zone, asked of Slack when a typed value depends on it
