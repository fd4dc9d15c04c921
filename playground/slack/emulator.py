"""`SlackEmulator`: a local Slack workspace with one installed app, served over real loopback HTTP.

It answers the Web API at `api_url` (point slack_sdk's `base_url` / `SLACK_API_URL` there), acts as Slack
towards the app at `bot_events_url` (signed slash commands, clicks, modal submissions, events) and records
everything a user would see, for tests and for the terminal console.
"""

from __future__ import annotations

import dataclasses
import html
import re
import time
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from playground.slack.actor import SlackActor
from playground.slack.api_methods import method_table, user_object
from playground.slack.delivery import ACK_TIMEOUT_SECONDS, HttpDelivery
from playground.slack.payloads import AppIdentity, escape_for_app, escape_typed_text
from playground.slack.records import (
    ActionResult,
    ApiCall,
    BotReply,
    Channel,
    CommandResult,
    RecordedMessage,
    RecordedView,
    SlackUser,
    ViewSubmitResult,
)
from playground.slack.response_urls import ResponseUrls
from playground.slack.socket_mode import SocketModeServer
from playground.slack.web_api import ApiAccess, WebApi
from playground.slack.workspace import TRIGGER_TTL_SECONDS, Fault, Workspace

DEFAULT_SCOPES = frozenset({"commands", "chat:write", "im:write", "users:read", "users:read.email"})


_LINK = re.compile(r"<(https?://[^|>]+)(?:\|[^>]*)?>")


def links_in(stored_text: str) -> list[str]:
    """The URLs of a message's text as Slack stores it (`<url>` or `<url|label>`), each once, in order."""
    found = [html.unescape(match) for match in _LINK.findall(stored_text)]
    return list(dict.fromkeys(found))


def _in_domains(url: str, domains: tuple[str, ...]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == domain or host.endswith(f".{domain}") for domain in domains)


def _describe(m: RecordedMessage) -> str:
    text = (m.text or " ".join(str(b.get("type")) for b in m.blocks))[:80]
    return f"  #{m.seq} {m.kind} channel={m.channel} user={m.user} shown={m.shown}: {text!r}"


class SlackEmulator:
    """One emulated workspace (`team_id`, `team_name`) with the app installed under `bot_token`."""

    def __init__(
        self,
        *,
        signing_secret: str = "local-signing-secret",
        bot_token: str = "xoxb-local-0000",
        team_id: str = "T0LOCAL",
        team_name: str = "Local Workspace",
        app_id: str = "A0LOCAL",
        bot_user_id: str = "U0LOCALBOT",
        bot_id: str = "B0LOCAL",
        app_token: str | None = None,
        verification_token: str = "local-verification-token",
        scopes: Collection[str] = DEFAULT_SCOPES,
        escaped_commands: Collection[str] = (),
        default_channel: tuple[str, str] = ("C0GENERAL", "general"),
        unfurl_domains: Collection[str] = (),
        ack_timeout: float = ACK_TIMEOUT_SECONDS,
        trigger_ttl: float = TRIGGER_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`escaped_commands`: the slash commands whose manifest says `should_escape: true` (their text then
        carries `<@U…|name>`, `<#C…|name>`, `<url>`, `<mailto:…|…>`). `ack_timeout`: how long Slack waits for
        the app's answer (3 s). `trigger_ttl`: trigger_id lifetime. `unfurl_domains`: the manifest's `unfurl_domains`
        (`link_shared` is sent for links to them and their subdomains). `clock`: monotonic seconds, for tests."""
        self.team_id = team_id
        self.team_name = team_name
        self.unfurl_domains = tuple(d.lower() for d in unfurl_domains)
        self._ws = Workspace(
            team_id=team_id,
            team_name=team_name,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            clock=clock,
            trigger_ttl=trigger_ttl,
        )
        self._ws.users[bot_user_id] = SlackUser(bot_user_id, "bot", "Bot", is_bot=True)
        self.add_channel(*default_channel)
        self.default_channel = default_channel[0]
        access = ApiAccess(bot_token=bot_token, app_token=app_token, scopes=frozenset(scopes))
        self._url = ""
        self._api = WebApi(self._ws, method_table(access.scopes), access, "")
        self._http = HttpDelivery(signing_secret, ack_timeout)
        identity = AppIdentity(
            team_id=team_id,
            team_domain=team_name.lower().replace(" ", "-"),
            app_id=app_id,
            bot_user_id=bot_user_id,
            verification_token=verification_token,
        )
        self._socket = SocketModeServer(ack_timeout)
        self._actor = SlackActor(
            self._ws, identity, self._http, base_url=lambda: self._url, escaped_commands=escaped_commands
        )
        self._actor.socket = self._socket
        self._runner: web.AppRunner | None = None

    # ---- set-up -------------------------------------------------------------------------------------------
    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str = "",
        email: str = "",
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        tz: str = "Europe/London",
    ) -> SlackUser:
        """Add (or replace) a workspace member (`tz`: their time zone, an IANA name as Slack gives it)."""
        user = SlackUser(
            id=user_id,
            name=name,
            real_name=real_name or name,
            email=email,
            is_admin=is_admin,
            is_owner=is_owner,
            is_primary_owner=is_primary_owner,
            tz=tz,
        )
        self._ws.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str, *, bot_member: bool = False) -> Channel:
        """Add a channel; the app can post into it only when `bot_member` (else `not_in_channel`)."""
        channel = Channel(channel_id, name, bot_member)
        self._ws.channels[channel_id] = channel
        return channel

    @property
    def users(self) -> dict[str, SlackUser]:
        """Members by id (the app's bot user included)."""
        return dict(self._ws.users)

    @property
    def channel_names(self) -> dict[str, str]:
        """Channel names by id (the app's DMs as "directmessage")."""
        return {
            **{d: "directmessage" for d in self._ws.dm_ids.values()},
            **{c.id: c.name for c in self._ws.channels.values()},
        }

    def user_named(self, name: str) -> SlackUser | None:
        """The member called `name` (or with that id), if any."""
        return self._ws.users.get(name) or next((u for u in self._ws.users.values() if u.name == name), None)

    # ---- lifecycle ----------------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve the Web API, response URLs and Socket Mode on `host:port` (0: any free port)."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api.handle)
        app.router.add_post("/response/{sink_id}", ResponseUrls(self._ws).handle)
        app.router.add_get("/socket-mode", self._socket.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._url = f"http://{bound_host}:{bound_port}"
        self._api.set_base_url(self._url)

    async def stop(self) -> None:
        """Stop serving and close connections (idempotent)."""
        await self._socket.close()
        await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>` once started."""
        return self._url

    @property
    def api_url(self) -> str:
        """The Web API base with a trailing slash: slack_sdk's `base_url`."""
        return f"{self._url}/api/"

    @property
    def bot_events_url(self) -> str | None:
        """Where the app listens for slash commands, interactivity and events (its Request URL)."""
        return self._actor.events_url

    @bot_events_url.setter
    def bot_events_url(self, value: str | None) -> None:
        self._actor.events_url = value

    # ---- acting as Slack towards the app ----------------------------------------------------------------------
    async def send_command(
        self, user_id: str, command: str, text: str = "", channel_id: str | None = None
    ) -> CommandResult:
        """See `SlackActor.send_command`."""
        return await self._actor.send_command(user_id, command, text, channel_id)

    async def click_button(
        self, user_id: str, message: RecordedMessage, action_id: str, value: str | None = None
    ) -> ActionResult:
        """See `SlackActor.click_button`."""
        return await self._actor.click_button(user_id, message, action_id, value)

    async def submit_view(self, user_id: str, view_id: str, values: dict[str, Any] | None = None) -> ViewSubmitResult:
        """See `SlackActor.submit_view`."""
        return await self._actor.submit_view(user_id, view_id, values)

    async def close_view(self, user_id: str, view_id: str) -> BotReply | None:
        """See `SlackActor.close_view`."""
        return await self._actor.close_view(user_id, view_id)

    async def open_home(self, user_id: str, timeout: float = 5.0) -> RecordedView:
        """`user_id` opens the app's Home tab (`app_home_opened`, as Slack sends it); returns the Home view the
        app publishes in answer, or raises TimeoutError when none comes within `timeout` seconds."""
        before = self._ws.seq
        await self._actor.open_home(user_id)
        return await self.wait_for_home(user_id, after=before, timeout=timeout)

    async def wait_for_home(self, user_id: str, *, after: int, timeout: float = 5.0) -> RecordedView:
        """The Home view published for `user_id` after change number `after` (see `seq`); TimeoutError if none."""
        deadline = time.monotonic() + timeout
        while True:
            home = self._ws.home_tabs.get(user_id)
            if home is not None and home.seq > after:
                return home
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self._ws.wait_changed(remaining):
                raise TimeoutError(f"no Home tab published for {user_id} within {timeout}s")

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home view last published for `user_id` (as Slack stores it), or None."""
        home = self._ws.home_tabs.get(user_id)
        return home.view if home else None

    async def click_home_button(
        self, user_id: str, action_id: str, value: str | None = None, *, home_of: str | None = None
    ) -> ActionResult:
        """See `SlackActor.click_home_button`."""
        return await self._actor.click_home_button(user_id, action_id, value, home_of=home_of)

    async def send_event(self, event: dict[str, Any]) -> BotReply:
        """See `SlackActor.send_event`."""
        return await self._actor.send_event(event)

    async def send_interaction(self, payload: dict[str, Any]) -> BotReply:
        """See `SlackActor.send_interaction`."""
        return await self._actor.send_interaction(payload)

    def post_as(self, user_id: str, channel_id: str, text: str) -> RecordedMessage:
        """`user_id` writes `text` in the channel, stored as Slack stores it: typed `<`, `>`, `&` escaped, and
        URLs, e-mail addresses, mentions and channels turned into Slack's markup."""
        names = {c.id: c.name for c in self._ws.channels.values()}
        stored = escape_for_app(escape_typed_text(text), self._ws.users, names)
        return self._ws.record_message(
            kind="channel", channel=channel_id, user=None, text=stored, blocks=[], author=user_id
        )

    async def post_link(self, user_id: str, channel_id: str, text: str) -> tuple[RecordedMessage, BotReply | None]:
        """`user_id` writes `text` (as `post_as`); when it carries links to the app's unfurl domains, the app gets
        `link_shared` for them, as Slack sends it. Returns the message as stored and the app's answer (None when
        no link was for the app)."""
        message = self.post_as(user_id, channel_id, text)
        links = [url for url in links_in(message.text) if _in_domains(url, self.unfurl_domains)]
        if not links:
            return message, None
        found = self._ws.find_shown(message.channel, message.ts)
        assert found is not None
        message = self._ws.update_message(found[0], links=tuple(links))
        reply = await self._actor.share_links(user_id, message, links)
        return message, reply

    def unfurls(self) -> list[ApiCall]:
        """Every `chat.unfurl` call the app made, in order (refused ones too)."""
        return [call for call in self._ws.calls if call.method == "chat.unfurl"]

    async def run_message_shortcut(self, user_id: str, message: RecordedMessage, callback_id: str) -> ActionResult:
        """See `SlackActor.run_message_shortcut`."""
        return await self._actor.run_message_shortcut(user_id, message, callback_id)

    async def deactivate(self, user_id: str, *, home_team: str = "") -> BotReply:
        """An admin deactivates `user_id`: `users.info` says `deleted` from now on, and the app gets the
        `user_change` event with the user as `users.info` shows them, as Slack sends it. `home_team`: the user's
        `team_id` in the event, when it names another workspace than the event's (on Enterprise Grid, a member's
        home workspace)."""
        user = self._ws.users[user_id] = dataclasses.replace(self._ws.users[user_id], deleted=True)
        shown = user_object(self._ws, user)
        if home_team:
            shown["team_id"] = home_team
        return await self._actor.send_event({"type": "user_change", "user": shown})

    async def send_raw(self, body: bytes, headers: dict[str, str]) -> BotReply:
        """See `SlackActor.send_raw`."""
        return await self._actor.send_raw(body, headers)

    # ---- what Slack shows --------------------------------------------------------------------------------
    @property
    def calls(self) -> list[ApiCall]:
        """Every Web API request received, in order (failed ones too)."""
        return list(self._ws.calls)

    @property
    def seq(self) -> int:
        """The sequence number of the latest change; `m.seq > n` means "changed after n"."""
        return self._ws.seq

    def messages(self, user_id: str | None = None, channel: str | None = None) -> list[RecordedMessage]:
        """The message history in order. `user_id`: only messages addressed to that user (DMs, ephemeral,
        response_url posts; channel posts have user None); `channel`: only that conversation."""
        return [
            m
            for m in self._ws.messages
            if (user_id is None or m.user == user_id) and (channel is None or m.channel == channel)
        ]

    def dms(self, user_id: str) -> list[RecordedMessage]:
        """chat.postMessage messages in the app's DM with `user_id`."""
        return [m for m in self._ws.messages if m.kind == "dm" and m.user == user_id]

    def dm_channel(self, user_id: str) -> str:
        """The `D…` id of the app's DM with `user_id` (stable until reset)."""
        return self._ws.dm_id(user_id)

    @property
    def views(self) -> dict[str, RecordedView]:
        """Every modal opened since the last reset, by view id (closed ones too)."""
        return dict(self._ws.views)

    @property
    def home_tabs(self) -> dict[str, RecordedView]:
        """The Home tab published for each user."""
        return dict(self._ws.home_tabs)

    def open_views(self, user_id: str) -> list[RecordedView]:
        """The modals `user_id` has open, root first; the last is the one they see."""
        return self._ws.view_stack(user_id)

    async def wait_for_message(
        self, predicate: Callable[[RecordedMessage], bool], timeout: float = 5.0
    ) -> RecordedMessage:
        """The first recorded message (oldest first, already recorded ones included) matching `predicate`.
        Raises TimeoutError listing what arrived when none matches within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self._ws.messages:
                if predicate(m):
                    return m
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self._ws.wait_changed(remaining):
                arrived = "\n".join(_describe(m) for m in self._ws.messages) or "  (none)"
                raise TimeoutError(f"no matching message within {timeout}s; messages so far:\n{arrived}")

    async def wait_for_view(self, predicate: Callable[[RecordedView], bool], timeout: float = 5.0) -> RecordedView:
        """The first recorded modal matching `predicate`; TimeoutError (listing the views) otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            for v in self._ws.views.values():
                if predicate(v):
                    return v
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self._ws.wait_changed(remaining):
                arrived = [
                    f"{v.view_id} {v.callback_id!r} user={v.user_id} closed={v.closed}" for v in self.views.values()
                ]
                raise TimeoutError(f"no matching view within {timeout}s; views: {arrived or 'none'}")

    async def wait_changed(self, timeout: float) -> bool:
        """Wait for the next new/changed message or view; False when `timeout` seconds passed first."""
        return await self._ws.wait_changed(timeout)

    # ---- faults -------------------------------------------------------------------------------------------
    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` get HTTP 429 `ratelimited` with `Retry-After: retry_after`.

        `method` "response_url" rate-limits posts to response URLs instead (any of them)."""
        self._ws.faults[method] = Fault(status=429, remaining=times, retry_after=retry_after)

    def fail_method(self, method: str, status: int = 500, times: int = 1) -> None:
        """The next `times` calls of `method` (or "response_url": posts to response URLs) get HTTP `status`."""
        self._ws.faults[method] = Fault(status=status, remaining=times)

    def reset(self) -> None:
        """Forget calls, messages, views, triggers, response URLs, DMs and faults (members stay)."""
        self._ws.clear_activity()
