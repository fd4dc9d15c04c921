"""`/zoho-revoke`'s answers in words: who was revoked, who is connected, what the audit trail says."""

from __future__ import annotations

import re
from typing import Any

from bot.slack.text import escape, escape_truncated, utc_minute
from oauth.datacentres import data_centre_name
from oauth.revocation import RETRY_ACTOR, Forgotten, RevokeOutcome
from store import Connection

UNINSTALL_ACTOR = "slack"  # the audit actor of app_uninstalled / tokens_revoked (no person sent them)
DEACTIVATION_ACTOR = "slack-deactivation"  # the audit actor when Slack deactivated the person
NOBODY_CONNECTED = "Nobody in this workspace is connected to Zoho CRM."
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")

USAGE = (
    "*`/zoho-revoke`* (workspace admins only)\n"
    "`/zoho-revoke @person` — revoke that person's Zoho CRM token and forget it\n"
    "`/zoho-revoke --all` — the same for everyone connected in this workspace (names them and asks first)\n"
    "`/zoho-revoke --list` — who is connected: Slack user, Zoho user, org, data centre, since\n"
    "`/zoho-revoke --audit` — the latest 20 logins, logouts and revocations"
)
NOT_ADMIN = "Only workspace admins can do this."
QUEUED_NOTE = (
    "Zoho could not be reached; the token is deleted here and the revocation at Zoho is queued "
    "and retried in the background."
)


def who(user_id: str | None) -> str:
    if user_id is None:
        return "nobody"
    if _USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    actors = {
        RETRY_ACTOR: "background retry",
        UNINSTALL_ACTOR: "Slack (app removed)",
        DEACTIVATION_ACTOR: "Slack (user deactivated)",
    }
    return actors.get(user_id, escape(user_id))


def _zoho(email: str | None) -> str:
    return f" ({escape(email)})" if email else ""


def revoked_line(result: Forgotten) -> str:
    """One sentence for the admin about one person."""
    person = who(result.identity.user_id)
    if result.outcome is RevokeOutcome.NOT_CONNECTED:
        return f"{person} has no Zoho connection."
    done = f"Revoked {person}'s Zoho CRM connection{_zoho(result.zoho_email)}."
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
        f"• {who(r.identity.user_id)}{_zoho(r.zoho_email)}: {words.get(r.outcome, r.outcome.value)}" for r in results
    ]
    return [head, *lines]


def connection_line(connection: Connection) -> str:
    org = connection.org_name or connection.org_id or "unknown org"
    since = utc_minute(connection.created_at)
    return (
        f"• {who(connection.identity.user_id)} — {escape(connection.zoho_email or 'unknown Zoho user')} · "
        f"{escape(org)} · {data_centre_name(connection.location)} data centre · since {since}"
    )


_AUDIT_ACTIONS = {
    "login": "connected",
    "logout": "logged out",
    "revoke": "revoked",
    "revoke_all": "revoked (everyone)",
    "uninstall": "forgot (app removed)",
}
_OWN_ACTIONS = frozenset({"login", "logout"})
_AUDIT_OUTCOMES = {
    "connected": "",
    "revoked": "confirmed by Zoho",
    "queued": "Zoho not reached yet; retrying",
    "not_connected": "was not connected",
}


def audit_line(entry: Any) -> str:
    """One entry in words: `2026-01-02 03:04 UTC` @ada revoked @ann (ann@acme.test): confirmed by Zoho."""
    when = utc_minute(entry.created_at)
    action = _AUDIT_ACTIONS.get(entry.action, entry.action)
    # "@ann connected", "@ann logged out": about themselves by nature; a revoke names whom, the admin too.
    own = entry.subject_user_id == entry.actor_user_id and entry.action in _OWN_ACTIONS
    subject = f" {who(entry.subject_user_id)}" if entry.subject_user_id and not own else ""
    outcome = _AUDIT_OUTCOMES.get(entry.outcome, entry.outcome)
    detail = f" — {escape_truncated(entry.detail, 120)}" if entry.detail else ""
    return (
        f"• `{when}` {who(entry.actor_user_id)} *{escape(action)}*{subject}{_zoho(entry.zoho_email)}"
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
    # verbatim: Zoho e-mail addresses and org names must not become links or channel mentions.
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk, "verbatim": True}} for chunk in chunks]


REVOKE_ALL_ACTION = "zoho_revoke_all"
NAMED_AT_MOST = 5


def revoke_all_question(connections: list[Connection]) -> dict[str, Any]:
    """`/zoho-revoke --all` asks first: who would lose access, and a Revoke all button that asks once more."""
    count = len(connections)
    people = "person" if count == 1 else "people"
    names = ", ".join(who(c.identity.user_id) for c in connections[:NAMED_AT_MOST])
    more = f" and {count - NAMED_AT_MOST} more" if count > NAMED_AT_MOST else ""
    text = (
        f"This revokes the Zoho CRM connection of {count} {people} in this workspace: {names}{more}. "
        f"Nothing happens until you press *Revoke all {count}*."
    )
    button = {
        "type": "button",
        "action_id": REVOKE_ALL_ACTION,
        "text": {"type": "plain_text", "text": f"Revoke all {count}"},
        "style": "danger",
        "value": str(count),
        "confirm": {
            "title": {"type": "plain_text", "text": "Revoke everyone?"},
            "text": {"type": "plain_text", "text": "Everyone connected when you press this loses Zoho CRM access."},
            "confirm": {"type": "plain_text", "text": "Revoke all"},
            "deny": {"type": "plain_text", "text": "Cancel"},
            "style": "danger",
        },
    }
    blocks = [
        {"type": "section", "block_id": "revoke_all_question", "text": {"type": "mrkdwn", "text": text}},
        {"type": "actions", "block_id": "revoke_all_buttons", "elements": [button]},
    ]
    return {"text": text, "blocks": blocks}
