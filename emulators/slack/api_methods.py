"""What each emulated Web API method does to the workspace and answers (reference/slack.md §3, §4).

Every method takes the workspace and the call's args (already merged from query, form and JSON) and returns
the success body; expected failures raise `ApiError`, answered by the route as HTTP 200 `{"ok": false, …}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from emulators.slack.block_limits import message_block_problems, view_problems, view_too_large
from emulators.slack.records import RecordedMessage, RecordedView, SlackUser
from emulators.slack.workspace import Workspace, with_generated_ids

MAX_TEXT = 40_000
MAX_PUSHES = 2


class ApiError(Exception):
    """A Slack error answer: `{"ok": false, "error": code, **extra}`."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def _json_arg(args: dict[str, Any], name: str) -> Any:
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] bad JSON: {name}"]}) from exc
    return value


def _required(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if value in (None, ""):
        raise ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] missing required field: {name}"]})
    return str(value)


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = _json_arg(args, "blocks")
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
    channel_id, dm_user = _resolve_channel(ws, _required(args, "channel"))
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
    user_id = _required(args, "user")
    channel = _required(args, "channel")
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
    channel_id, _ = _resolve_channel(ws, _required(args, "channel"))
    ts = _required(args, "ts")
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


def _user_object(ws: Workspace, user: SlackUser, *, with_email: bool) -> dict[str, Any]:
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
        user = ws.users.get(_required(args, "user"))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": _user_object(ws, user, with_email="users:read.email" in scopes)}

    return users_info


# ---- views ------------------------------------------------------------------------------------------------
def _checked_view(args: dict[str, Any], surface: str = "modal") -> dict[str, Any]:
    view = _json_arg(args, "view")
    if view is None:
        raise ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: view"]})
    if view_too_large(view):
        raise ApiError("view_too_large")
    problems = view_problems(view, surface=surface)
    if problems:
        raise ApiError("invalid_arguments", response_metadata={"messages": problems})
    return view


def _use_trigger(ws: Workspace, args: dict[str, Any]) -> str:
    """Exchange a trigger_id for the user it was issued to, or raise the error Slack gives."""
    trigger = ws.triggers.get(str(args.get("trigger_id") or ""))
    if trigger is None:
        raise ApiError("invalid_trigger_id")
    if trigger.used:
        raise ApiError("exchanged_trigger_id")
    if ws.clock() - trigger.issued_at > ws.trigger_ttl:
        raise ApiError("expired_trigger_id")
    trigger.used = True
    return trigger.user_id


def view_object(
    ws: Workspace, view_id: str, view: dict[str, Any], view_hash: str, root: str, previous: str | None
) -> dict[str, Any]:
    """The view as Slack answers it (and sends it back in `view_submission`)."""
    return {
        "id": view_id,
        "team_id": ws.team_id,
        "type": view["type"],
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": view_hash,
        "title": view.get("title"),
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "close": view.get("close"),
        "submit": view.get("submit"),
        "previous_view_id": previous,
        "root_view_id": root,
        "app_id": ws.app_id,
        "external_id": view.get("external_id", ""),
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
    }


def store_view(
    ws: Workspace, user_id: str, view: dict[str, Any], *, view_id: str | None = None, previous: str | None = None
) -> RecordedView:
    """Record `view` as shown to `user_id` (new id unless `view_id` is given; keeps its place in the stack)."""
    old = ws.views.get(view_id) if view_id else None
    view = {**view, "blocks": with_generated_ids(view.get("blocks") or [])}
    new_id = view_id or ws.new_view_id()
    root = old.root_view_id if old else (ws.view_stack(user_id)[0].view_id if previous else new_id)
    prev = old.previous_view_id if old else previous
    view_hash = ws.new_hash()
    obj = view_object(ws, new_id, view, view_hash, root, prev)
    recorded = RecordedView(
        view_id=new_id, user_id=user_id, view=obj, hash=view_hash, root_view_id=root, previous_view_id=prev
    )
    return ws.put_view(recorded)


def views_open(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    view = _checked_view(args)
    user_id = _use_trigger(ws, args)
    ws.close_views(ws.view_stack(user_id))
    return {"view": store_view(ws, user_id, view).view}


def views_push(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    view = _checked_view(args)
    user_id = _use_trigger(ws, args)
    stack = ws.view_stack(user_id)
    if not stack:  # nothing to push onto: Slack opens it as the root ⚠
        return {"view": store_view(ws, user_id, view).view}
    if len(stack) > MAX_PUSHES:
        raise ApiError("push_limit_reached")
    return {"view": store_view(ws, user_id, view, previous=stack[-1].view_id).view}


def _find_view(ws: Workspace, args: dict[str, Any]) -> RecordedView:
    if args.get("view_id"):
        found = ws.views.get(str(args["view_id"]))
    elif args.get("external_id"):
        ext = str(args["external_id"])
        found = next((v for v in ws.views.values() if v.view.get("external_id") == ext and not v.closed), None)
    else:
        raise ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] view_id or external_id"]})
    if found is None or found.closed:
        raise ApiError("not_found")
    return found


def views_update(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    view = _checked_view(args)
    current = _find_view(ws, args)
    if args.get("hash") and args["hash"] != current.hash:
        raise ApiError("hash_conflict")
    return {"view": store_view(ws, current.user_id, view, view_id=current.view_id).view}


def views_publish(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user_id = _required(args, "user_id")
    if user_id not in ws.users:
        raise ApiError("user_not_found")
    view = _checked_view(args, surface="home")
    current = ws.home_tabs.get(user_id)
    if current and args.get("hash") and args["hash"] != current.hash:
        raise ApiError("hash_conflict")
    view_id = current.view_id if current else ws.new_view_id()
    view_hash = ws.new_hash()
    obj = view_object(ws, view_id, view, view_hash, view_id, None)
    return {"view": ws.put_view(RecordedView(view_id, user_id, obj, view_hash, root_view_id=view_id)).view}


Method = Callable[[Workspace, dict[str, Any]], dict[str, Any]]


def method_table(scopes: frozenset[str]) -> dict[str, Method]:
    """The emulated methods by name (bot token ones; `apps.connections.open` is handled by the route)."""
    return {
        "auth.test": auth_test,
        "chat.postMessage": chat_post_message,
        "chat.postEphemeral": chat_post_ephemeral,
        "chat.update": chat_update,
        "conversations.open": conversations_open,
        "users.info": users_info_with(scopes),
        "views.open": views_open,
        "views.update": views_update,
        "views.push": views_push,
        "views.publish": views_publish,
    }
