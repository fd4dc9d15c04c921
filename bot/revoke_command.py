"""`/zoho-revoke` (admins: cut someone's Zoho access, list connections, read the audit) and `/lead logout`.

The handler acks at once, then checks on the server that the caller is an admin (bot.admin) and calls the
revocation service (oauth.revocation) in the background; the answer goes back through `Reply`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import re
from dataclasses import dataclass
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.admin import AdminReason
from bot.lead_command import LeadCall, register_subcommand
from bot.leads.slack_text import typed_text
from bot.mrkdwn import escape, escape_truncated, truncate
from bot.reply import Reply
from bot.services import BotServices
from oauth.datacentres import data_centre_name
from oauth.revocation import RETRY_ACTOR, Forgotten, RevokeOutcome
from store import ChatIdentity, Connection

UNINSTALL_ACTOR = "slack"  # the audit actor of app_uninstalled / tokens_revoked (no person sent them)
AUDIT_ENTRIES = 20
NOBODY_CONNECTED = "Nobody in this workspace is connected to Zoho CRM."

USAGE = (
    "*`/zoho-revoke`* (workspace admins only)\n"
    "`/zoho-revoke @person` — revoke that person's Zoho CRM token and forget it\n"
    "`/zoho-revoke --all` — the same for everyone connected in this workspace\n"
    "`/zoho-revoke --list` — who is connected: Slack user, Zoho user, org, data centre, since\n"
    "`/zoho-revoke --audit` — the latest 20 logins, logouts and revocations"
)
NOT_ADMIN = "Only workspace admins can do this."
QUEUED_NOTE = (
    "Zoho could not be reached; the token is deleted here and the revocation at Zoho is queued "
    "and retried in the background."
)

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_TYPED_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)(?:\|[^<>&]*)?&gt;")  # `<@U…>` typed out: Slack escapes it
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_TOKEN = re.compile(r"<[^<>]*>|\S+")


class RevokeKind(enum.Enum):
    USAGE = "usage"
    INVALID = "invalid"
    USERS = "users"
    ALL = "all"
    LIST = "list"
    AUDIT = "audit"


@dataclass(frozen=True)
class RevokeRequest:
    """What `/zoho-revoke` was asked to do, as plain values."""

    kind: RevokeKind
    user_ids: tuple[str, ...] = ()
    problem: str = ""
    typed: str = ""  # the text as typed, escaped for mrkdwn, for echoing


_FLAGS = {"--all": RevokeKind.ALL, "--list": RevokeKind.LIST, "--audit": RevokeKind.AUDIT}


def parse_revoke_text(raw: str) -> RevokeRequest:
    """Read the command text as Slack delivers it (mentions escaped as `<@U…|name>`)."""
    shown = escape_truncated(typed_text(raw).strip(), 200)
    request = _parse(raw, shown)
    return dataclasses.replace(request, typed=shown)


def _parse(raw: str, shown: str) -> RevokeRequest:
    tokens = _TOKEN.findall(raw.strip())
    if not tokens or (len(tokens) == 1 and tokens[0].lower() in ("help", "--help", "-h")):
        return RevokeRequest(RevokeKind.USAGE)
    flags = [t.lower() for t in tokens if t.lower() in _FLAGS]
    if flags:
        if len(tokens) > 1:
            return _invalid(f"`{flags[0]}` goes on its own; you typed `/zoho-revoke {shown}`.")
        return RevokeRequest(_FLAGS[flags[0]])
    user_ids: list[str] = []
    for token in tokens:
        mention = _MENTION.fullmatch(token) or _TYPED_MENTION.fullmatch(token)
        if mention:
            user_ids.append(mention.group(1))
        elif _USER_ID.fullmatch(token):
            user_ids.append(token)
        elif token.startswith("@"):
            return _invalid(
                f"I can't tell who `{escape_truncated(token, 80)}` is: Slack sent a name, not a person. "
                "Mention the person (pick them from the list that appears as you type @) so Slack sends their id, "
                f"or give their member id (`U…`). You typed `/zoho-revoke {shown}`."
            )
        else:
            return _invalid(
                f"I don't understand `{escape_truncated(typed_text(token), 80)}` in `/zoho-revoke {shown}`. "
                "Mention a person, or use `--all`, `--list` or `--audit`."
            )
    return RevokeRequest(RevokeKind.USERS, tuple(dict.fromkeys(user_ids)))


def _invalid(problem: str) -> RevokeRequest:
    return RevokeRequest(RevokeKind.INVALID, problem=f"{problem}\n\n{USAGE}")


# Rendering ---------------------------------------------------------------------------------------------------


def _who(user_id: str | None) -> str:
    if user_id is None:
        return "nobody"
    if _USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return {RETRY_ACTOR: "background retry", UNINSTALL_ACTOR: "Slack (app removed)"}.get(user_id, escape(user_id))


def _zoho(email: str | None) -> str:
    return f" ({escape(email)})" if email else ""


def revoked_line(result: Forgotten) -> str:
    """One sentence for the admin about one person."""
    who = _who(result.identity.user_id)
    if result.outcome is RevokeOutcome.NOT_CONNECTED:
        return f"{who} has no Zoho connection."
    done = f"Revoked {who}'s Zoho CRM connection{_zoho(result.zoho_email)}."
    if result.outcome is RevokeOutcome.QUEUED:
        return f"{done} {QUEUED_NOTE}"
    return f"{done} Zoho confirmed the revocation."


def all_summary(results: list[Forgotten]) -> list[str]:
    if not results:
        return ["Nobody in this workspace is connected to Zoho CRM; there was nothing to revoke."]
    queued = sum(r.outcome is RevokeOutcome.QUEUED for r in results)
    gone = [r for r in results if r.outcome is not RevokeOutcome.NOT_CONNECTED]
    head = (
        f"Revoked {len(gone)} Zoho CRM connection{'s' if len(gone) != 1 else ''} in this workspace "
        f"({len(gone) - queued} confirmed by Zoho, {queued} queued)."
    )
    if queued:
        head += f" {QUEUED_NOTE}"
    words = {
        RevokeOutcome.REVOKED: "revoked, confirmed by Zoho",
        RevokeOutcome.QUEUED: "deleted here; Zoho not reached yet, retrying",
        RevokeOutcome.NOT_CONNECTED: "was no longer connected",
    }
    lines = [
        f"• {_who(r.identity.user_id)}{_zoho(r.zoho_email)}: {words.get(r.outcome, r.outcome.value)}" for r in results
    ]
    return [head, *lines]


def connection_line(connection: Connection) -> str:
    org = connection.org_name or connection.org_id or "unknown org"
    since = connection.created_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"• {_who(connection.identity.user_id)} — {escape(connection.zoho_email or 'unknown Zoho user')} · "
        f"{escape(org)} · {data_centre_name(connection.location)} data centre · since {since}"
    )


_AUDIT_ACTIONS = {
    "login": "connected",
    "logout": "logged out",
    "revoke": "revoked",
    "revoke_all": "revoked (everyone)",
    "uninstall": "forgot (app removed)",
}
_AUDIT_OUTCOMES = {
    "connected": "",
    "revoked": "confirmed by Zoho",
    "queued": "Zoho not reached yet; retrying",
    "not_connected": "was not connected",
}


def audit_line(entry: Any) -> str:
    """One entry in words: `2026-01-02 03:04 UTC` @ada revoked @ann (ann@acme.test): confirmed by Zoho."""
    when = entry.created_at.strftime("%Y-%m-%d %H:%M UTC")
    action = _AUDIT_ACTIONS.get(entry.action, entry.action)
    self_action = entry.subject_user_id == entry.actor_user_id
    subject = f" {_who(entry.subject_user_id)}" if entry.subject_user_id and not self_action else ""
    outcome = _AUDIT_OUTCOMES.get(entry.outcome, entry.outcome)
    detail = f" — {escape_truncated(entry.detail, 120)}" if entry.detail else ""
    return (
        f"• `{when}` {_who(entry.actor_user_id)} *{escape(action)}*{subject}{_zoho(entry.zoho_email)}"
        f"{': ' + escape(outcome) if outcome else ''}{detail}"
    )


def sections(title: str, lines: list[str], limit: int = 2900, max_blocks: int = 20) -> list[dict[str, Any]]:
    """`title` and `lines` as mrkdwn sections within Block Kit's 3000-character limit, at most `max_blocks`
    of them; what does not fit is counted in a last line."""
    chunks: list[str] = [title]
    shown = 0
    for line in lines:
        if len(chunks[-1]) + 1 + len(line) <= limit:
            chunks[-1] += "\n" + line
        elif len(chunks) < max_blocks - 1:
            chunks.append(line)
        else:
            break
        shown += 1
    if shown < len(lines):
        chunks.append(f"…and {len(lines) - shown} more.")
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in chunks]


# Doing it ----------------------------------------------------------------------------------------------------


async def _tell_affected(services: BotServices, results: list[Forgotten], admin_user_id: str) -> list[str]:
    """DM each person whose connection went; return those the DM did not reach."""
    missed: list[str] = []
    for result in results:
        if result.outcome is RevokeOutcome.NOT_CONNECTED:
            continue
        text = f"Your Zoho CRM connection was revoked by <@{admin_user_id}>. Type `/lead login` to connect again."
        if not await services.messenger.dm(result.identity.user_id, text):
            missed.append(result.identity.user_id)
    return missed


async def _run(services: BotServices, caller: ChatIdentity, request: RevokeRequest, respond: Any) -> None:
    async with Reply(respond, what=f"/zoho-revoke {request.kind.value}") as reply:
        verdict = await services.admin.check(caller)
        if not verdict.allowed:
            text = NOT_ADMIN
            if verdict.reason is AdminReason.UNCONFIRMED:
                text += " Slack could not confirm whether you are an admin just now; please try again in a minute."
            text += f" Nothing was changed. You typed `/zoho-revoke {request.typed}`."
            await reply.send(text)
            return
        team_id, admin = caller.team_id, caller.user_id
        store = services.store
        if request.kind is RevokeKind.LIST:
            connections = await asyncio.to_thread(store.connections.list, team_id)
            title = f"*{len(connections)} connected to Zoho CRM*"
            await _send_listing(reply, title, list(map(connection_line, connections)), NOBODY_CONNECTED)
            return
        if request.kind is RevokeKind.AUDIT:
            entries = await asyncio.to_thread(store.audit.list, team_id, AUDIT_ENTRIES)
            title = f"*Latest {len(entries)} audit entries, newest first*"
            await _send_listing(
                reply, title, list(map(audit_line, entries)), "The audit trail of this workspace is empty."
            )
            return
        if request.kind is RevokeKind.ALL:
            results = await services.revocation.forget_workspace(team_id, admin, "revoke_all")
            lines = all_summary(results)
        else:
            identities = [ChatIdentity(team_id=team_id, user_id=u) for u in request.user_ids]
            results = await services.revocation.forget_many(identities, admin, "revoke")
            lines = [
                revoked_line(r)
                if r.outcome is not RevokeOutcome.NOT_CONNECTED or await _is_member(services, r.identity.user_id)
                else f"`{escape_truncated(r.identity.user_id, 40)}` is not a member of this workspace."
                for r in results
            ]
        missed = await _tell_affected(services, results, admin)
        if missed:
            lines.append("(I could not send a direct message to " + ", ".join(_who(u) for u in missed) + ".)")
        await _send_lines(reply, lines)


async def _is_member(services: BotServices, user_id: str) -> bool:
    """False only when Slack says there is no such user (a mistyped id); any other doubt counts as a member."""
    try:
        await services.slack.users_info(user=user_id)
    except SlackApiError as exc:
        return exc.response.get("error") != "user_not_found"
    except Exception:
        return True
    return True


async def _send_listing(reply: Reply, title: str, lines: list[str], when_empty: str) -> None:
    """A titled list, or `when_empty` when there is nothing to list."""
    if not lines:
        await reply.send(when_empty)
        return
    await _send_lines(reply, [title, *lines])


async def _send_lines(reply: Reply, lines: list[str]) -> None:
    """The answer as text (the notification fallback) and as sections that respect Block Kit's limits."""
    await reply.send(truncate("\n".join(lines), 3000), blocks=sections(lines[0], lines[1:]))


async def _logout(services: BotServices, call: LeadCall, reply: Reply, connection: Connection) -> None:
    """`/lead logout`: the caller's own connection, revoked at Zoho and forgotten here."""
    result = await services.revocation.forget(call.identity, call.identity.user_id, "logout")
    if result.outcome is RevokeOutcome.NOT_CONNECTED:
        await reply.send("You're not connected to Zoho CRM, so there is nothing to log out of.")
        return
    done = f"Logged out of Zoho CRM{_zoho(result.zoho_email or connection.zoho_email)}."
    if result.outcome is RevokeOutcome.QUEUED:
        await reply.send(
            f"{done} Zoho could not be reached, so your token is deleted here and its revocation at Zoho is "
            "queued and retried in the background."
        )
    else:
        await reply.send(f"{done} Your token was revoked at Zoho.")


def register_revoke_command(app: AsyncApp, services: BotServices) -> None:
    """Attach `/zoho-revoke` to the bolt app, and `logout` to `/lead`."""
    register_subcommand("logout", _logout)

    @app.command("/zoho-revoke")
    async def zoho_revoke(ack: Any, command: dict[str, Any], respond: Any) -> None:
        request = parse_revoke_text(command.get("text") or "")
        if request.kind is RevokeKind.USAGE:
            await ack(response_type="ephemeral", text=USAGE)
            return
        if request.kind is RevokeKind.INVALID:
            await ack(response_type="ephemeral", text=request.problem)
            return
        await ack()
        caller = ChatIdentity(team_id=command["team_id"], user_id=command["user_id"])
        services.background.spawn(_run(services, caller, request, respond), name=f"/zoho-revoke {request.kind.value}")
