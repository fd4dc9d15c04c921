"""The composition root: settings → database → store → Zoho clients → Slack app → one aiohttp application.

Nothing else builds clients or reads settings; every part gets what it needs as arguments, and the aiohttp
application keeps the built parts under `COMPONENTS` for the server loop and for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped, warning_token_skipped
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.admission import Admission
from bot.health import health_handler
from bot.leads.org_fields import OrgFieldBook
from bot.leads.service import LeadServices
from bot.leads.values import Clock, utc_now
from bot.limits import DEFAULT_LIMITS, Limits
from bot.logs import start_request
from bot.metrics import ScrapeTimeGauges, count_refresh, registry_for
from bot.process_folders import FIELD_CACHE, machine_folder
from bot.settings import Settings
from bot.slack.admin import AdminCheck
from bot.slack.commands import events, home, interrupted, lead, lead_buttons, revoke, shortcuts, unfurls
from bot.slack.commands.home import HomeTab
from bot.slack.front_door import FrontDoor
from bot.slack.http import slack_events_handler
from bot.slack.installation import Installation
from bot.slack.messages import Messenger
from bot.slack.people import PersonZones, slack_people
from bot.slack.response_urls import ResponseUrls, slack_retry_handlers
from bot.slack.services import SlackServices
from bot.tasks import BackgroundTasks
from bot.zoho import ZohoCrm
from oauth.accounts_client import ZohoAccountsClient
from oauth.datacentres import ZohoHosts
from oauth.login import LoginService
from oauth.refresh import TokenRefresher
from oauth.revocation import RetryPolicy, RevocationService
from oauth.routes import login_routes
from store import ChatIdentity, Connection, PeeweeTokenStore
from store.errors import first_line

log = logging.getLogger(__name__)

DATABASE_UP_WITHIN_S = 2.0  # the zohobot_database_up gauge: a database slower than this to answer counts as down
LOGIN_PAGE_ACTOR = "zoho-login-page"  # the audit trail's "who" when a login is undone from its success page


@dataclass(frozen=True)
class Components:
    """The built parts, kept on the aiohttp application for the server loop, the shutdown and tests."""

    settings: Settings
    limits: Limits
    store: PeeweeTokenStore
    slack: SlackServices
    bolt: AsyncApp
    door: FrontDoor
    accounts: ZohoAccountsClient
    crm: ZohoCrm
    refresher: TokenRefresher
    tasks: BackgroundTasks
    admission: Admission
    installation: Installation
    metrics: CollectorRegistry  # every series, served on METRICS_PORT when it is set (bot.metrics_http)
    gauges: ScrapeTimeGauges  # the series read at scrape time: the admission queue, revocations waiting


COMPONENTS = web.AppKey("components", Components)


def build_slack_client(settings: Settings, limits: Limits) -> AsyncWebClient:
    """The Web API client: bounded by a timeout, retrying connection errors, 429s (Retry-After) and 5xx once."""
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=int(limits.slack.web_api_timeout_s),
        retry_handlers=slack_retry_handlers(),
    )


class _WithoutTokenWarnings(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment whatever it is given, then warns at every start that the
    client given wins over that token, or that `authorize` does: both are how this bot means it (the token comes
    through `authorize`, per request), so the warnings would tell an operator nothing."""

    SAID = frozenset({warning_client_prioritized_and_token_skipped(), warning_token_skipped()})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.SAID


def build_bolt_app(
    settings: Settings,
    installation: Installation,
    services: SlackServices,
    admission: Admission,
    tasks: BackgroundTasks,
) -> tuple[AsyncApp, FrontDoor]:
    """The bolt app with every listener registered through the front door (nothing registers around it)."""
    client = services.slack
    bolt_log = logging.getLogger("slack_bolt")
    quiet = _WithoutTokenWarnings()
    bolt_log.addFilter(quiet)
    try:
        bolt = AsyncApp(
            # bolt gets the token through `authorize`, per request; the listeners answer through the client the
            # services hold.
            client=AsyncWebClient(
                base_url=client.base_url, timeout=client.timeout, retry_handlers=slack_retry_handlers()
            ),
            authorize=installation.authorize(),
            signing_secret=settings.slack_signing_secret or "socket-mode-needs-no-signing-secret",
            request_verification_enabled=False,  # bot.slack.http checks signatures before bolt sees a request
            process_before_response=False,
            logger=bolt_log,
        )
    finally:
        bolt_log.removeFilter(quiet)
    door = FrontDoor(bolt, services, admission, tasks)
    for commands in (lead, lead_buttons, revoke, events, shortcuts, home, unfurls, interrupted):
        commands.register(door)
    return bolt, door


async def build_application(
    settings: Settings,
    *,
    limits: Limits = DEFAULT_LIMITS,
    revocation_retry: RetryPolicy | None = None,
    response_url_origins: tuple[str, ...] = (),
    clock: Clock = utc_now,
) -> web.Application:
    """The whole server for `settings`; raises StoreConfigError for an unusable database or key.

    `limits`: every capacity and timeout knob (tests shrink them).
    `revocation_retry`: how often queued Zoho revocations are retried (tests shorten it).
    `response_url_origins`: origins besides Slack's that may receive answers (a bench serving its own).
    `clock`: what "today" is when a person types a date like `tomorrow` (tests fix it).
    """
    store = await asyncio.to_thread(PeeweeTokenStore, settings.database_url, settings.token_encryption_key)
    slack = build_slack_client(settings, limits)
    messenger = Messenger(slack)
    accounts = ZohoAccountsClient(settings.zoho_client_id, settings.zoho_client_secret, timeout=10)
    installation = Installation(slack)
    sdk_folder = await asyncio.to_thread(machine_folder, FIELD_CACHE)  # every worker's, kept across restarts
    crm_limits = limits.crm
    crm = await asyncio.to_thread(
        ZohoCrm,
        store,
        sdk_folder,
        max_workers=crm_limits.workers,
        connect_timeout=crm_limits.connect_timeout_s,
        read_timeout=crm_limits.read_timeout_s,
        call_timeout=crm_limits.call_timeout_s,
        jobs_per_user=crm_limits.jobs_per_person,
        org_concurrency=settings.zoho_org_concurrency,
        org_leases=store.org_slots,
        org_lease_s=crm_limits.org_lease_s,
        shared_fields=store.org_fields,
    )
    refresher = TokenRefresher(store, accounts, on_refresh=count_refresh)
    leads = LeadServices(crm, refresher, OrgFieldBook(store.org_fields, limits.crm.org_fields_ttl_s), clock)
    admin = AdminCheck(slack, settings.zoho_admin_user_ids)
    # Every connection that comes (a login) or goes (logout, revoke, deactivation, uninstall) shows on its
    # owner's Home tab: the two services that see them call it.
    home_tab = HomeTab(slack, store, leads, admin)
    revocation = RevocationService(store, accounts, retry=revocation_retry, on_forgotten=home_tab.forgotten)

    async def undo_login(identity: ChatIdentity, detail: str) -> None:
        forgotten = await revocation.forget(identity, LOGIN_PAGE_ACTOR, "revoke", detail)
        await messenger.send_login_undone(identity, forgotten.zoho_email)

    async def connected(connection: Connection, resume_id: str | None) -> None:
        # Read the org's Leads fields now, in the background, so the person's first command needs no such call.
        tasks.spawn(leads.warm(connection), name="lead-fields-at-login")
        await messenger.send_connected(connection, resume_id)
        await home_tab.connected(connection)

    login = LoginService(
        store=store,
        accounts=accounts,
        hosts=ZohoHosts(settings.zoho_accounts_url, settings.zoho_api_url),
        client_id=settings.zoho_client_id,
        client_secret=settings.zoho_client_secret,
        public_url=settings.public_url,
        redirect_uri=settings.redirect_uri,
        on_connected=connected,
        describe=slack_people(slack, installation.auth_test),
        forget=undo_login,
        require_email_match=settings.require_email_match,
        on_refused=messenger.send_login_refused,
    )
    services = SlackServices(
        store=store,
        slack=slack,
        messenger=messenger,
        login=login,
        leads=leads,
        admin=admin,
        revocation=revocation,
        response_urls=ResponseUrls(
            timeout=int(limits.slack.response_url_timeout_s),
            slack_api_url=settings.slack_api_url,
            also_allowed=response_url_origins,
        ),
        working_notice_after_s=limits.slack.working_notice_after_s,
        zones=PersonZones(slack),
    )
    tasks = BackgroundTasks()
    admission = Admission(tasks, limits.admission)
    bolt, door = build_bolt_app(settings, installation, services, admission, tasks)

    gauges = ScrapeTimeGauges(
        [
            (
                "zohobot_admission_waiting",
                "Work waiting its turn in the admission queue",
                _read(admission, "waiting"),
                "livesum",  # each worker's own queue
            ),
            (
                "zohobot_database_up",
                "1 when the database answered a trivial query within 2 s at this scrape, else 0",
                _database_up(store),
                "livemin",  # down as soon as one worker finds it down
            ),
            (
                "zohobot_slack_bot_token_ok",
                "1 unless Slack refused SLACK_BOT_TOKEN at its last auth.test (then every request fails)",
                _read(installation, "token_ok"),
                "livemin",
            ),
            (
                "zohobot_revocations_waiting",
                "Refresh tokens still to be revoked at Zoho (queued while Zoho could not be reached)",
                lambda: asyncio.to_thread(store.revocations.count),
                "livemostrecent",  # one figure of the database, read alike by every worker: the freshest read
            ),
        ]
    )
    app = web.Application(client_max_size=limits.slack.max_body_bytes, middlewares=[_request_id])
    app[COMPONENTS] = Components(
        settings=settings,
        limits=limits,
        store=store,
        slack=services,
        bolt=bolt,
        door=door,
        accounts=accounts,
        crm=crm,
        refresher=refresher,
        tasks=tasks,
        admission=admission,
        installation=installation,
        metrics=registry_for(gauges),
        gauges=gauges,
    )
    if not settings.socket_mode:
        # In Socket Mode Slack's requests come over the socket, unsigned: an HTTP route would take anyone's.
        app.router.add_post(
            "/slack/events",
            slack_events_handler(bolt, settings.slack_signing_secret, store.seen_requests.first_sighting),
        )
    app.router.add_get("/healthz", health_handler(store.ping_problem))
    app.add_routes(login_routes(login, https=settings.public_url.startswith("https://")))
    app.cleanup_ctx.append(_slack_warm_up)
    app.cleanup_ctx.append(_revocation_retries)
    app.on_shutdown.append(_finish_background_work)
    app.on_cleanup.append(_close_clients)
    return app


def _database_up(store: PeeweeTokenStore):
    """A scrape-time read of whether the database answers (the health check's question), bounded in time."""

    async def read() -> float:
        try:
            problem = await asyncio.wait_for(asyncio.to_thread(store.ping_problem), DATABASE_UP_WITHIN_S)
        except TimeoutError:
            return 0.0
        return 1.0 if problem is None else 0.0

    return read


def _read(owner: object, attribute: str):
    """A scrape-time read of a number the event loop keeps (read on the loop, never from another thread)."""

    async def read() -> float:
        return getattr(owner, attribute)

    return read


@web.middleware
async def _request_id(request: web.Request, handler):
    """Every HTTP request gets a request id for its log lines (bot.logs); the Slack route may put Slack's own."""
    start_request()
    return await handler(request)


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
        answer = await components.installation.auth_test()
    except SlackApiError as exc:
        log.error("Slack refused SLACK_BOT_TOKEN at auth.test: %s", exc.response.get("error"))
        return
    except Exception as exc:  # network trouble: bolt tries again on the first command
        # The error's own words name the host and the system's reason; a Web API error never holds the token.
        said = first_line(exc) or type(exc).__name__
        log.warning("Slack could not be reached at start (%s); will try again on the first command", said)
        return
    log.info("Slack: workspace %s (%s), bot user %s", answer.get("team"), answer.get("team_id"), answer.get("user_id"))


async def _revocation_retries(app: web.Application) -> AsyncIterator[None]:
    """Retry queued Zoho revocations in the background while the server runs (oauth.revocation)."""
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(
        app[COMPONENTS].slack.revocation.run_retries(stop), name="revocation retries"
    )
    yield
    stop.set()
    try:
        await asyncio.wait_for(task, 5.0)
    except TimeoutError:
        log.warning("shutting down: the revocation retry pass did not finish in 5 s")


async def _finish_background_work(app: web.Application) -> None:
    components = app[COMPONENTS]
    components.admission.close()  # whoever still waits is told nothing was done
    tasks, grace = components.tasks, components.limits.shutdown_grace_s
    if tasks.running:
        log.info("shutting down: waiting for %s in flight", _count(tasks.running, "command"))
    cut = await tasks.drain(grace)
    if cut:
        log.warning("shutting down: %d commands did not finish in %.0f s", cut, grace)


async def _close_clients(app: web.Application) -> None:
    components = app[COMPONENTS]
    await components.accounts.close()
    await components.crm.close()
    await components.slack.response_urls.close()
    session = getattr(components.slack.slack, "session", None)
    if session is not None:
        await session.close()
    await asyncio.to_thread(components.store.close)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
