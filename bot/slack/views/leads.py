"""Lead messages as Block Kit (plain dicts): a page of Leads, a saved or deleted Lead, what went wrong.

Every function returns a message body `{"text": …, "blocks": […]}` ready for `respond(**message)`.
All user and CRM text is escaped for mrkdwn, in `verbatim` text objects (no automatic links); every Block Kit
limit (docs/reference/slack.md §5) holds for any input: at most 50 blocks, section text ≤ 3000, button text ≤ 75
and value ≤ 2000, confirm text ≤ 300.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.leads import fields
from bot.leads.fields import FieldKind
from bot.leads.model import Lead, LeadPage, ListScope
from bot.slack.text import escape_truncated, one_line, truncate, utc_minute
from bot.slack.views.lead_actions import (
    LEAD_DELETE,
    LEAD_EDIT,
    LEAD_PAGE_NEXT,
    LEAD_PAGE_PREV,
    PageRequest,
    encode_lead_button,
    encode_page_request,
)

Block = dict[str, Any]
Message = dict[str, Any]

MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
TEXT_FALLBACK_MAX = 3000
_BLOCKS_PER_LEAD = 3  # section, buttons, divider


def join_within(lines: Sequence[str], limit: int, more: int = 0) -> str:
    """Whole lines joined by line breaks, as many as fit in `limit` with a "…and N more" line if needed."""
    kept: list[str] = []
    for index, line in enumerate(lines):
        left = len(lines) - index + more
        tail = len(f"\n…and {left} more") if index + 1 < len(lines) or more else 0
        if len("\n".join([*kept, line])) + tail > limit:
            more = left
            break
        kept.append(line)
    if more:
        kept.append(f"…and {more} more")
    return "\n".join(kept)


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(one_line(text) or " ", limit), "emoji": True}


def mrkdwn_text(text: str) -> dict[str, Any]:
    """A mrkdwn text object Slack shows as written: escaping already stops `<!channel>`; `verbatim` also stops
    Slack from turning a bare URL or `#channel` in CRM or typed text into a link."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def escaped_line(text: str, limit: int) -> str:
    return escape_truncated(one_line(text), limit)


def moment_text(text: str) -> str:
    """An ISO time from Zoho as `2026-12-05 10:00 UTC`; text that is not one, as it came."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return utc_minute(moment)


_YES_NO = {"true": "Yes", "false": "No"}


def shown_value(text: str, kind: FieldKind | None) -> str:
    """A field's value as a person reads it: a yes/no field as Yes or No (as the form's menu says it), a
    date-time as `2026-12-24 15:00 UTC`; anything else, and text that is not of its kind, as it is."""
    if kind is FieldKind.BOOLEAN:
        return _YES_NO.get(text.lower(), text)
    if kind is FieldKind.DATETIME and text:
        return moment_text(text)
    return text


def lead_title(lead: Lead, name_max: int = 200, company_max: int = 200) -> str:
    """`*Jane Doe* (Acme)` in mrkdwn, escaped; "(no name)" when Zoho has none."""
    name = escaped_line(lead.name, name_max) if lead.name else "(no name)"
    title = f"*{name}*"
    if lead.company:
        title += f" ({escaped_line(lead.company, company_max)})"
    return title


def _standing(lead: Lead) -> tuple[tuple[str, str], ...]:
    return (("Status", lead.status), ("Owner", lead.owner))


def _lead_row_text(lead: Lead) -> str:
    details = [part for part in (escaped_line(lead.email, 200), escaped_line(lead.phone, 60)) if part]
    standing = [
        f"{what}: {escaped_line(value, 120)}"
        for what, value in (("Status", lead.status), ("Owner", lead.owner))
        if value
    ]
    lines = [
        lead_title(lead),
        " · ".join(details),
        " · ".join(standing),
        f"id `{escaped_line(lead.id, 60)}`",
    ]
    return "\n".join(line for line in lines if line)


def _delete_confirm(lead: Lead) -> dict[str, Any]:
    return {
        "title": _plain("Delete this Lead?", 100),
        "text": mrkdwn_text(f"{lead_title(lead, 100, 80)} will be deleted from Zoho CRM."),
        "confirm": _plain("Delete", 30),
        "deny": _plain("Cancel", 30),
        "style": "danger",
    }


def lead_buttons(lead: Lead, block_id: str, page: PageRequest | None = None) -> Block:
    """An actions block with Edit and Delete (which asks first) for `lead`; `page`: the list page it is on.
    Both carry the Lead's version as shown and the page, so a click can bring the message up to date."""
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [
            {
                "type": "button",
                "action_id": LEAD_EDIT,
                "text": _plain("Edit", 75),
                "value": encode_lead_button(lead.id, lead.version, page),
            },
            {
                "type": "button",
                "action_id": LEAD_DELETE,
                "text": _plain("Delete", 75),
                "value": encode_lead_button(lead.id, lead.version, page),
                "style": "danger",
                "confirm": _delete_confirm(lead),
            },
        ],
    }


_LIST_TITLES = {ListScope.MINE: "Your Leads", ListScope.ALL: "All Leads you can see"}


def _page_of(page: LeadPage) -> str:
    """ "page 2 of 3" when the number of pages is known, else "page 2 · more after this page"."""
    pages = page.pages
    if pages is not None:
        return f"page {page.page} of {pages}"
    return f"page {page.page} · more after this page"


def _page_heading(page: LeadPage, limit: int = HEADER_TEXT_MAX) -> str:
    """ "Your Leads · page 2 of 3", "All Leads you can see · page 1 of 1" or "Leads matching “acme” · page 2 · more
    after this page" ("Leads matching “acme”" alone when nothing was found); long words are cut, the page never."""
    suffix = f" · {_page_of(page)}" if page.leads or page.page > 1 else ""  # nothing found: no "page 1 of 1"
    title = _LIST_TITLES.get(page.query.scope)
    if title is not None:
        return title + suffix
    room = limit - len(suffix) - len("Leads matching “”")
    return f"Leads matching “{truncate(one_line(page.query.words), max(room, 1))}”{suffix}"


def _nothing_found(page: LeadPage) -> str:
    """What an empty page says, and what to try instead."""
    if page.query.scope is ListScope.MINE:
        return "You own no Leads in Zoho CRM. See every Lead you may see with `/lead list all`, or `/lead create` one."
    if page.query.scope is ListScope.ALL:
        return "There are no Leads you can see yet. Create one with `/lead create`."
    words = escaped_line(truncate(one_line(page.query.words), 100), 200)
    return f"No Leads match “{words}”. Try fewer words, or `/lead list all` for every Lead you may see."


def _navigation(page: LeadPage) -> Block | None:
    buttons = []
    if page.page > 1:
        buttons.append(
            {
                "type": "button",
                "action_id": LEAD_PAGE_PREV,
                "text": _plain("‹ Previous", 75),
                "value": encode_page_request(PageRequest(page.page - 1, page.query)),
            }
        )
    if page.has_more:
        buttons.append(
            {
                "type": "button",
                "action_id": LEAD_PAGE_NEXT,
                "text": _plain("Next ›", 75),
                "value": encode_page_request(PageRequest(page.page + 1, page.query)),
            }
        )
    if not buttons:
        return None
    return {"type": "actions", "block_id": "lead_nav", "elements": buttons}


def lead_page_message(page: LeadPage, notice: str | None = None) -> Message:
    """A page of Leads: a heading with the words and page number, one row per Lead with Edit/Delete,
    then Previous/Next as needed. More Leads than fit in 50 blocks are cut, and the message says so.

    `notice` (mrkdwn, already escaped): a line above the Leads, such as what was just deleted from the list."""
    heading = _page_heading(page)
    blocks: list[Block] = [
        {"type": "header", "block_id": "lead_heading", "text": _plain(heading, HEADER_TEXT_MAX)},
    ]
    if notice:
        blocks.append({"type": "section", "block_id": "lead_page_notice", "text": mrkdwn_text(notice)})
    fits = (MAX_BLOCKS - len(blocks) - 2) // _BLOCKS_PER_LEAD
    shown = page.leads[:fits]
    if shown:
        context = f"{len(shown)} on this page · newest first"
        if page.in_all is not None:
            context += f" · {page.in_all} in all"
    else:
        context = _nothing_found(page)
    if len(page.leads) > len(shown):
        context += f" · {len(page.leads) - len(shown)} more not shown"
    blocks.append({"type": "context", "block_id": "lead_page_info", "elements": [mrkdwn_text(context)]})
    for index, lead in enumerate(shown):
        if index:
            blocks.append({"type": "divider", "block_id": f"lead_divider_{index}"})
        blocks.append({"type": "section", "block_id": f"lead_row_{index}", "text": mrkdwn_text(_lead_row_text(lead))})
        blocks.append(lead_buttons(lead, f"lead_buttons_{index}", PageRequest(page.page, page.query)))
    navigation = _navigation(page)
    if navigation:
        blocks.append(navigation)
    text = escaped_line(heading, TEXT_FALLBACK_MAX)
    if notice:
        text = truncate(one_line(notice), TEXT_FALLBACK_MAX)
    return {"text": text, "blocks": blocks}


def _change_lines(lead: Lead, *, created: bool) -> list[str]:
    """Created: "Label: value" for every field set. Edited: "Label: old → new" for every field that changed."""
    if created:
        return [
            f"{escaped_line(c.label, 100)}: {escaped_line(shown_value(c.after, c.kind), 300)}" for c in lead.changes
        ]
    return [
        f"{escaped_line(c.label, 100)}: {escaped_line(shown_value(c.before, c.kind), 150) or '_(empty)_'} → "
        f"{escaped_line(shown_value(c.after, c.kind), 150) or '_(empty)_'}"
        for c in lead.changes
    ]


def lead_saved_message(lead: Lead, *, created: bool) -> Message:
    """ "Created Lead *Jane Doe* (Acme) — id 123" and every field set, or "Updated …" and each change as
    "City: Rome → Oslo" ("Nothing changed in Lead …" when every value was already so); Edit/Delete buttons."""
    verb = "Created" if created else "Updated" if lead.changes else "Nothing changed in"
    headline = f"{verb} Lead {lead_title(lead)} — id `{escaped_line(lead.id, 60)}`"
    if lead.changes:
        details = _change_lines(lead, created=created)
    elif not created:
        details = ["Every value you gave was already so."]
    else:
        details = [
            f"{fields.label_for(f.api_name)}: {escaped_line(lead.get(f.api_name), 300)}"
            for f in fields.FIELDS
            if f.api_name not in ("First_Name", "Last_Name", "Company") and lead.get(f.api_name)
        ]
    text = join_within([headline, *details], SECTION_TEXT_MAX)
    blocks = [
        {"type": "section", "block_id": "lead_saved", "text": mrkdwn_text(text)},
        lead_buttons(lead, "lead_saved_buttons"),
    ]
    return {"text": truncate(headline, TEXT_FALLBACK_MAX), "blocks": blocks}


def lead_deleted_message(lead_id: str, lead: Lead | None = None) -> Message:
    """ "Deleted Lead *Jane Doe* (Acme) — id 123" (the name when known)."""
    what = f"Lead {lead_title(lead)}" if lead else "Lead"
    text = f"Deleted {what} — id `{escaped_line(lead_id, 60)}`"
    return {"text": text, "blocks": [{"type": "section", "block_id": "lead_deleted", "text": mrkdwn_text(text)}]}


def form_failed_message(problem: str, lead: Lead | None) -> Message:
    """The form could not open (`problem`: Slack's error code; usually the 3-second trigger ran out while Zoho
    answered): say how to go on."""
    problem = escaped_line(problem, 200)  # Slack's code or an exception's name, but never trusted as markup
    if lead is None:
        text = (
            f":warning: Slack did not open the form ({problem}). Try `/lead create` again, or type the values: "
            "`/lead create last=Doe first=Jane company=Acme`."
        )
        return {"text": text}
    text = (
        f":warning: Zoho took too long for the form to open in time ({problem}). "
        f"Press *Edit* to open it for {lead_title(lead)}."
    )
    return {
        "text": text,
        "blocks": [
            {"type": "section", "block_id": "lead_form_failed", "text": mrkdwn_text(text)},
            lead_buttons(lead, "lead_form_failed_buttons"),
        ],
    }
