"""A Zoho CRM Lead link, unfurled: the small card Slack shows under a message that carries the link.

Name and company, status and owner, and an "Open in Zoho" button that opens the link itself. Everything comes
from Zoho as the person who posted the link (bot.slack.commands.unfurls) and is escaped for mrkdwn.
"""

from __future__ import annotations

from typing import Any

from bot.leads.model import Lead
from bot.slack.text import escape_truncated
from bot.slack.views.leads import lead_title, mrkdwn_text

OPEN_IN_ZOHO = "zoho_open_lead"  # a link button: its click is acked and nothing more
URL_MAX = 3000  # Slack's limit for a button's url


def lead_card(lead: Lead, url: str) -> dict[str, Any]:
    """The unfurl of one Lead link: what `chat.unfurl` takes as the value for that URL."""
    status = escape_truncated(lead.get("Lead_Status"), 100) or "no status"
    owner = escape_truncated(lead.get("Owner"), 100) or "no owner"
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": mrkdwn_text(f"{lead_title(lead)}\nStatus: {status} · Owner: {owner}"),
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Zoho CRM Lead"}]},
    ]
    if len(url) <= URL_MAX:
        blocks[0]["accessory"] = {
            "type": "button",
            "action_id": OPEN_IN_ZOHO,
            "text": {"type": "plain_text", "text": "Open in Zoho"},
            "url": url,
        }
    return {"blocks": blocks}
