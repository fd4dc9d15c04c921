"""CRM text in a Lead message can neither mention, link nor notify: escaped, and in `verbatim` text objects.

Escaping stops `<!channel>`; `verbatim: true` stops what Slack would otherwise find in plain text on its own
(a bare URL becomes a link, `#general` a channel link).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.leads.model import Lead, LeadPage
from bot.slack.views.leads import form_failed_message, lead_deleted_message, lead_page_message, lead_saved_message
from tests.bot.leads_fixtures import make_lead

HOSTILE = "<!channel> https://evil.test #general"
LEAD: Lead = make_lead(1, Company=HOSTILE, City=HOSTILE, Description=HOSTILE)

MESSAGES = {
    "a page of Leads": lambda: lead_page_message(LeadPage((LEAD,), page=1, has_more=False)),
    "a created Lead": lambda: lead_saved_message(LEAD, created=True),
    "a deleted Lead": lambda: lead_deleted_message(LEAD.id, LEAD),
    "a form that did not open": lambda: form_failed_message("expired_trigger_id", LEAD),
}


def mrkdwn_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            yield node
        for value in node.values():
            yield from mrkdwn_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_objects(item)


@pytest.mark.parametrize("build", MESSAGES.values(), ids=MESSAGES.keys())
def test_crm_text_is_shown_verbatim_and_escaped(build) -> None:  # noqa: ANN001
    message = build()
    carrying = [obj for obj in mrkdwn_objects(message["blocks"]) if "evil.test" in obj["text"]]

    assert carrying, json.dumps(message)
    for obj in carrying:
        assert obj.get("verbatim") is True, obj
        assert "&lt;!channel&gt;" in obj["text"] and "<!channel>" not in obj["text"]
    assert "<!channel>" not in json.dumps(message)
