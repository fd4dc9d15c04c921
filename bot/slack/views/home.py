"""The App Home tab as Block Kit: the person's Zoho connection and latest Leads, and for admins the workspace's
connected people (a page at a time), the latest audit entries and the revocations still waiting for Zoho.

Pure: `home_view(home)` turns plain values into the view `views.publish` takes, within Block Kit's limits for a
Home tab (at most 100 blocks, whatever the number of people: they come `PEOPLE_PER_PAGE` at a time).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from bot.leads.model import Lead
from bot.slack.messages import connected_text
from bot.slack.text import escape_truncated, utc_minute
from bot.slack.views.lead_actions import LEAD_EDIT
from bot.slack.views.leads import lead_title
from bot.slack.views.revoke import NOBODY_CONNECTED, audit_line, connection_line, sections, who
from store import AuditEntry, Connection, WaitingRevocation

HOME_CONNECT = "home_connect"
HOME_DISCONNECT = "home_disconnect"
HOME_NEW_LEAD = "home_new_lead"
HOME_REVOKE = "home_revoke"
HOME_PEOPLE_PREV = "home_people_prev"
HOME_PEOPLE_NEXT = "home_people_next"

LATEST_LEADS = 5
PEOPLE_PER_PAGE = 40  # with everything else on the tab, well under the 100 blocks of a Home view
AUDIT_ON_HOME = 10
WAITING_NAMED = 10
MAX_HOME_BLOCKS = 100

Block = dict[str, Any]


@dataclass(frozen=True)
class AdminPart:
    """What an admin sees below their own part: the workspace's connections, audit and revocation queue."""

    people: tuple[Connection, ...]
    page: int
    audit: tuple[AuditEntry, ...]
    waiting: int  # revocations queued for Zoho
    waiting_named: tuple[WaitingRevocation, ...]  # the oldest of them

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.people) / PEOPLE_PER_PAGE))

    @property
    def shown_page(self) -> int:
        return min(max(1, self.page), self.pages)


@dataclass(frozen=True)
class Home:
    """Everything one person's Home tab shows."""

    connection: Connection | None
    leads: tuple[Lead, ...] = ()
    leads_problem: str = ""  # why the Leads could not be loaded ("" when they were)
    admin: AdminPart | None = None


def home_view(home: Home) -> dict[str, Any]:
    """The Home tab for `views.publish`; `private_metadata` keeps the people page shown (for its buttons)."""
    blocks = _your_part(home)
    page = 1
    if home.admin is not None:
        page = home.admin.shown_page
        blocks += _admin_part(home.admin)
    return {
        "type": "home",
        "private_metadata": json.dumps({"page": page}),
        "blocks": blocks[:MAX_HOME_BLOCKS],
    }


def page_of(view: dict[str, Any] | None) -> int:
    """The people page a published Home view shows (1 when it cannot be read)."""
    try:
        page = int(json.loads(str((view or {}).get("private_metadata") or "{}")).get("page", 1))
    except (ValueError, TypeError, AttributeError):
        return 1
    return max(1, page)


# ----- the person's own part -------------------------------------------------------------------------------------


def _your_part(home: Home) -> list[Block]:
    connection = home.connection
    blocks: list[Block] = [_header("Zoho CRM")]
    if connection is None:
        text = "You're not connected to Zoho CRM. Connect to create, list and edit Leads from Slack."
        return [*blocks, _section(text), _actions("you", [_button("Connect to Zoho CRM", HOME_CONNECT, "primary")])]
    since = f"Connected since {utc_minute(connection.created_at)}."
    blocks += [
        _section(f"{connected_text(connection)}\n{since}"),
        _actions(
            "you",
            [_button("New Lead", HOME_NEW_LEAD, "primary"), _disconnect_button(connection)],
        ),
        {"type": "divider"},
        _header("Your latest Leads"),
    ]
    return blocks + _latest_leads(home)


def _disconnect_button(connection: Connection) -> Block:
    account = escape_truncated(connection.zoho_email or "your Zoho account", 100)
    return _button(
        "Disconnect",
        HOME_DISCONNECT,
        "danger",
        confirm=_confirm(
            "Disconnect Zoho CRM?",
            f"The bot forgets {account} and revokes its access at Zoho. You can connect again any time.",
            "Disconnect",
        ),
    )


def _latest_leads(home: Home) -> list[Block]:
    if home.leads_problem:
        return [_section(f":warning: Your Leads could not be loaded: {home.leads_problem}")]
    if not home.leads:
        return [_section("You own no Leads yet. Press *New Lead* to create one.")]
    blocks = [_lead_section(index, lead) for index, lead in enumerate(home.leads[:LATEST_LEADS])]
    return [*blocks, _context("All of yours: `/lead list`; every Lead you may see: `/lead list all`.")]


def _lead_section(index: int, lead: Lead) -> Block:
    status = escape_truncated(lead.get("Lead_Status"), 100) or "no status"
    return {
        "type": "section",
        "block_id": f"lead_{index}",
        "text": {"type": "mrkdwn", "text": f"{lead_title(lead, 200, 200)}\n{status}"},
        "accessory": {
            "type": "button",
            "action_id": LEAD_EDIT,
            "text": {"type": "plain_text", "text": "Edit"},
            "value": lead.id[:2000],
        },
    }


# ----- the admin's part --------------------------------------------------------------------------------------


def _admin_part(admin: AdminPart) -> list[Block]:
    blocks: list[Block] = [{"type": "divider"}, _header("Workspace admin: Zoho CRM access")]
    blocks += _people(admin)
    blocks += [{"type": "divider"}, *_audit(admin), _waiting(admin)]
    return blocks


def _people(admin: AdminPart) -> list[Block]:
    count = len(admin.people)
    if not count:
        return [_section(NOBODY_CONNECTED)]
    page, pages = admin.shown_page, admin.pages
    first = (page - 1) * PEOPLE_PER_PAGE
    shown = admin.people[first : first + PEOPLE_PER_PAGE]
    where = f" · page {page} of {pages}" if pages > 1 else ""
    blocks = [_section(f"*{count} connected to Zoho CRM*{where}")]
    blocks += [_person(connection) for connection in shown]
    buttons = []
    if page > 1:
        buttons.append(_button("Previous", HOME_PEOPLE_PREV, value=str(page - 1)))
    if page < pages:
        buttons.append(_button("Next", HOME_PEOPLE_NEXT, value=str(page + 1)))
    if buttons:
        blocks.append(_actions("people_pages", buttons))
    return blocks


def _person(connection: Connection) -> Block:
    user_id = connection.identity.user_id
    account = escape_truncated(connection.zoho_email or "their Zoho account", 100)
    return {
        "type": "section",
        "block_id": f"person_{user_id}"[:255],
        "text": {"type": "mrkdwn", "text": connection_line(connection)[:3000]},
        "accessory": _button(
            "Revoke",
            HOME_REVOKE,
            "danger",
            value=user_id,
            confirm=_confirm(
                "Revoke this connection?",
                f"{who(user_id)} loses Zoho CRM access through the bot ({account}) and is told by DM.",
                "Revoke",
            ),
        ),
    }


def _audit(admin: AdminPart) -> list[Block]:
    if not admin.audit:
        return [_section("*Audit trail*\nNothing recorded yet.")]
    title = f"*Latest {len(admin.audit)} audit entries*, newest first (all of them: `/zoho-revoke --audit`)"
    return sections(title, [audit_line(entry) for entry in admin.audit], max_blocks=3)


def _waiting(admin: AdminPart) -> Block:
    if not admin.waiting:
        return _section("*Waiting for Zoho*\nNo revocation is waiting for Zoho: every one was confirmed.")
    lines = [
        f"• {who(entry.subject_user_id)} since {utc_minute(entry.created_at)}, {entry.attempts} retries"
        + (f" ({escape_truncated(entry.last_error, 100)})" if entry.last_error else "")
        for entry in admin.waiting_named
    ]
    more = admin.waiting - len(lines)
    if more > 0:
        lines.append(f"…and {more} more.")
    head = (
        f"*{admin.waiting} revocation{'s' if admin.waiting != 1 else ''} waiting for Zoho* "
        "(deleted here; retried in the background until Zoho confirms)"
    )
    return sections(head, lines, max_blocks=1)[0]


# ----- Block Kit pieces --------------------------------------------------------------------------------------------


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _actions(block_id: str, elements: list[Block]) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": elements}


def _button(
    text: str, action_id: str, style: str = "", *, value: str = "", confirm: dict[str, Any] | None = None
) -> Block:
    button: Block = {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}}
    if style:
        button["style"] = style
    if value:
        button["value"] = value
    if confirm:
        button["confirm"] = confirm
    return button


def _confirm(title: str, text: str, yes: str) -> dict[str, Any]:
    return {
        "title": {"type": "plain_text", "text": title[:100]},
        "text": {"type": "mrkdwn", "text": text[:300]},
        "confirm": {"type": "plain_text", "text": yes},
        "deny": {"type": "plain_text", "text": "Cancel"},
        "style": "danger",
    }
