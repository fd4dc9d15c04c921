"""What the Slack listeners are given: the services the composition root built, and nothing global."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.admin import AdminCheck
from bot.background import BackgroundWork
from bot.crm import ZohoCrm
from bot.messenger import Messenger
from bot.response_urls import ResponseUrls
from oauth.login import LoginService
from oauth.refresh import TokenRefresher
from oauth.revocation import RevocationService


@dataclass(frozen=True)
class BotServices:
    store: object  # store.PeeweeTokenStore (typed loosely to keep bot/ free of peewee details)
    slack: AsyncWebClient
    messenger: Messenger
    login: LoginService
    refresher: TokenRefresher
    background: BackgroundWork
    admin_user_ids: frozenset[str]
    admin: AdminCheck
    revocation: RevocationService
    crm: ZohoCrm
    response_urls: ResponseUrls
