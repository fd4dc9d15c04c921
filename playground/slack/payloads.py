"""The bodies Slack sends to an app: slash command forms, interaction payloads, Events API envelopes.

Shapes per docs/reference/slack.md §1 and §3. Pure functions: ids, users and views come in as arguments.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from playground.slack.records import RecordedMessage, SlackUser


@dataclass(frozen=True)
class AppIdentity:
    """Who the payloads come from and go to: workspace and installed app."""

    team_id: str
    team_domain: str
    app_id: str
    bot_user_id: str
    verification_token: str


def _team(app: AppIdentity) -> dict[str, str]:
    return {"id": app.team_id, "domain": app.team_domain}


def _user(app: AppIdentity, user: SlackUser) -> dict[str, str]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": app.team_id}


def escape_typed_text(text: str) -> str:
    """What Slack does to the text a user typed: `&`, `<`, `>` become entities (in that order)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_ESCAPABLE = re.compile(
    r"(?P<url>\bhttps?://[^\s<>|]+)"
    r"|(?P<email>(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?<![\w<])(?P<sigil>[@#])(?P<name>[\w.\-]+)"
)
_TRAILING = ".,;:!?)"


def escape_for_app(text: str, users: Mapping[str, SlackUser], channels: Mapping[str, str]) -> str:
    """What a command with `should_escape` receives: `@name` of a member → `<@U…|name>`, `#name` of a channel
    → `<#C…|name>`, typed URLs → `<url>`, e-mail addresses → `<mailto:a@b|a@b>` ⚠ (links as Slack's client
    auto-links them; bare domains are left alone). `text` is already entity-escaped."""
    by_name = {u.name: u for u in users.values()}
    channel_by_name = {name: cid for cid, name in channels.items()}

    def escape(match: re.Match[str]) -> str:
        whole = match.group(0)
        core = whole.rstrip(_TRAILING)
        tail = whole[len(core) :]
        if match.group("url"):
            return f"<{core}>{tail}"
        if match.group("email"):
            return f"<mailto:{core}|{core}>{tail}"
        name = core[1:]
        if match.group("sigil") == "@" and name in by_name:
            return f"<@{by_name[name].id}|{name}>{tail}"
        if match.group("sigil") == "#" and name in channel_by_name:
            return f"<#{channel_by_name[name]}|{name}>{tail}"
        return whole

    return _ESCAPABLE.sub(escape, text)


def slash_command_form(
    app: AppIdentity,
    user: SlackUser,
    *,
    command: str,
    text: str,
    channel_id: str,
    channel_name: str,
    response_url: str,
    trigger_id: str,
) -> bytes:
    """The form-encoded body of a slash command, fields in Slack's order."""
    fields = [
        ("token", app.verification_token),
        ("team_id", app.team_id),
        ("team_domain", app.team_domain),
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user.id),
        ("user_name", user.name),
        ("command", command),
        ("text", text),
        ("api_app_id", app.app_id),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id),
    ]
    return urlencode(fields).encode()


def interaction_form(payload: dict[str, Any]) -> bytes:
    """An interaction delivery: one form field `payload` holding the JSON."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


def json_body(payload: dict[str, Any]) -> bytes:
    """A JSON delivery body (Events API)."""
    return json.dumps(payload, separators=(",", ":")).encode()


def _action_ts() -> str:
    return f"{time.time():.6f}"


def block_action(element: dict[str, Any], block_id: str, option: dict[str, Any] | None) -> dict[str, Any]:
    """One entry of `actions[]` for a pressed button or a chosen overflow/select option."""
    action: dict[str, Any] = {
        "type": element["type"],
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "action_ts": _action_ts(),
    }
    if element["type"] == "button":
        action["text"] = element.get("text")
        if "value" in element:
            action["value"] = element["value"]
        if "url" in element:
            action["url"] = element["url"]
        if "style" in element:
            action["style"] = element["style"]
    else:
        action["selected_option"] = option
        if element["type"] == "static_select":
            action["placeholder"] = element.get("placeholder")
    return action


def message_block_actions(
    app: AppIdentity,
    user: SlackUser,
    *,
    message: RecordedMessage,
    channel_name: str,
    action: dict[str, Any],
    response_url: str,
    trigger_id: str,
) -> dict[str, Any]:
    """A `block_actions` payload for a click on a message. Ephemeral messages carry no `message` ⚠."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(app, user),
        "api_app_id": app.app_id,
        "token": app.verification_token,
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": message.is_ephemeral,
        },
        "trigger_id": trigger_id,
        "team": _team(app),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": message.channel, "name": channel_name},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    if not message.is_ephemeral:
        payload["message"] = {
            "type": "message",
            "user": app.bot_user_id,
            "app_id": app.app_id,
            "team": app.team_id,
            "text": message.text,
            "blocks": message.blocks,
            "ts": message.ts,
        }
    return payload


def view_block_actions(
    app: AppIdentity, user: SlackUser, *, view: dict[str, Any], action: dict[str, Any], trigger_id: str
) -> dict[str, Any]:
    """A `block_actions` payload for a click on a view (the Home tab): the view comes along, and there is no
    channel, message or response_url ⚠."""
    return {
        "type": "block_actions",
        "user": _user(app, user),
        "api_app_id": app.app_id,
        "token": app.verification_token,
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": trigger_id,
        "team": _team(app),
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
        "actions": [action],
    }


def app_home_opened(user: SlackUser, channel_id: str, view: dict[str, Any] | None) -> dict[str, Any]:
    """The `app_home_opened` event for the Home tab; `view`: the Home view published before, if any."""
    event: dict[str, Any] = {"type": "app_home_opened", "user": user.id, "channel": channel_id, "tab": "home"}
    if view is not None:
        event["view"] = view
    return event


def link_shared(
    user: SlackUser, message: RecordedMessage, links: list[str], unfurl_id: str, *, bot_member: bool
) -> dict[str, Any]:
    """The `link_shared` event: `user` posted `message`, whose `links` are in the app's unfurl domains."""
    return {
        "type": "link_shared",
        "channel": message.channel,
        "is_bot_user_member": bot_member,
        "user": user.id,
        "message_ts": message.ts,
        "unfurl_id": unfurl_id,
        "source": "conversations_history",
        "links": [{"domain": urlsplit(url).hostname or "", "url": url} for url in links],
    }


def message_action(
    app: AppIdentity,
    user: SlackUser,
    *,
    callback_id: str,
    message: RecordedMessage,
    channel_name: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, Any]:
    """A `message_action` payload: `user` ran the message shortcut `callback_id` on `message`."""
    return {
        "type": "message_action",
        "token": app.verification_token,
        "action_ts": _action_ts(),
        "team": _team(app),
        "user": _user(app, user),
        "channel": {"id": message.channel, "name": channel_name},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "message_ts": message.ts,
        "message": {
            "type": "message",
            "user": message.author or app.bot_user_id,
            "text": message.text,
            "ts": message.ts,
            "team": app.team_id,
        },
    }


def view_submission(app: AppIdentity, user: SlackUser, *, view: dict[str, Any], trigger_id: str) -> dict[str, Any]:
    """A `view_submission` payload; `view` already carries `state.values`."""
    return {
        "type": "view_submission",
        "team": _team(app),
        "user": _user(app, user),
        "api_app_id": app.app_id,
        "token": app.verification_token,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def view_closed(app: AppIdentity, user: SlackUser, *, view: dict[str, Any], is_cleared: bool) -> dict[str, Any]:
    """A `view_closed` payload (sent only for views opened with `notify_on_close`)."""
    return {
        "type": "view_closed",
        "team": _team(app),
        "user": _user(app, user),
        "api_app_id": app.app_id,
        "token": app.verification_token,
        "view": view,
        "is_cleared": is_cleared,
        "enterprise": None,
        "is_enterprise_install": False,
    }


def event_envelope(app: AppIdentity, event: dict[str, Any], event_id: str) -> dict[str, Any]:
    """An Events API `event_callback` envelope around `event`."""
    now = int(time.time())
    return {
        "token": app.verification_token,
        "team_id": app.team_id,
        "api_app_id": app.app_id,
        "event": {"event_ts": f"{time.time():.6f}", **event},
        "type": "event_callback",
        "event_id": event_id,
        "event_time": now,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": app.team_id,
                "user_id": app.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
