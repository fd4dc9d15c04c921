"""The Login with Zoho flow for one chat identity, without any web framework or chat platform in it.

1. `login_link(identity, command)` issues a single-use state bound to the identity (voiding their older links) and
   returns the personal link; `link_sent` records where it was sent and names the older link's message to take
   down, so a person has one live link. `command`: what they typed when the link came instead of an answer.
2. `confirmation(state)` names the chat user the link belongs to, for the page that asks "Continue?" before
   anything happens at Zoho: a link can be sent on, and whoever accepts at Zoho connects *their* CRM to it.
3. `authorize_url(state)` checks the state (without using it up) and builds Zoho's authorize URL.
4. `complete(...)` takes Zoho's redirect back: refuses errors, unknown/used/voided/expired states and untrusted
   hosts, exchanges the code with a timeout, saves the token under the identity BEFORE using it, identifies the
   Zoho user and org (refusing, when `require_email_match`, a Zoho e-mail that is not the chat user's), closes
   the person's other open links, and hands the finished connection to `on_connected`, with the one-off id that
   runs the command the link carried, if it carried one (`LoginStates.resume` opens it, once, for that person).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from oauth.accounts_client import ZohoAccountsClient, ZohoAuthError, ZohoUnreachable
from oauth.datacentres import UntrustedHost, ZohoHosts, data_centre_name
from store import (
    ChatIdentity,
    Connection,
    LoginStateError,
    LoginStateExpired,
    LoginStateStale,
    LoginStateUsed,
    LoginStateVoided,
    NewConnection,
)
from store.audit import AuditTrail
from store.connections import Connections
from store.login_states import LoginStates
from store.revocations import RevocationQueue

log = logging.getLogger(__name__)

DESCRIBE_TIMEOUT_S = 3.0

SCOPES = (
    "ZohoCRM.modules.leads.ALL",
    "ZohoCRM.settings.fields.READ",
    "ZohoCRM.settings.layouts.READ",
    "ZohoCRM.settings.modules.READ",
    "ZohoCRM.users.READ",
    "ZohoCRM.org.READ",
    "ZohoSearch.securesearch.READ",
)


class Failure(enum.Enum):
    """Why a login did not finish; each has its own page."""

    DENIED = "denied"
    NO_ORG = "no_org"
    ZOHO_ERROR = "zoho_error"
    BAD_LINK = "bad_link"
    USED_LINK = "used_link"
    EXPIRED_LINK = "expired_link"
    OTHER_BROWSER = "other_browser"
    UNTRUSTED_HOST = "untrusted_host"
    ZOHO_UNREACHABLE = "zoho_unreachable"
    EXCHANGE_REFUSED = "exchange_refused"
    NOT_A_CRM_USER = "not_a_crm_user"
    REPLACED_LINK = "replaced_link"
    EMAIL_MISMATCH = "email_mismatch"


class LoginFailed(Exception):
    """The login could not finish; `failure` says which page to show. Never carries a secret."""

    def __init__(self, failure: Failure, detail: str = "") -> None:
        self.failure = failure
        self.detail = detail
        super().__init__(f"{failure.value}: {detail}" if detail else failure.value)


def _state_failure(exc: LoginStateError) -> Failure:
    if isinstance(exc, LoginStateUsed | LoginStateStale):
        return Failure.USED_LINK
    if isinstance(exc, LoginStateVoided):
        return Failure.REPLACED_LINK
    if isinstance(exc, LoginStateExpired):
        return Failure.EXPIRED_LINK
    return Failure.BAD_LINK


@dataclass(frozen=True)
class ChatPerson:
    """Who a chat identity is, as the chat platform names them (for the person in the browser to check)."""

    name: str
    email: str | None
    handle: str | None = None
    workspace: str | None = None


def _same_email(person: ChatPerson | None, zoho_email: str | None) -> bool:
    theirs = (person.email if person else None) or ""
    return bool(theirs.strip()) and theirs.strip().lower() == (zoho_email or "").strip().lower()


@dataclass(frozen=True)
class LoginCheck:
    """What the success page tells the person in the browser about the login that just finished.

    A login link can be forwarded: whoever opens it connects *their* Zoho account to the chat user it was sent
    to. So the page names that chat user, and when the Zoho account's e-mail is not the chat user's, it offers
    to disconnect at once (`undo_token`: single-use, 10 minutes, for this connection and token only).
    """

    person: ChatPerson | None
    email_matches: bool
    undo_token: str | None


@dataclass(frozen=True)
class CallbackParams:
    """The query of Zoho's redirect to /zoho/callback."""

    state: str | None = None
    code: str | None = None
    error: str | None = None
    location: str | None = None
    accounts_server: str | None = None


@dataclass(frozen=True)
class LoginLink:
    """A personal login link: the URL to send, and its state (what `link_sent` records the message of)."""

    url: str
    state: str


class LoginStore(Protocol):
    """The parts of the store (store.PeeweeTokenStore) a LoginService uses."""

    connections: Connections
    login_states: LoginStates
    audit: AuditTrail
    revocations: RevocationQueue


class LoginService:
    """Issues login links and completes Zoho's callbacks for any chat identity."""

    def __init__(
        self,
        *,
        store: LoginStore,
        accounts: ZohoAccountsClient,
        hosts: ZohoHosts,
        client_id: str,
        client_secret: str,
        public_url: str,
        redirect_uri: str,
        on_connected: Callable[[Connection, str | None], Awaitable[None]] | None = None,
        describe: Callable[[ChatIdentity], Awaitable[ChatPerson | None]] | None = None,
        forget: Callable[[ChatIdentity, str], Awaitable[object]] | None = None,
        require_email_match: bool = False,
        on_refused: Callable[[ChatIdentity, str], Awaitable[None]] | None = None,
        state_ttl_seconds: int = 600,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._hosts = hosts
        self._client_id = client_id
        self._client_secret = client_secret
        self._public_url = public_url.rstrip("/")
        self._redirect_uri = redirect_uri
        self._on_connected = on_connected
        self._describe = describe
        self._forget = forget
        self._require_email_match = require_email_match
        self._on_refused = on_refused
        self._state_ttl = state_ttl_seconds

    @property
    def authorize_origin(self) -> str:
        """Where the Continue button sends the browser (Zoho's authorize page)."""
        return self._hosts.authorize_base

    @property
    def public_origin(self) -> str:
        """The scheme, host and port people reach the bot at (what their browser sends as Origin)."""
        parts = urlsplit(self._public_url)
        return f"{parts.scheme}://{parts.netloc}"

    def browser_binding(self, state: str, stage: str) -> str:
        """The value of the cookie that ties `state` at `stage` ("seen", "continued") to one browser."""
        return self._store.login_states.browser_binding(state, stage)

    async def login_link(self, identity: ChatIdentity, command: str = "") -> LoginLink:
        """A fresh personal login link for `identity` (single use, valid for 10 minutes); their older links stop
        working. `command`: what they typed, offered to run once they are connected."""
        state = await asyncio.to_thread(self._store.login_states.issue, identity, self._state_ttl, command=command)
        return LoginLink(f"{self._public_url}/zoho/login?{urlencode({'state': state})}", state)

    async def link_sent(self, link: LoginLink, channel: str, message_id: str) -> tuple[str, str] | None:
        """Record the message `link` was sent in; the (channel, message id) of the person's previous link's
        message, which the caller takes down (named once)."""
        return await asyncio.to_thread(self._store.login_states.sent, link.state, channel, message_id)

    async def interrupted_command(self, resume_id: str, identity: ChatIdentity) -> str | None:
        """The command a login's one-off `resume_id` keeps for `identity`, used up; None when it is not theirs,
        was used, or expired."""
        return await asyncio.to_thread(self._store.login_states.resume, resume_id, identity)

    async def confirmation(self, state: str) -> ChatPerson | None:
        """Who a valid, unused login `state` belongs to (None when the chat platform cannot say); LoginFailed."""
        try:
            identity = await asyncio.to_thread(self._store.login_states.peek, state)
        except LoginStateError as exc:
            raise LoginFailed(_state_failure(exc)) from None
        return await self._person(identity)

    async def authorize_url(self, state: str) -> str:
        """Zoho's authorize URL for a valid, unused state; LoginFailed otherwise."""
        try:
            await asyncio.to_thread(self._store.login_states.peek, state)
        except LoginStateError as exc:
            raise LoginFailed(_state_failure(exc)) from None
        query = urlencode(
            {
                "scope": ",".join(SCOPES),
                "client_id": self._client_id,
                "response_type": "code",
                "access_type": "offline",
                "prompt": "consent",
                "redirect_uri": self._redirect_uri,
                "state": state,
            }
        )
        return f"{self._hosts.authorize_base}/oauth/v2/auth?{query}"

    async def complete(self, params: CallbackParams, *, browser_bound: bool) -> Connection:
        """Finish a login from Zoho's redirect. Raises LoginFailed; on failure nothing is saved.

        `browser_bound` says whether the request came from the browser that opened the login link.
        """
        if not params.state or len(params.state) > 200:
            raise LoginFailed(Failure.BAD_LINK, "no state")
        try:
            await asyncio.to_thread(self._store.login_states.peek, params.state)
        except LoginStateError as exc:
            raise LoginFailed(_state_failure(exc)) from None
        if not browser_bound:
            raise LoginFailed(Failure.OTHER_BROWSER)
        if params.error:
            # Use the state up so the link cannot be replayed; the person asks for a new one.
            identity = await self._consume(params.state)
            failure = (
                Failure.NO_ORG
                if params.error == "no_org"
                else (Failure.DENIED if params.error == "access_denied" else Failure.ZOHO_ERROR)
            )
            log.info("login refused at Zoho identity=%s error=%s", identity, params.error[:40])
            raise LoginFailed(failure, params.error[:100])
        if not params.code:
            raise LoginFailed(Failure.BAD_LINK, "no code")
        try:
            location, accounts_server = self._hosts.accounts_server(params.location, params.accounts_server)
        except UntrustedHost as exc:
            # Checked before any request: a forged host gets nothing, and the state is used up so the genuine
            # callback cannot be raced in after a forged one. The value came from a browser: logged cut short.
            identity = await self._consume(params.state)
            log.warning("login callback refused identity=%s: %s", identity, str(exc)[:200])
            raise LoginFailed(Failure.UNTRUSTED_HOST, str(exc)[:200]) from None
        identity = await self._consume(params.state)

        try:
            grant = await self._accounts.exchange_code(accounts_server, params.code, self._redirect_uri)
        except ZohoUnreachable as exc:
            log.warning("code exchange failed identity=%s: %s", identity, exc)
            raise LoginFailed(Failure.ZOHO_UNREACHABLE, str(exc)) from None
        except ZohoAuthError as exc:
            log.info("code exchange refused identity=%s code=%s", identity, exc.code)
            raise LoginFailed(Failure.EXCHANGE_REFUSED, exc.code) from None
        if not grant.refresh_token:
            raise LoginFailed(Failure.EXCHANGE_REFUSED, "Zoho gave no refresh token")
        try:
            api_domain = self._hosts.api_domain(grant.api_domain, location)
        except UntrustedHost as exc:
            log.warning("token answer refused identity=%s: %s", identity, exc)
            await self._revoke_quietly(accounts_server, grant.refresh_token)
            raise LoginFailed(Failure.UNTRUSTED_HOST, str(exc)) from None

        # Persist before use: a crash after this line loses nothing Zoho gave us.
        pending = await asyncio.to_thread(
            self._store.revocations.hold_grant,
            identity,
            accounts_server=accounts_server,
            refresh_token=grant.refresh_token,
        )
        try:
            who = await self._accounts.identify(api_domain, grant.access_token)
        except (ZohoAuthError, ZohoUnreachable) as exc:
            await asyncio.to_thread(self._store.revocations.mark_done, pending)
            await self._revoke_quietly(accounts_server, grant.refresh_token)
            failure = Failure.NOT_A_CRM_USER if isinstance(exc, ZohoAuthError) else Failure.ZOHO_UNREACHABLE
            raise LoginFailed(failure, str(exc)) from None

        if self._require_email_match:
            await self._refuse_other_email(identity, who.email, accounts_server, grant.refresh_token, pending)

        new = NewConnection(
            zoho_email=who.email,
            zoho_user_id=who.user_id,
            org_id=who.org_id,
            org_name=who.org_name,
            location=location,
            accounts_server=accounts_server,
            api_domain=api_domain,
            client_id=self._client_id,
            client_secret=self._client_secret,
            refresh_token=grant.refresh_token,
            access_token=grant.access_token,
            expires_at_ms=grant.expires_at_ms,
            redirect_uri=self._redirect_uri,
        )
        connection, replaced = await asyncio.to_thread(self._store.connections.save, identity, new)
        await asyncio.to_thread(self._store.revocations.mark_done, pending)
        # A link sent before this login must not replace it later (nor undo it).
        await asyncio.to_thread(self._store.login_states.void_open, identity)
        resume_id = await asyncio.to_thread(self._store.login_states.offer_resume, params.state, self._state_ttl)
        await asyncio.to_thread(
            self._store.audit.record,
            identity.team_id,
            identity.user_id,
            "login",
            identity.user_id,
            who.email,
            "connected",
            f"{who.org_name}, {data_centre_name(location)} data centre (org id {who.org_id})",
        )
        log.info("connected identity=%s zoho_user=%s org=%s dc=%s", identity, who.user_id, who.org_id, location)
        if replaced is not None and replaced.refresh_token != grant.refresh_token:
            await self._revoke_quietly(replaced.accounts_server, replaced.refresh_token, identity=identity)
        if self._on_connected is not None:
            await self._on_connected(connection, resume_id)
        return connection

    async def check(self, connection: Connection) -> LoginCheck:
        """Name the chat user `connection` now belongs to, and compare e-mails (see LoginCheck)."""
        person = await self._person(connection.identity)
        matches = _same_email(person, connection.zoho_email)
        if matches or self._forget is None:
            return LoginCheck(person, matches, None)
        try:
            token = await asyncio.to_thread(
                self._store.login_states.issue_undo, connection.identity, connection.id, self._state_ttl
            )
        except LoginStateStale:  # replaced or logged out in the meantime: nothing of this login left to undo
            return LoginCheck(person, False, None)
        log.info("login of identity=%s: Zoho e-mail differs from the chat user's; undo offered", connection.identity)
        return LoginCheck(person, False, token)

    async def undo(self, undo_token: str) -> Connection:
        """Disconnect the connection a login just made, from its success page. Raises LoginFailed.

        The token names the connection and the refresh token it was issued for: after a newer login it is
        refused. (Between that check and `forget` a login finishing in the same instant could still be caught.)
        """
        if not undo_token or len(undo_token) > 200 or self._forget is None:
            raise LoginFailed(Failure.BAD_LINK, "no undo token")
        try:
            identity, connection_id = await asyncio.to_thread(self._store.login_states.redeem_undo, undo_token)
        except LoginStateError as exc:
            raise LoginFailed(_state_failure(exc)) from None
        connection = await asyncio.to_thread(self._store.connections.get, identity)
        if connection is None or connection.id != connection_id:
            raise LoginFailed(Failure.USED_LINK, "the connection changed since")
        await self._forget(identity, "disconnected from the login page (Zoho e-mail differed from the chat user's)")
        log.info("login undone from its page identity=%s", identity)
        return connection

    async def _person(self, identity: ChatIdentity) -> ChatPerson | None:
        if self._describe is None:
            return None
        try:
            # The browser is waiting: a slow chat platform costs the page its names, not the person their time.
            return await asyncio.wait_for(self._describe(identity), DESCRIBE_TIMEOUT_S)
        except Exception as exc:  # the chat platform is down: the page says less
            log.warning("could not name identity=%s for the login page: %s", identity, type(exc).__name__)
            return None

    async def _refuse_other_email(
        self, identity: ChatIdentity, zoho_email: str, accounts_server: str, refresh_token: str, pending: str
    ) -> None:
        """With `require_email_match`: refuse (and revoke at once) a Zoho account that is not the chat user's.

        When the chat platform cannot say the chat user's e-mail, the login is refused too: the rule is kept.
        """
        person = await self._person(identity)
        if _same_email(person, zoho_email):
            return
        await asyncio.to_thread(self._store.revocations.mark_done, pending)
        await self._revoke_quietly(accounts_server, refresh_token, identity=identity)
        why = "its e-mail is not the Slack user's" if person and person.email else "the Slack user's e-mail is unknown"
        await asyncio.to_thread(
            self._store.audit.record,
            identity.team_id,
            identity.user_id,
            "login",
            identity.user_id,
            zoho_email,
            "refused",
            f"ZOHO_REQUIRE_EMAIL_MATCH is on and {why}; the new token was revoked",
        )
        log.info("login refused identity=%s: Zoho e-mail differs from the chat user's", identity)
        if self._on_refused is not None:
            await self._on_refused(identity, zoho_email)
        raise LoginFailed(Failure.EMAIL_MISMATCH)

    async def _consume(self, state: str) -> ChatIdentity:
        try:
            return await asyncio.to_thread(self._store.login_states.consume, state)
        except LoginStateError as exc:
            raise LoginFailed(_state_failure(exc)) from None

    async def _revoke_quietly(
        self, accounts_server: str, refresh_token: str, identity: ChatIdentity | None = None
    ) -> None:
        """Revoke a token we will not keep; if Zoho can't be reached, queue it for the background retry."""
        try:
            if await self._accounts.revoke(accounts_server, refresh_token):
                return
        except ZohoUnreachable:
            pass
        await asyncio.to_thread(
            self._store.revocations.queue,
            refresh_token,
            accounts_server,
            identity.team_id if identity else "",
            identity.user_id if identity else "",
        )
