"""The `/lead help` text: what a person can type, with examples."""

from __future__ import annotations

from typing import Any

HELP_TITLE = "Zoho CRM Leads, from Slack"

COMMANDS: tuple[tuple[str, str], ...] = (
    ("/lead help", "this help"),
    ("/lead login", "send me a personal *Login with Zoho* link"),
    ("/lead whoami", "which Zoho user, org and data centre I'm connected as"),
    ("/lead logout", "disconnect my Zoho account (revokes the token at Zoho)"),
    ("/lead create", "open a form to create a Lead (`new` and `add` too)"),
    ('/lead create last=Doe first=Jane company="Acme Inc" email=jane@acme.test', "create a Lead at once"),
    ("/lead show <id>", "that Lead with all its fields (`get` too)"),
    ("/lead list", "the Leads I own, 10 a page"),
    ("/lead list all", "every Lead I may see"),
    (
        '/lead list acme  ·  /lead list "Acme Inc"  ·  /lead list <id>',
        "search the Leads I may see: a quoted phrase as one, an id finds that Lead (`search`, `find` too)",
    ),
    ("/lead edit <id>", "open a form with the Lead filled in"),
    ("/lead edit <id> phone=+15550100 status=Contacted", 'change only those fields (`city=""` clears one)'),
    ("/lead delete <id>", "delete that Lead"),
)

ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("/zoho-revoke @user", "cut that person's Zoho access now"),
    ("/zoho-revoke --all", "cut everyone's Zoho access in this workspace (asks first)"),
    ("/zoho-revoke --list", "who is connected, as whom, since when"),
    ("/zoho-revoke --audit", "the latest 20 logins, logouts and revokes"),
)

FIELD_KEYS = "first last company email phone mobile title website source status city country description"


def help_text() -> str:
    """Plain-text help, the notification fallback of `help_blocks`."""
    lines = [HELP_TITLE, ""]
    lines += [f"{cmd} — {what}" for cmd, what in COMMANDS]
    return "\n".join(lines)


def help_blocks(*, include_admin: bool = True) -> list[dict[str, Any]]:
    """The help as Block Kit blocks."""
    usage = "\n".join(f"`{cmd}` — {what}" for cmd, what in COMMANDS)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": HELP_TITLE}},
        {"type": "section", "text": {"type": "mrkdwn", "text": usage}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Fields: `{FIELD_KEYS}`, or any field's label or API name from your Zoho org, "
                    'its custom fields too (any case; a label with spaces in quotes: `"Lead Status"=Contacted`). '
                    'Values with spaces take quotes: `company="Acme Inc"`. Picklists take your org\'s values '
                    "in any case; dates `2026-12-24`, `today`, `tomorrow`, `24 Dec` (the nearest 24 Dec).",
                }
            ],
        },
    ]
    if include_admin:
        admin = "\n".join(f"`{cmd}` — {what}" for cmd, what in ADMIN_COMMANDS)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Workspace admins*\n{admin}"}})
    return blocks
