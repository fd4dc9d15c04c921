"""Acting as Slack towards the app: a user runs a slash command, clicks a button, submits or closes a modal;
the workspace sends an event. Each builds the body Slack would send, delivers it signed, and applies what
Slack does with the app's answer (e.g. `response_action` on a modal).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl

from playground.slack import payloads
from playground.slack.block_limits import view_problems
from playground.slack.delivery import FORM, JSON, Delivered, HttpDelivery
from playground.slack.modal_state import element_options, input_blocks, state_values
from playground.slack.records import (
    ActionResult,
    BotReply,
    Channel,
    CommandResult,
    RecordedMessage,
    RecordedView,
    SlackUser,
    ViewSubmitResult,
)
from playground.slack.view_methods import MAX_PUSHES, store_view
from playground.slack.workspace import Workspace

DeliveryKind = Literal["slash_commands", "interactive", "events_api"]


class SocketTransport(Protocol):
    """A connected Socket Mode client, used instead of HTTP when present."""

    @property
    def connected(self) -> bool: ...

    async def deliver(self, kind: DeliveryKind, payload: dict[str, Any]) -> Delivered: ...


def clickable_elements(message: RecordedMessage) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, element) for every button, overflow and select a message shows, in reading order."""
    return clickable_in(message.blocks)


def clickable_in(blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, element) for every button, overflow and select in `blocks` (a message or a view), in order."""
    found: list[tuple[str, dict[str, Any]]] = []
    for block in blocks:
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for el in candidates:
            if isinstance(el, dict) and el.get("type") in ("button", "overflow", "static_select"):
                found.append((str(block.get("block_id", "")), el))
    return found


def _pick(message: RecordedMessage, action_id: str, value: str | None) -> tuple[str, dict[str, Any], Any]:
    """The element with `action_id` (and `value`: a button's value or the option chosen) on `message`."""
    return _pick_in(message.blocks, action_id, value)


def _pick_in(blocks: list[dict[str, Any]], action_id: str, value: str | None) -> tuple[str, dict[str, Any], Any]:
    for block_id, el in clickable_in(blocks):
        if el.get("action_id") != action_id:
            continue
        if el["type"] == "button":
            if value is None or el.get("value") == value:
                return block_id, el, None
            continue
        option = next((o for o in element_options(el) if o.get("value") == value), None)
        if option is not None:
            return block_id, el, option
    shown = [(el.get("action_id"), el.get("value")) for _, el in clickable_in(blocks)]
    raise LookupError(f"no element action_id={action_id!r} value={value!r} there; it has {shown}")


class SlackActor:
    """Delivers what users and the workspace do to the app at `events_url`."""

    def __init__(
        self,
        workspace: Workspace,
        identity: payloads.AppIdentity,
        http: HttpDelivery,
        *,
        base_url: Callable[[], str],
        escaped_commands: Collection[str] = (),
    ) -> None:
        self._ws = workspace
        self._app = identity
        self._http = http
        self._base_url = base_url
        self._escaped = set(escaped_commands)
        self.events_url: str | None = None
        self.socket: SocketTransport | None = None

    # ---- plumbing ----------------------------------------------------------------------------------------
    def _user(self, user_id: str) -> SlackUser:
        user = self._ws.users.get(user_id)
        if user is None:
            raise LookupError(f"unknown user {user_id!r}; add it with add_user() first")
        return user

    def _sink_url(self, user_id: str, channel_id: str, message_ts: str | None = None) -> str:
        sink = self._ws.new_sink(user_id, channel_id, message_ts)
        return f"{self._base_url()}/response/{sink.sink_id}"

    async def _deliver(self, kind: DeliveryKind, body: bytes, content_type: str, payload: dict[str, Any]):
        if self.socket is not None and self.socket.connected:
            return await self.socket.deliver(kind, payload)
        if not self.events_url:
            raise RuntimeError("set bot_events_url (where the app listens) before sending")
        return await self._http.post_signed(self.events_url, body, content_type)

    # ---- slash commands ------------------------------------------------------------------------------------
    def _command_channel(self, user_id: str, channel_id: str | None) -> str:
        if channel_id is None:
            channel_id = next(iter(self._ws.channels))
        if channel_id.startswith("D"):
            return self._ws.dm_id(user_id)
        if channel_id not in self._ws.channels:
            self._ws.channels[channel_id] = Channel(channel_id, channel_id.lower(), bot_member=False)
        return channel_id

    async def send_command(
        self, user_id: str, command: str, text: str = "", channel_id: str | None = None
    ) -> CommandResult:
        """`user_id` types `command text` in `channel_id` (default: the first channel; "D…": their DM with the
        app). The text is escaped as Slack does: `&<>` always; mentions, channels, URLs and e-mail addresses
        too for commands listed in `escaped_commands` (the manifest's `should_escape: true`)."""
        user = self._user(user_id)
        channel = self._command_channel(user_id, channel_id)
        wire_text = payloads.escape_typed_text(text)
        if command in self._escaped:
            names = {c.id: c.name for c in self._ws.channels.values()}
            wire_text = payloads.escape_for_app(wire_text, self._ws.users, names)
        response_url = self._sink_url(user_id, channel)
        trigger_id = self._ws.new_trigger(user_id)
        body = payloads.slash_command_form(
            self._app,
            user,
            command=command,
            text=wire_text,
            channel_id=channel,
            channel_name=self._ws.channel_name(channel),
            response_url=response_url,
            trigger_id=trigger_id,
        )
        got = await self._deliver("slash_commands", body, FORM, dict(parse_qsl(body.decode(), keep_blank_values=True)))
        if got.status == 200 and got.body is not None:
            self._record_ack(user_id, channel, got.body)
        return CommandResult(got.status, got.body, response_url, trigger_id, got.error)

    def _record_ack(self, user_id: str, channel: str, body: str | dict[str, Any]) -> None:
        """Slack shows a non-empty command reply to the user, like an ephemeral message."""
        message = body if isinstance(body, dict) else {"text": body}
        self._ws.record_message(
            kind="ack",
            channel=channel,
            user=user_id,
            text=str(message.get("text") or ""),
            blocks=list(message.get("blocks") or []),
            response_type=message.get("response_type"),
        )

    # ---- clicks --------------------------------------------------------------------------------------------
    async def click_button(
        self, user_id: str, message: RecordedMessage, action_id: str, value: str | None = None
    ) -> ActionResult:
        """`user_id` presses the button `action_id` (with `value`, if given) on the message as currently shown;
        for an overflow or select, `value` is the option chosen. Raises LookupError when the user cannot see
        that message (any more) or it has no such element."""
        user = self._user(user_id)
        found = self._ws.find_shown(message.channel, message.ts)
        if found is None:
            raise LookupError(f"message {message.ts} in {message.channel} is no longer shown")
        current = found[1]
        if current.user is not None and current.user != user_id:
            raise LookupError(f"message {current.ts} is shown to {current.user}, not {user_id}")
        block_id, element, option = _pick(current, action_id, value)
        response_url = self._sink_url(user_id, current.channel, current.ts)
        trigger_id = self._ws.new_trigger(user_id)
        payload = payloads.message_block_actions(
            self._app,
            user,
            message=current,
            channel_name=self._ws.channel_name(current.channel),
            action=payloads.block_action(element, block_id, option),
            response_url=response_url,
            trigger_id=trigger_id,
        )
        got = await self._deliver("interactive", payloads.interaction_form(payload), FORM, payload)
        return ActionResult(got.status, got.body, response_url, trigger_id, got.error)

    async def run_message_shortcut(self, user_id: str, message: RecordedMessage, callback_id: str) -> ActionResult:
        """`user_id` picks the app's message shortcut `callback_id` from the message's menu."""
        user = self._user(user_id)
        if self._ws.find_shown(message.channel, message.ts) is None:
            raise LookupError(f"message {message.ts} in {message.channel} is no longer shown")
        response_url = self._sink_url(user_id, message.channel)
        trigger_id = self._ws.new_trigger(user_id)
        payload = payloads.message_action(
            self._app,
            user,
            callback_id=callback_id,
            message=message,
            channel_name=self._ws.channel_name(message.channel),
            response_url=response_url,
            trigger_id=trigger_id,
        )
        got = await self._deliver("interactive", payloads.interaction_form(payload), FORM, payload)
        return ActionResult(got.status, got.body, response_url, trigger_id, got.error)

    async def share_links(self, user_id: str, message: RecordedMessage, links: list[str]) -> BotReply:
        """Slack tells the app that `user_id` posted `message` with `links` in its unfurl domains."""
        user = self._user(user_id)
        unfurl_id = f"{message.channel}.{message.ts}.{secrets.token_hex(16)}"
        self._ws.unfurl_ids[unfurl_id] = (message.channel, message.ts)
        channel = self._ws.channels.get(message.channel)
        event = payloads.link_shared(user, message, links, unfurl_id, bot_member=bool(channel and channel.bot_member))
        return await self.send_event(event)

    # ---- the Home tab ----------------------------------------------------------------------------------------
    async def open_home(self, user_id: str) -> BotReply:
        """`user_id` opens the app's Home tab: the app gets `app_home_opened` (tab "home", with the Home view
        published before, if any)."""
        user = self._user(user_id)
        shown = self._ws.home_tabs.get(user_id)
        event = payloads.app_home_opened(user, self._ws.dm_id(user_id), shown.view if shown else None)
        return await self.send_event(event)

    async def click_home_button(
        self, user_id: str, action_id: str, value: str | None = None, *, home_of: str | None = None
    ) -> ActionResult:
        """`user_id` presses the button `action_id` (with `value`, if given) on the Home tab published for
        `home_of` (default: their own; another's only to forge a click, which real Slack never sends). The
        payload carries the view and no response_url, as Slack's does."""
        user = self._user(user_id)
        home = self._ws.home_tabs.get(home_of or user_id)
        if home is None:
            raise LookupError(f"no Home tab published for {home_of or user_id}")
        block_id, element, option = _pick_in(home.view.get("blocks") or [], action_id, value)
        trigger_id = self._ws.new_trigger(user_id)
        payload = payloads.view_block_actions(
            self._app,
            user,
            view=home.view,
            action=payloads.block_action(element, block_id, option),
            trigger_id=trigger_id,
        )
        got = await self._deliver("interactive", payloads.interaction_form(payload), FORM, payload)
        return ActionResult(got.status, got.body, "", trigger_id, got.error)

    # ---- modals ----------------------------------------------------------------------------------------------
    def _top_view(self, user_id: str, view_id: str) -> RecordedView:
        stack = self._ws.view_stack(user_id)
        if not stack or stack[-1].view_id != view_id:
            shown = stack[-1].view_id if stack else None
            raise LookupError(f"view {view_id!r} is not the modal {user_id} sees (that is {shown!r})")
        return stack[-1]

    async def submit_view(self, user_id: str, view_id: str, values: dict[str, Any] | None = None) -> ViewSubmitResult:
        """`user_id` fills the modal `view_id` with `values` (see `modal_state.state_values`) and presses
        Submit; then the emulator applies the app's `response_action` (errors / update / push / clear) or
        closes the view on an empty 200."""
        user = self._user(user_id)
        current = self._top_view(user_id, view_id)
        state, client_errors = state_values(current.view, values or {})
        if client_errors:
            return ViewSubmitResult(0, None, client_errors=client_errors)
        view = {**current.view, "state": {"values": state}}
        payload = payloads.view_submission(self._app, user, view=view, trigger_id=self._ws.new_trigger(user_id))
        got = await self._deliver("interactive", payloads.interaction_form(payload), FORM, payload)
        if got.error:
            return ViewSubmitResult(got.status, _as_dict(got), error=got.error)
        return self._apply_view_answer(current, got)

    def _apply_view_answer(self, current: RecordedView, got: Delivered) -> ViewSubmitResult:
        body = got.body
        if body is None:
            self._ws.close_views([current])
            return ViewSubmitResult(got.status, None)
        if not isinstance(body, dict):
            return ViewSubmitResult(got.status, None, error="invalid_response")
        action = body.get("response_action")
        stack = self._ws.view_stack(current.user_id)
        if action == "errors":
            known = {b.get("block_id") for b in input_blocks(current.view)}
            errors = body.get("errors")
            if not isinstance(errors, dict) or not set(errors) <= known:
                return ViewSubmitResult(got.status, body, error="invalid_response")
        elif action in ("update", "push"):
            new_view = body.get("view")
            if view_problems(new_view) or (action == "push" and len(stack) > MAX_PUSHES):
                return ViewSubmitResult(got.status, body, error="invalid_response")
            if action == "update":
                store_view(self._ws, current.user_id, new_view, view_id=current.view_id)
            else:
                store_view(self._ws, current.user_id, new_view, previous=current.view_id)
        elif action == "clear":
            self._ws.close_views(stack)
        else:
            return ViewSubmitResult(got.status, body, error="invalid_response")
        return ViewSubmitResult(got.status, body)

    async def close_view(self, user_id: str, view_id: str) -> BotReply | None:
        """`user_id` closes the modal (✕ or Cancel). The app hears of it (`view_closed`) only when the view was
        opened with `notify_on_close`; then its answer is returned, else None."""
        user = self._user(user_id)
        current = self._top_view(user_id, view_id)
        stack = self._ws.view_stack(user_id)
        cleared = bool(current.view.get("clear_on_close"))
        self._ws.close_views(stack if cleared else [current])
        if not current.view.get("notify_on_close"):
            return None
        payload = payloads.view_closed(self._app, user, view=current.view, is_cleared=cleared)
        got = await self._deliver("interactive", payloads.interaction_form(payload), FORM, payload)
        return BotReply(got.status, got.text)

    # ---- events and raw requests ----------------------------------------------------------------------------
    async def send_event(self, event: dict[str, Any]) -> BotReply:
        """Deliver `event` (e.g. `{"type": "app_uninstalled"}`) in an Events API envelope."""
        envelope = payloads.event_envelope(self._app, event, f"Ev{secrets.token_hex(5).upper()}")
        body = payloads.json_body(envelope)
        got = await self._deliver("events_api", body, JSON, envelope)
        return BotReply(got.status, got.text)

    async def send_interaction(self, payload: dict[str, Any]) -> BotReply:
        """Deliver an interaction `payload` exactly as given, the way Slack delivers one (signed, or over the
        socket): for payloads Slack would build differently, to see what the app does with them."""
        got = await self._deliver("interactive", payloads.interaction_form(payload), FORM, payload)
        return BotReply(got.status, got.text)

    async def send_raw(self, body: bytes, headers: dict[str, str]) -> BotReply:
        """POST `body` with exactly `headers` to the app over HTTP (for bad or missing signatures)."""
        if not self.events_url:
            raise RuntimeError("set bot_events_url (where the app listens) before sending")
        got = await self._http.post_raw(self.events_url, body, headers)
        return BotReply(got.status, got.text)


def _as_dict(got: Delivered) -> dict[str, Any] | None:
    body = got.body
    return body if isinstance(body, dict) else None
