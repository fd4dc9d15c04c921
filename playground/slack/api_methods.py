"""What each emulated Web API method does to the workspace and answers (docs/reference/slack.md §4); the
`views.*` methods are in `view_methods`.

Every method takes the workspace and the call's args (already merged from query, form and JSON) and returns
the success body; expected failures raise `ApiError`, answered by the route as HTTP 200 `{"ok": false, …}`.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable
from typing import Any

from playground.slack import view_methods
from playground.slack.api_args import ApiError, json_arg, required_arg
from playground.slack.block_limits import message_block_problems
from playground.slack.records import RecordedMessage, SlackUser
from playground.slack.workspace import Workspace

MAX_TEXT = 40_000


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = json_arg(args, "blocks")
    if blocks is None:
        return []
    problems = message_block_problems(blocks)
    if problems:
        raise ApiError("invalid_blocks", response_metadata={"messages": problems})
    return blocks


def _bot_message(ws: Workspace, message: RecordedMessage) -> dict[str, Any]:
    return {
        "type": "message",
        "user": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "app_id": ws.app_id,
        "team": ws.team_id,
        "text": message.text,
        "blocks": message.blocks,
        "ts": message.ts,
    }


def _resolve_channel(ws: Workspace, channel: str) -> tuple[str, str | None]:
    """(conversation id, DM user or None) for a `channel` arg; a user id means the app's DM with them."""
    if channel in ws.users:
        return ws.dm_id(channel), channel
    dm_user = ws.dm_user(channel)
    if dm_user is not None:
        return channel, dm_user
    known = ws.channels.get(channel)
    if known is None:
        raise ApiError("channel_not_found")
    if not known.bot_member:
        raise ApiError("not_in_channel")
    return channel, None


# ---- auth -------------------------------------------------------------------------------------------------
def auth_test(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    domain = ws.team_name.lower().replace(" ", "-")
    return {
        "url": f"https://{domain}.slack.com/",
        "team": ws.team_name,
        "user": "bot",
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


# ---- chat -------------------------------------------------------------------------------------------------
def chat_post_message(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel_id, dm_user = _resolve_channel(ws, required_arg(args, "channel"))
    blocks = _blocks(args)
    text = str(args.get("text") or "")[:MAX_TEXT]
    if not text and not blocks and not args.get("attachments"):
        raise ApiError("no_text")
    message = ws.record_message(
        kind="dm" if dm_user else "channel",
        channel=channel_id,
        user=dm_user,
        text=text,
        blocks=blocks,
        thread_ts=args.get("thread_ts"),
    )
    return {"channel": channel_id, "ts": message.ts, "message": _bot_message(ws, message)}


def chat_post_ephemeral(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user_id = required_arg(args, "user")
    channel = required_arg(args, "channel")
    if user_id not in ws.users:
        raise ApiError("user_not_found")
    if channel in ws.users and channel != user_id:
        raise ApiError("channel_not_found")
    channel_id, dm_user = _resolve_channel(ws, channel)
    if dm_user is not None and dm_user != user_id:
        raise ApiError("user_not_in_channel")
    blocks = _blocks(args)
    text = str(args.get("text") or "")[:MAX_TEXT]
    if not text and not blocks and not args.get("attachments"):
        raise ApiError("no_text")
    message = ws.record_message(kind="ephemeral", channel=channel_id, user=user_id, text=text, blocks=blocks)
    return {"message_ts": message.ts}


def chat_update(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel_id, _ = _resolve_channel(ws, required_arg(args, "channel"))
    ts = required_arg(args, "ts")
    found = ws.find_shown(channel_id, ts)
    if found is None or found[1].is_ephemeral:
        raise ApiError("message_not_found")
    index, current = found
    changes: dict[str, Any] = {"edited": True}
    if "blocks" in args:
        changes["blocks"] = _blocks(args)
    if "text" in args:
        changes["text"] = str(args.get("text") or "")[:MAX_TEXT]
    if not changes.get("text", current.text) and not changes.get("blocks", current.blocks):
        raise ApiError("no_text")
    message = ws.update_message(index, **changes)
    return {"channel": channel_id, "ts": ts, "text": message.text, "message": _bot_message(ws, message)}


def chat_delete(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    """Delete one of the app's own messages (a bot token deletes nothing else)."""
    channel_id, _ = _resolve_channel(ws, required_arg(args, "channel"))
    ts = required_arg(args, "ts")
    found = ws.find_shown(channel_id, ts)
    if found is None or found[1].is_ephemeral:
        raise ApiError("message_not_found")
    index, message = found
    if message.author is not None:
        raise ApiError("cant_delete_message")
    ws.update_message(index, shown=False, deleted=True)
    return {"channel": channel_id, "ts": ts}


def chat_unfurl(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    """Show the app's previews under the links of a message Slack sent `link_shared` for.

    The message is named by `unfurl_id` and `source`, or by `channel` and `ts`; every URL unfurled must be one of
    the links Slack sent for it, and every preview's blocks must be valid Block Kit.
    """
    unfurls = json_arg(args, "unfurls")
    if not isinstance(unfurls, dict) or not unfurls:
        raise ApiError("invalid_unfurls")
    if args.get("unfurl_id") or args.get("source"):
        where = ws.unfurl_ids.get(str(args.get("unfurl_id") or ""))
        if where is None or args.get("source") not in ("conversations_history", "composer"):
            raise ApiError("cannot_find_message")
        channel_id, ts = where
    else:
        channel_id, ts = required_arg(args, "channel"), required_arg(args, "ts")
        if channel_id not in ws.channels and ws.dm_user(channel_id) is None:
            raise ApiError("channel_not_found")
    found = ws.find_shown(channel_id, ts)
    if found is None:
        raise ApiError("cannot_find_message")
    index, message = found
    for url, unfurl in unfurls.items():
        if url not in message.links:
            raise ApiError("cannot_unfurl_url")
        blocks = unfurl.get("blocks") if isinstance(unfurl, dict) else None
        problems = message_block_problems(blocks) if isinstance(blocks, list) else ["each unfurl needs its blocks"]
        if problems:
            raise ApiError("invalid_blocks", response_metadata={"messages": problems})
    ws.update_message(index, unfurls={**message.unfurls, **unfurls})
    return {}


def chat_get_permalink(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    """A message's link; the app need not be in the channel (the person who ran a shortcut there was)."""
    channel_id = required_arg(args, "channel")
    if channel_id not in ws.channels and ws.dm_user(channel_id) is None:
        raise ApiError("channel_not_found")
    ts = required_arg(args, "message_ts")
    if ws.find_shown(channel_id, ts) is None:
        raise ApiError("message_not_found")
    domain = "".join(ch for ch in ws.team_name.lower() if ch.isalnum()) or "workspace"
    permalink = f"https://{domain}.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
    return {"channel": channel_id, "permalink": permalink}


# ---- conversations, users --------------------------------------------------------------------------------
def conversations_open(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    if args.get("channel"):
        user_id = ws.dm_user(str(args["channel"]))
        if user_id is None:
            raise ApiError("channel_not_found")
    else:
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 1:
            raise ApiError("not_supported", response_metadata={"messages": ["group DMs are not emulated"]})
        user_id = users[0]
        if user_id not in ws.users:
            raise ApiError("user_not_found")
    already_open = user_id in ws.dm_ids
    channel_id = ws.dm_id(user_id)
    if str(args.get("return_im", "")).lower() in ("1", "true"):
        channel = {"id": channel_id, "is_im": True, "user": user_id, "is_user_deleted": False, "priority": 0}
        return {"channel": channel, "no_op": already_open, "already_open": already_open}
    return {"channel": {"id": channel_id}}


def user_object(ws: Workspace, user: SlackUser, *, with_email: bool = False) -> dict[str, Any]:
    """A user as `users.info` and the `user_change` event describe them."""
    profile: dict[str, Any] = {
        "real_name": user.real_name,
        "display_name": user.name,
        "real_name_normalized": user.real_name,
        "display_name_normalized": user.name,
        "team": ws.team_id,
    }
    if with_email and user.email:
        profile["email"] = user.email
    return {
        "id": user.id,
        "team_id": ws.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_offset": _offset_now(user.tz),
        "profile": profile,
        "is_admin": user.is_admin,
        "is_owner": user.is_owner,
        "is_primary_owner": user.is_primary_owner,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": 1700000000,
    }


def users_info_with(scopes: frozenset[str]) -> Callable[[Workspace, dict[str, Any]], dict[str, Any]]:
    """`users.info`; `profile.email` is included only when the app holds `users:read.email`."""

    def users_info(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
        user = ws.users.get(required_arg(args, "user"))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": user_object(ws, user, with_email="users:read.email" in scopes)}

    return users_info


Method = Callable[[Workspace, dict[str, Any]], dict[str, Any]]


def method_table(scopes: frozenset[str]) -> dict[str, Method]:
    """The emulated methods by name (bot token ones; `apps.connections.open` is handled by the route)."""
    return {
        "auth.test": auth_test,
        "chat.postMessage": chat_post_message,
        "chat.postEphemeral": chat_post_ephemeral,
        "chat.update": chat_update,
        "chat.delete": chat_delete,
        "chat.unfurl": chat_unfurl,
        "chat.getPermalink": chat_get_permalink,
        "conversations.open": conversations_open,
        "users.info": users_info_with(scopes),
        "views.open": view_methods.views_open,
        "views.update": view_methods.views_update,
        "views.push": view_methods.views_push,
        "views.publish": view_methods.views_publish,
    }


def _offset_now(tz: str) -> int:
    """Slack's `tz_offset`: the zone's offset from UTC now, in seconds (0 for a zone this machine does not know)."""
    try:
        offset = datetime.datetime.now(zoneinfo.ZoneInfo(tz)).utcoffset()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds()) if offset is not None else 0
