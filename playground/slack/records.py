"""What the Slack emulator records and answers: small immutable values that tests and the console read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

MessageKind = Literal["dm", "channel", "ephemeral", "response_url", "ack"]


@dataclass(frozen=True)
class SlackUser:
    """A member of the emulated workspace, as `users.info` describes them."""

    id: str
    name: str
    real_name: str = ""
    email: str = ""
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    tz: str = "Europe/London"


@dataclass(frozen=True)
class Channel:
    """A conversation the workspace knows. `bot_member` decides whether the app may post into it."""

    id: str
    name: str
    bot_member: bool = False


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as it reached the emulator (args merged from query, form and JSON body)."""

    method: str
    args: dict[str, Any]
    token: str | None
    status: int = 200
    error: str | None = None


@dataclass(frozen=True)
class RecordedMessage:
    """A message some user (or a whole channel) sees.

    `kind`: "dm" (chat.postMessage into the app's DM with `user`), "channel" (chat.postMessage into a channel,
    `user` is None), "ephemeral" (chat.postEphemeral, only `user` sees it) or "response_url" (a new message
    posted through a response_url, seen by `user` unless `response_type` is "in_channel") or "ack" (the
    non-empty immediate reply to `user`'s slash command, shown like an ephemeral message).
    A post with `replace_original` takes over the kind and `ts` of the message it replaces; the replaced one
    stays in the history with `shown=False`. `seq` grows with every change, so "newer than" is `m.seq > n`.
    """

    kind: MessageKind
    channel: str
    user: str | None
    text: str
    blocks: list[dict[str, Any]]
    ts: str
    seq: int = 0
    replace_original: bool = False
    delete_original: bool = False
    response_url: str | None = None
    response_type: str | None = None
    thread_ts: str | None = None
    edited: bool = False
    shown: bool = True
    deleted: bool = False
    author: str | None = None  # who wrote it, for a person's own message (None: the app)
    links: tuple[str, ...] = ()  # the links Slack sent the app in `link_shared` for this message
    unfurls: Mapping[str, Any] = field(default_factory=dict)  # url -> what the app's chat.unfurl shows under it

    @property
    def is_ephemeral(self) -> bool:
        """True when only `user` sees it (chat.postEphemeral or an ephemeral response_url post)."""
        if self.kind in ("response_url", "ack"):
            return self.response_type != "in_channel"
        return self.kind == "ephemeral"


@dataclass(frozen=True)
class RecordedView:
    """A modal (or Home tab) as Slack currently shows it to `user_id`; `view` is the object Slack answers."""

    view_id: str
    user_id: str
    view: dict[str, Any]
    hash: str
    closed: bool = False
    seq: int = 0
    root_view_id: str = ""
    previous_view_id: str | None = None

    @property
    def type(self) -> str:
        return str(self.view.get("type", ""))

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id", ""))


@dataclass(frozen=True)
class CommandResult:
    """What happened when the emulator delivered a slash command.

    `status` is the bot's HTTP status (0 when no answer came: see `error`); `ack_body` is the reply body:
    None when empty, a dict when JSON, else the text. `error` is what Slack would show the user instead
    ("operation_timeout", "dispatch_failed", "http_client_error", "500_service_error"), None on success.
    """

    status: int
    ack_body: str | dict[str, Any] | None
    response_url: str
    trigger_id: str
    error: str | None = None


@dataclass(frozen=True)
class ActionResult:
    """What happened when the emulator delivered a `block_actions` payload (a click)."""

    status: int
    ack_body: str | dict[str, Any] | None
    response_url: str | None
    trigger_id: str
    error: str | None = None


@dataclass(frozen=True)
class ViewSubmitResult:
    """What happened when a user pressed Submit on a modal.

    `response` is the bot's reply parsed as JSON (None when empty). `client_errors` are the checks Slack's own
    client makes before sending anything (required field empty, bad email/URL/number); then `status` is 0.
    `error` is set when the bot did not answer usefully (Slack: "We had some trouble connecting").
    """

    status: int
    response: dict[str, Any] | None
    error: str | None = None
    client_errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> dict[str, str]:
        """Per-block error messages the user sees under the fields (from the client or `response_action`)."""
        if self.client_errors:
            return dict(self.client_errors)
        if self.response and self.response.get("response_action") == "errors":
            return {str(k): str(v) for k, v in (self.response.get("errors") or {}).items()}
        return {}


class BotReply(NamedTuple):
    """The bot's raw HTTP answer to a request the emulator sent (status 0: no answer)."""

    status: int
    text: str
