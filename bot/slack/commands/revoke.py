"""`/zoho-revoke` (admins: cut someone's Zoho access, list connections, read the audit).

`read_revoke` parses the text before the ack; after it, `run_revoke` checks on the server that the caller is an
admin (bot.slack.admin) and calls the revocation service (oauth.revocation). The words are bot.slack.views.revoke.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import re
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.slack.admin import AdminReason
from bot.slack.front_door import AckAnswer, Delivery, FrontDoor, Incoming, Needs, Visit, Work
from bot.slack.reply import Reply
from bot.slack.text import escape_truncated, truncate, typed_text
from bot.slack.views.revoke import (
    NOBODY_CONNECTED,
    NOT_ADMIN,
    REVOKE_ALL_ACTION,
    USAGE,
    all_summary,
    audit_line,
    connection_line,
    revoke_all_question,
    revoked_line,
    sections,
    who,
)
from oauth.revocation import Forgotten, RevokeOutcome
from store import ChatIdentity

AUDIT_ENTRIES = 20

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


# Doing it ----------------------------------------------------------------------------------------------------


def read_revoke(incoming: Incoming) -> Work[RevokeRequest] | AckAnswer:
    """Before the ack: usage and mistakes are answered at once; the rest waits its turn like any command."""
    request = parse_revoke_text(str(incoming.payload.get("text") or ""))
    if request.kind is RevokeKind.USAGE:
        return AckAnswer({"response_type": "ephemeral", "text": USAGE})
    if request.kind is RevokeKind.INVALID:
        return AckAnswer({"response_type": "ephemeral", "text": request.problem})
    return Work(request, name=f"/zoho-revoke {request.kind.value}", needs=Needs.NOTHING)


async def run_revoke(visit: Visit, request: RevokeRequest) -> None:
    """Checks on the server, at every use, that the caller is an admin; then one revocation-service call."""
    services, caller, reply = visit.services, visit.person, visit.reply
    if not await admin_or_say_no(visit, f"You typed `/zoho-revoke {request.typed}`."):
        return
    team_id, admin = caller.team_id, caller.user_id
    if request.kind is RevokeKind.LIST:
        connections = await asyncio.to_thread(services.store.connections.list, team_id)
        title = f"*{len(connections)} connected to Zoho CRM*"
        await _send_listing(reply, title, list(map(connection_line, connections)), NOBODY_CONNECTED)
        return
    if request.kind is RevokeKind.AUDIT:
        entries = await asyncio.to_thread(services.store.audit.list, team_id, AUDIT_ENTRIES)
        title = f"*Latest {len(entries)} audit entries, newest first*"
        await _send_listing(reply, title, list(map(audit_line, entries)), "The audit trail of this workspace is empty.")
        return
    if request.kind is RevokeKind.ALL:  # asks first: nothing happens without the button (run_revoke_all)
        connections = await asyncio.to_thread(services.store.connections.list, team_id)
        if not connections:
            await reply.send(all_summary([])[0])
            return
        await reply.send(**revoke_all_question(connections))
        return
    identities = [ChatIdentity(team_id=team_id, user_id=u) for u in request.user_ids]
    results = await services.revocation.forget_many(identities, admin, "revoke")
    lines = [
        revoked_line(r)
        if r.outcome is not RevokeOutcome.NOT_CONNECTED or await _is_member(visit, r.identity.user_id)
        else f"`{escape_truncated(r.identity.user_id, 40)}` is not a member of this workspace."
        for r in results
    ]
    await tell_and_answer(visit, results, lines)


def read_revoke_all(incoming: Incoming) -> Work[None]:
    """The Revoke all button under `/zoho-revoke --all`'s question: its answer replaces the question."""
    return Work(None, name="/zoho-revoke --all button", delivery=Delivery.IN_PLACE, needs=Needs.NOTHING)


async def run_revoke_all(visit: Visit, _: None) -> None:
    """The admin check again, on the click (an admin demoted since the question loses the right at once)."""
    if not await admin_or_say_no(visit, "You pressed Revoke all."):
        return
    caller = visit.person
    results = await visit.services.revocation.forget_workspace(caller.team_id, caller.user_id, "revoke_all")
    await tell_and_answer(visit, results, all_summary(results))


async def admin_or_say_no(visit: Visit, what: str) -> bool:
    """Whether the caller is an admin now (asked of Slack every time); when not, say so and that nothing changed.
    (The Home tab's admin buttons ask it too.)"""
    verdict = await visit.services.admin.check(visit.person)
    if verdict.allowed:
        return True
    text = NOT_ADMIN
    if verdict.reason is AdminReason.UNCONFIRMED:
        text += " Slack could not confirm whether you are an admin just now; please try again in a minute."
    await visit.reply.send(f"{text} Nothing was changed. {what}")
    return False


async def tell_and_answer(visit: Visit, results: list[Forgotten], lines: list[str]) -> None:
    """DM each person who lost access, then answer the admin (naming whom the DM did not reach)."""
    missed = await _tell_affected(visit, results, visit.person.user_id)
    if missed:
        lines.append("(I could not send a direct message to " + ", ".join(who(u) for u in missed) + ".)")
    await _send_lines(visit.reply, lines)


async def _tell_affected(visit: Visit, results: list[Forgotten], admin_user_id: str) -> list[str]:
    """DM each person whose connection went; return those the DM did not reach."""
    missed: list[str] = []
    for result in results:
        if result.outcome is RevokeOutcome.NOT_CONNECTED:
            continue
        text = f"Your Zoho CRM connection was revoked by <@{admin_user_id}>. Type `/lead login` to connect again."
        if not await visit.services.messenger.dm(result.identity.user_id, text):
            missed.append(result.identity.user_id)
    return missed


async def _is_member(visit: Visit, user_id: str) -> bool:
    """False only when Slack says there is no such user (a mistyped id); any other doubt counts as a member."""
    try:
        await visit.services.slack.users_info(user=user_id)
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


def register(door: FrontDoor) -> None:
    door.command("/zoho-revoke", read_revoke, run_revoke)
    door.action(REVOKE_ALL_ACTION, read_revoke_all, run_revoke_all)
