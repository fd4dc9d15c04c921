"""The composition root: settings → database → store → Zoho clients → Slack app → one aiohttp application.

Nothing else builds clients or reads settings; every part gets what it needs as arguments, and the aiohttp
application keeps the built parts under `COMPONENTS` for the server loop and for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.middleware.authorization.async_single_team_authorization import AsyncSingleTeamAuthorization
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.admin import AdminCheck
from bot.background import BackgroundWork
from bot.crm import ZohoCrm
from bot.health import health_handler
from bot.lead_command import register_lead_command
from bot.lead_interactions import register_lead_interactions
from bot.lead_subcommands import register_lead_subcommands
from bot.link_buttons import register_link_buttons
from bot.messenger import Messenger
from bot.people import slack_people
from bot.process_folders import SDK_CACHE, new_process_folder
from bot.response_urls import ResponseUrls
from bot.revoke_command import register_revoke_command
from bot.services import BotServices
from bot.settings import Settings
from bot.slack_events import register_slack_events
from bot.slack_http import MAX_BODY_BYTES, slack_events_handler
from oauth.accounts_client import ZohoAccountsClient
from oauth.datacentres import ZohoHosts
from oauth.login import LoginService
from oauth.refresh import TokenRefresher
from oauth.revocation import RetryPolicy, RevocationService
from oauth.routes import login_routes
from store import ChatIdentity, PeeweeTokenStore

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 20.0
LOGIN_PAGE_ACTOR = "zoho-login-page"  # the audit trail's "who" when a login is undone from its success page
# A hung Zoho is told to the user within 15 s: 10 s of socket silence ends an SDK call, 12 s ends any job.
CRM_READ_TIMEOUT_S = 10.0
CRM_CALL_TIMEOUT_S = 12.0


@dataclass(frozen=True)
class Components:
    settings: Settings
    services: BotServices
    bolt: AsyncApp
    accounts: ZohoAccountsClient


COMPONENTS = web.AppKey("components", Components)


def build_slack_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: bounded by a timeout, retrying connection errors, 429s (Retry-After) and 5xx once."""
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=1),
        ],
    )


def build_bolt_app(settings: Settings, client: AsyncWebClient, services: BotServices) -> AsyncApp:
    bolt = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret or "socket-mode-needs-no-signing-secret",
        request_verification_enabled=False,  # bot.slack_http checks signatures before bolt sees a request
        process_before_response=False,
        logger=logging.getLogger("slack_bolt"),
    )
    register_lead_command(bolt, services)
    register_link_buttons(bolt)
    register_revoke_command(bolt, services)
    register_slack_events(bolt, services)
    register_lead_subcommands()
    register_lead_interactions(bolt, services)
    return bolt


async def build_application(
    settings: Settings,
    *,
    revocation_retry: RetryPolicy | None = None,
    background: BackgroundWork | None = None,
    response_url_origins: tuple[str, ...] = (),
) -> web.Application:
    """The whole server for `settings`; raises StoreConfigError for an unusable database or key.

    `revocation_retry`: how often queued Zoho revocations are retried (tests shorten it).
    `background`: the admission limits of commands in flight (tests shrink them).
    `response_url_origins`: origins besides Slack's that may receive answers (a bench serving its own).
    """
    store = await asyncio.to_thread(PeeweeTokenStore, settings.database_url, settings.token_encryption_key)
    slack = build_slack_client(settings)
    messenger = Messenger(slack)
    accounts = ZohoAccountsClient(settings.zoho_client_id, settings.zoho_client_secret, timeout=10)
    revocation = RevocationService(store, accounts, retry=revocation_retry)

    async def undo_login(identity: ChatIdentity, detail: str) -> None:
        forgotten = await revocation.forget(identity, LOGIN_PAGE_ACTOR, "revoke", detail)
        await messenger.send_login_undone(identity, forgotten.zoho_email)

    login = LoginService(
        store=store,
        accounts=accounts,
        hosts=ZohoHosts(settings.zoho_accounts_url, settings.zoho_api_url),
        client_id=settings.zoho_client_id,
        client_secret=settings.zoho_client_secret,
        public_url=settings.public_url,
        redirect_uri=settings.redirect_uri,
        on_connected=messenger.send_connected,
        describe=slack_people(slack),
        forget=undo_login,
    )
    sdk_folder = await asyncio.to_thread(new_process_folder, SDK_CACHE)  # scans (and may clear) the temp directory
    services = BotServices(
        store=store,
        slack=slack,
        messenger=messenger,
        login=login,
        refresher=TokenRefresher(store, accounts),
        background=background or BackgroundWork(),
        response_urls=ResponseUrls(slack_api_url=settings.slack_api_url, also_allowed=response_url_origins),
        crm=await asyncio.to_thread(
            ZohoCrm,
            store,
            sdk_folder,
            max_workers=16,
            read_timeout=CRM_READ_TIMEOUT_S,
            call_timeout=CRM_CALL_TIMEOUT_S,
        ),
        admin_user_ids=settings.zoho_admin_user_ids,
        admin=AdminCheck(slack, settings.zoho_admin_user_ids),
        revocation=revocation,
    )
    bolt = build_bolt_app(settings, slack, services)

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[COMPONENTS] = Components(settings=settings, services=services, bolt=bolt, accounts=accounts)
    if not settings.socket_mode:
        # In Socket Mode Slack's requests come over the socket, unsigned: an HTTP route would take anyone's.
        app.router.add_post("/slack/events", slack_events_handler(bolt, settings.slack_signing_secret))
    app.router.add_get("/healthz", health_handler(store.ping))
    app.add_routes(login_routes(login, secure_cookies=settings.public_url.startswith("https://")))
    app.cleanup_ctx.append(_slack_warm_up)
    app.cleanup_ctx.append(_revocation_retries)
    app.on_shutdown.append(_finish_background_work)
    app.on_cleanup.append(_close_clients)
    return app


async def _slack_warm_up(app: web.Application):
    """Check SLACK_BOT_TOKEN with auth.test at start, in the background, and hand the answer to bolt.

    bolt otherwise calls auth.test inside the first request, before that request's ack; a bad token then shows
    up as a failing command instead of a log line at start.
    """
    components = app[COMPONENTS]
    task = asyncio.get_running_loop().create_task(_check_slack_token(components), name="slack auth.test")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _check_slack_token(components: Components) -> None:
    try:
        answer = await components.services.slack.auth_test()
    except SlackApiError as exc:
        log.error("Slack refused SLACK_BOT_TOKEN at auth.test: %s", exc.response.get("error"))
        return
    except Exception as exc:  # network trouble: bolt tries again on the first command
        log.warning("Slack could not be reached at start (%s); will try again on the first command", type(exc).__name__)
        return
    log.info("Slack: workspace %s (%s), bot user %s", answer.get("team"), answer.get("team_id"), answer.get("user_id"))
    for middleware in getattr(components.bolt, "_async_middleware_list", []):
        if isinstance(middleware, AsyncSingleTeamAuthorization) and middleware.auth_test_result is None:
            middleware.auth_test_result = answer


async def _revocation_retries(app: web.Application) -> AsyncIterator[None]:
    """Retry queued Zoho revocations in the background while the server runs (oauth.revocation)."""
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(
        app[COMPONENTS].services.revocation.run_retries(stop), name="revocation retries"
    )
    yield
    stop.set()
    try:
        await asyncio.wait_for(task, 5.0)
    except TimeoutError:
        log.warning("shutting down: the revocation retry pass did not finish in 5 s")


async def _finish_background_work(app: web.Application) -> None:
    background = app[COMPONENTS].services.background
    if background.running:
        log.info("shutting down: waiting for %d commands in flight", background.running)
    cut = await background.drain(SHUTDOWN_GRACE_SECONDS)
    if cut:
        log.warning("shutting down: %d commands did not finish in %.0f s", cut, SHUTDOWN_GRACE_SECONDS)


async def _close_clients(app: web.Application) -> None:
    components = app[COMPONENTS]
    await components.accounts.close()
    await components.services.crm.close()
    await asyncio.to_thread(shutil.rmtree, components.services.crm.resource_path, True)
    await components.services.response_urls.close()
    session = getattr(components.services.slack, "session", None)
    if session is not None:
        await session.close()
    await asyncio.to_thread(components.services.store.close)
