"""The `views.*` methods: modals opened with a trigger, updated by id/hash, pushed onto a stack of at most
three, and Home tabs published (docs/reference/slack.md §3, §8)."""

from __future__ import annotations

from typing import Any

from playground.slack.api_args import ApiError, json_arg, required_arg
from playground.slack.block_limits import view_problems, view_too_large
from playground.slack.records import RecordedView
from playground.slack.workspace import Workspace, with_generated_ids

MAX_PUSHES = 2


def _checked_view(args: dict[str, Any], surface: str = "modal") -> dict[str, Any]:
    view = json_arg(args, "view")
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
    user_id = required_arg(args, "user_id")
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
