"""The emulated workspace's state: members, conversations, messages, views, triggers and response URLs.

Plain in-memory data with no HTTP in it; the Web API routes and the outbound deliveries both act on it.
Every visible change bumps `seq` and wakes `wait_changed()` waiters.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from playground.slack.records import ApiCall, Channel, MessageKind, RecordedMessage, RecordedView, SlackUser

TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_MAX_POSTS = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60


@dataclass
class Trigger:
    """A trigger_id handed to the app with an interaction: single use, short-lived."""

    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseSink:
    """Where a response_url leads: the interaction's user and conversation (and message, for a click)."""

    sink_id: str
    user_id: str
    channel_id: str
    created_at: float
    message_ts: str | None = None
    posts: int = 0


@dataclass
class Fault:
    """A scripted failure for the next calls of one Web API method."""

    status: int
    remaining: int
    retry_after: int | None = None


@dataclass
class Workspace:
    """All the mutable state of one emulated Slack workspace with one installed app."""

    team_id: str
    team_name: str
    bot_user_id: str
    bot_id: str
    app_id: str
    clock: Callable[[], float] = time.monotonic
    trigger_ttl: float = TRIGGER_TTL_SECONDS
    users: dict[str, SlackUser] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    dm_ids: dict[str, str] = field(default_factory=dict)
    messages: list[RecordedMessage] = field(default_factory=list)
    views: dict[str, RecordedView] = field(default_factory=dict)
    home_tabs: dict[str, RecordedView] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    sinks: dict[str, ResponseSink] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    calls: list[ApiCall] = field(default_factory=list)
    unfurl_ids: dict[str, tuple[str, str]] = field(default_factory=dict)  # unfurl_id -> (channel, message ts)
    seq: int = 0
    _counter: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    # ---- ids -------------------------------------------------------------------------------------------
    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def new_ts(self) -> str:
        """A message timestamp, unique and increasing like Slack's `1700000000.000100`."""
        return f"{int(time.time())}.{self._next():06d}"

    def new_trigger(self, user_id: str) -> str:
        """Issue a trigger_id for an interaction of `user_id` (format `12345.98765.abcd2358fdea`)."""
        trigger_id = f"{self._next()}.{int(time.time()) % 100000}.{secrets.token_hex(6)}"
        self.triggers[trigger_id] = Trigger(user_id=user_id, issued_at=self.clock())
        return trigger_id

    def new_sink(self, user_id: str, channel_id: str, message_ts: str | None = None) -> ResponseSink:
        sink = ResponseSink(
            sink_id=f"{self._next()}{secrets.token_hex(8)}",
            user_id=user_id,
            channel_id=channel_id,
            created_at=self.clock(),
            message_ts=message_ts,
        )
        self.sinks[sink.sink_id] = sink
        return sink

    def new_view_id(self) -> str:
        return f"V{self._next():010d}"

    def new_hash(self) -> str:
        return f"{int(time.time())}.{secrets.token_hex(4)}"

    # ---- changes -----------------------------------------------------------------------------------------
    def _bump(self) -> int:
        self.seq += 1
        self._changed.set()
        self._changed = asyncio.Event()
        return self.seq

    async def wait_changed(self, timeout: float) -> bool:
        """Wait until the next visible change (message or view); False when `timeout` passed first."""
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # ---- conversations -----------------------------------------------------------------------------------
    def dm_id(self, user_id: str) -> str:
        """The stable `D…` id of the app's DM with `user_id` (opened on first use)."""
        if user_id not in self.dm_ids:
            self.dm_ids[user_id] = f"D{len(self.dm_ids) + 1:04d}{user_id[1:]}"[:16]
        return self.dm_ids[user_id]

    def dm_user(self, channel_id: str) -> str | None:
        """Whose DM with the app `channel_id` is (None when it is not such a DM)."""
        return next((u for u, d in self.dm_ids.items() if d == channel_id), None)

    def channel_name(self, channel_id: str) -> str:
        if channel_id.startswith("D"):
            return "directmessage"
        channel = self.channels.get(channel_id)
        return channel.name if channel else channel_id.lower()

    # ---- messages ----------------------------------------------------------------------------------------
    def record_message(
        self,
        *,
        kind: MessageKind,
        channel: str,
        user: str | None,
        text: str,
        blocks: list[dict[str, Any]],
        ts: str | None = None,
        **extra: Any,
    ) -> RecordedMessage:
        message = RecordedMessage(
            kind=kind,
            channel=channel,
            user=user,
            text=text,
            blocks=with_generated_ids(blocks),
            ts=ts or self.new_ts(),
            seq=self._bump(),
            **extra,
        )
        self.messages.append(message)
        return message

    def find_shown(self, channel: str, ts: str) -> tuple[int, RecordedMessage] | None:
        """The message currently shown at (`channel`, `ts`), with its index in the history."""
        for i in range(len(self.messages) - 1, -1, -1):
            m = self.messages[i]
            if m.channel == channel and m.ts == ts and m.shown:
                return i, m
        return None

    def update_message(self, index: int, **changes: Any) -> RecordedMessage:
        if "blocks" in changes:
            changes["blocks"] = with_generated_ids(changes["blocks"])
        updated = replace(self.messages[index], seq=self._bump(), **changes)
        self.messages[index] = updated
        return updated

    # ---- views -------------------------------------------------------------------------------------------
    def put_view(self, view: RecordedView) -> RecordedView:
        stored = replace(view, seq=self._bump())
        if stored.type == "home":
            self.home_tabs[stored.user_id] = stored
        else:
            self.views[stored.view_id] = stored
        return stored

    def view_stack(self, user_id: str) -> list[RecordedView]:
        """The user's open modals, root first (Slack shows the last one)."""
        return [v for v in self.views.values() if v.user_id == user_id and not v.closed and v.type == "modal"]

    def close_views(self, views: Iterator[RecordedView] | list[RecordedView]) -> None:
        for v in list(views):
            self.views[v.view_id] = replace(v, closed=True, seq=self._bump())

    # ---- faults ------------------------------------------------------------------------------------------
    def take_fault(self, method: str) -> Fault | None:
        """The scripted failure for this call of `method`, if any is left (consumes one)."""
        fault = self.faults.get(method)
        if fault is None or fault.remaining <= 0:
            return None
        fault.remaining -= 1
        if fault.remaining == 0:
            del self.faults[method]
        return fault

    def clear_activity(self) -> None:
        """Forget calls, messages, views, triggers, response URLs, DMs and faults; members and channels stay."""
        self.calls.clear()
        self.messages.clear()
        self.views.clear()
        self.home_tabs.clear()
        self.triggers.clear()
        self.sinks.clear()
        self.faults.clear()
        self.dm_ids.clear()
        self.unfurl_ids.clear()
        self._bump()


def with_generated_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of `blocks` where missing `block_id`s and element `action_id`s are filled, as Slack does."""
    result = copy.deepcopy(blocks)
    for block in result:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", secrets.token_urlsafe(4))
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        for el in elements:
            if isinstance(el, dict) and el.get("type") not in ("image", "mrkdwn", "plain_text"):
                el.setdefault("action_id", secrets.token_urlsafe(4))
    return result
