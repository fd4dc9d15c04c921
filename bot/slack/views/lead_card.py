"""One Lead as a message (`/lead show <id>`): every field that has a value, who owns it, when it was created and
last changed, and Edit / Delete; and what a Lead's old message becomes when the Lead is gone.

Fields come in the org's layout order, labelled as the org labels them; a value Zoho returned for a field the
metadata does not name is shown under its API name, after the others. Block Kit limits hold for any Lead: long
values are cut, and the lines are spread over sections of at most 3000 characters.
"""

from __future__ import annotations

from bot.leads.fields import OrgFields
from bot.leads.model import Lead
from bot.slack.views.leads import (
    MAX_BLOCKS,
    SECTION_TEXT_MAX,
    TEXT_FALLBACK_MAX,
    Block,
    Message,
    escaped_line,
    lead_buttons,
    lead_title,
    moment_text,
    mrkdwn_text,
    shown_value,
)

# Shown in the title or the footer instead of as a line of their own.
_SHOWN_APART = frozenset(
    {"First_Name", "Last_Name", "Full_Name", "Company", "Owner", "Created_Time", "Created_By", "Modified_Time"}
).union({"Modified_By"})
# Zoho's own bookkeeping: true of every Lead, telling a person nothing about this one.
_BOOKKEEPING = frozenset({"Layout", "Record_Status__s", "Last_Activity_Time", "Tag", "Converted__s", "Locked__s"})
_TIMES = (("Created", "Created_Time", "Created_By"), ("Modified", "Modified_Time", "Modified_By"))
VALUE_MAX = 1000  # a long Description is cut here: the whole of it is in Zoho
_SECTIONS_MAX = MAX_BLOCKS - 3  # besides the footer, the buttons and one spare


def field_lines(lead: Lead, org_fields: OrgFields) -> list[str]:
    """`Label: value` for every field of `lead` that has a value, in the org's layout order, then the rest."""
    in_layout = [f.api_name for f in org_fields if f.api_name in lead.values]
    others = sorted(name for name in lead.values if org_fields.get(name) is None)
    lines: list[str] = []
    for api_name in in_layout + others:
        if api_name in _SHOWN_APART or api_name in _BOOKKEEPING:
            continue
        label = escaped_line(org_fields.label(api_name), 100)
        field = org_fields.get(api_name)
        value = shown_value(lead.get(api_name), field.kind if field else None)
        lines.append(f"*{label}:* {escaped_line(value, VALUE_MAX)}")
    return lines


def _footer(lead: Lead) -> str:
    parts = []
    if lead.owner:
        parts.append(f"Owner: {escaped_line(lead.owner, 120)}")
    for what, time_field, by_field in _TIMES:
        if lead.get(time_field):
            by = f" by {escaped_line(lead.get(by_field), 120)}" if lead.get(by_field) else ""
            parts.append(f"{what} {escaped_line(moment_text(lead.get(time_field)), 60)}{by}")
    return " · ".join(parts)


def _sections(lines: list[str]) -> list[str]:
    """The lines spread over as few sections as fit (each within Slack's 3000 characters)."""
    sections: list[str] = []
    current: list[str] = []
    for line in lines:
        if current and len("\n".join([*current, line])) > SECTION_TEXT_MAX:
            sections.append("\n".join(current))
            current = []
        current.append(line)
    if current:
        sections.append("\n".join(current))
    return sections


def lead_card_message(lead: Lead, org_fields: OrgFields, notice: str = "") -> Message:
    """The whole Lead: its name and id, every field with a value, owner and times, then Edit / Delete.
    `notice` (mrkdwn, escaped): a line above it, such as why the card replaced an older message."""
    headline = f"Lead {lead_title(lead)} — id `{escaped_line(lead.id, 60)}`"
    blocks: list[Block] = []
    if notice:
        blocks.append({"type": "section", "block_id": "lead_card_notice", "text": mrkdwn_text(notice)})
    lines = field_lines(lead, org_fields) or ["_No other fields have a value._"]
    sections = _sections([headline, *lines])
    if len(sections) > _SECTIONS_MAX:
        sections = [*sections[: _SECTIONS_MAX - 1], "_…and more fields: see the Lead in Zoho CRM._"]
    for index, text in enumerate(sections):
        blocks.append({"type": "section", "block_id": f"lead_card_{index}", "text": mrkdwn_text(text)})
    footer = _footer(lead)
    if footer:
        blocks.append({"type": "context", "block_id": "lead_card_footer", "elements": [mrkdwn_text(footer)]})
    blocks.append(lead_buttons(lead, "lead_card_buttons"))
    return {"text": headline[:TEXT_FALLBACK_MAX], "blocks": blocks}


def lead_gone_message(lead_id: str) -> Message:
    """What a message about a Lead becomes once the Lead is gone: said plainly, without its buttons."""
    text = (
        f":wastebasket: Lead `{escaped_line(lead_id, 60)}` no longer exists in your Zoho CRM: it was deleted "
        "(or you may no longer see it). Find others with `/lead list`."
    )
    return {"text": text, "blocks": [{"type": "section", "block_id": "lead_gone", "text": mrkdwn_text(text)}]}


def lead_gone_notice(lead_id: str) -> str:
    """The line above a list shown again because one of its Leads is gone."""
    return f"Lead `{escaped_line(lead_id, 60)}` no longer exists in your Zoho CRM (deleted meanwhile)."
