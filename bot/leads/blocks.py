"""Lead messages as Block Kit (plain dicts): a page of Leads, a saved or deleted Lead, what went wrong.

Every function returns a message body `{"text": …, "blocks": […]}` ready for `respond(**message)`.
All user and CRM text is escaped for mrkdwn; every Block Kit limit (reference/slack.md §5) holds for any
input: at most 50 blocks, section text ≤ 3000, button text ≤ 75 and value ≤ 2000, confirm text ≤ 300.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.leads import fields
from bot.leads.actions import (
    LEAD_DELETE,
    LEAD_EDIT,
    LEAD_PAGE_NEXT,
    LEAD_PAGE_PREV,
    PageRequest,
    encode_delete_request,
    encode_page_request,
)
from bot.leads.arguments import ArgumentError
from bot.leads.model import Lead, LeadPage
from bot.mrkdwn import escape_truncated, one_line, truncate

Block = dict[str, Any]
Message = dict[str, Any]

MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
TEXT_FALLBACK_MAX = 3000
_BLOCKS_PER_LEAD = 3  # section, buttons, divider
_PROBLEMS_SHOWN = 20


def _join_within(lines: Sequence[str], limit: int, more: int = 0) -> str:
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


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _escaped(text: str, limit: int) -> str:
    return escape_truncated(one_line(text), limit)


def lead_title(lead: Lead, name_max: int = 200, company_max: int = 200) -> str:
    """`*Jane Doe* (Acme)` in mrkdwn, escaped; "(no name)" when Zoho has none."""
    name = _escaped(lead.name, name_max) if lead.name else "(no name)"
    title = f"*{name}*"
    if lead.company:
        title += f" ({_escaped(lead.company, company_max)})"
    return title


def _lead_row_text(lead: Lead) -> str:
    details = [part for part in (_escaped(lead.email, 200), _escaped(lead.phone, 60)) if part]
    lines = [lead_title(lead), " · ".join(details) if details else "", f"id `{_escaped(lead.id, 60)}`"]
    return "\n".join(line for line in lines if line)


def _delete_confirm(lead: Lead) -> dict[str, Any]:
    return {
        "title": _plain("Delete this Lead?", 100),
        "text": _mrkdwn(f"{lead_title(lead, 100, 80)} will be deleted from Zoho CRM."),
        "confirm": _plain("Delete", 30),
        "deny": _plain("Cancel", 30),
        "style": "danger",
    }


def lead_buttons(lead: Lead, block_id: str, page: PageRequest | None = None) -> Block:
    """An actions block with Edit and Delete (which asks first) for `lead`; `page`: the list page it is on."""
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [
            {"type": "button", "action_id": LEAD_EDIT, "text": _plain("Edit", 75), "value": lead.id},
            {
                "type": "button",
                "action_id": LEAD_DELETE,
                "text": _plain("Delete", 75),
                "value": encode_delete_request(lead.id, page),
                "style": "danger",
                "confirm": _delete_confirm(lead),
            },
        ],
    }


def _page_heading(page: LeadPage, limit: int = HEADER_TEXT_MAX) -> str:
    """ "Your Leads · page 2" or "Leads matching “acme” · page 2"; long words are cut, the page never."""
    suffix = f" · page {page.page}"
    if not page.query:
        return "Your Leads" + suffix
    room = limit - len(suffix) - len("Leads matching “”")
    return f"Leads matching “{truncate(one_line(page.query), max(room, 1))}”{suffix}"


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
        blocks.append({"type": "section", "block_id": "lead_page_notice", "text": _mrkdwn(notice)})
    fits = (MAX_BLOCKS - len(blocks) - 2) // _BLOCKS_PER_LEAD
    shown = page.leads[:fits]
    if shown:
        context = f"{len(shown)} on this page · newest first"
    elif page.query:
        words = _escaped(truncate(one_line(page.query), 100), 200)
        context = f"No Leads match “{words}”. Try fewer words, or `/lead list` for all your Leads."
    else:
        context = "You have no Leads yet. Create one with `/lead create`."
    if len(page.leads) > len(shown):
        context += f" · {len(page.leads) - len(shown)} more not shown"
    blocks.append({"type": "context", "block_id": "lead_page_info", "elements": [_mrkdwn(context)]})
    for index, lead in enumerate(shown):
        if index:
            blocks.append({"type": "divider", "block_id": f"lead_divider_{index}"})
        blocks.append({"type": "section", "block_id": f"lead_row_{index}", "text": _mrkdwn(_lead_row_text(lead))})
        blocks.append(lead_buttons(lead, f"lead_buttons_{index}", PageRequest(page.page, page.query)))
    navigation = _navigation(page)
    if navigation:
        blocks.append(navigation)
    text = _escaped(heading, TEXT_FALLBACK_MAX)
    if notice:
        text = truncate(one_line(notice), TEXT_FALLBACK_MAX)
    return {"text": text, "blocks": blocks}


def lead_saved_message(lead: Lead, *, created: bool) -> Message:
    """ "Created Lead *Jane Doe* (Acme) — id 123" (or "Updated …"), the details saved, and Edit/Delete."""
    verb = "Created" if created else "Updated"
    headline = f"{verb} Lead {lead_title(lead)} — id `{_escaped(lead.id, 60)}`"
    details = [
        f"{fields.label_for(f.api_name)}: {_escaped(lead.get(f.api_name), 300)}"
        for f in fields.FIELDS
        if f.api_name not in ("First_Name", "Last_Name", "Company") and lead.get(f.api_name)
    ]
    text = _join_within([headline, *details], SECTION_TEXT_MAX)
    blocks = [
        {"type": "section", "block_id": "lead_saved", "text": _mrkdwn(text)},
        lead_buttons(lead, "lead_saved_buttons"),
    ]
    return {"text": truncate(headline, TEXT_FALLBACK_MAX), "blocks": blocks}


def lead_deleted_message(lead_id: str, lead: Lead | None = None) -> Message:
    """ "Deleted Lead *Jane Doe* (Acme) — id 123" (the name when known)."""
    what = f"Lead {lead_title(lead)}" if lead else "Lead"
    text = f"Deleted {what} — id `{_escaped(lead_id, 60)}`"
    return {"text": text, "blocks": [{"type": "section", "block_id": "lead_deleted", "text": _mrkdwn(text)}]}


def problems_message(summary: str, problems: Sequence[str], typed: str | None = None) -> Message:
    """What went wrong: a summary, a bullet per problem (plain text, escaped here), then what the user typed.

    `typed` is shown as given: pass the text as the user typed it (`slack_text.typed_text` of Slack's text).
    """
    lines = [f":warning: *{_escaped(summary, 300)}*"]
    lines += [f"• {_escaped(problem, 400)}" for problem in problems[:_PROBLEMS_SHOWN]]
    text = _join_within(lines, SECTION_TEXT_MAX, more=len(problems) - min(len(problems), _PROBLEMS_SHOWN))
    blocks: list[Block] = [{"type": "section", "block_id": "lead_problems", "text": _mrkdwn(text)}]
    if typed is not None and typed.strip():
        blocks.append(
            {
                "type": "context",
                "block_id": "lead_typed",
                "elements": [_mrkdwn(f"You typed: {_escaped(typed, 1900)}")],
            }
        )
    fallback = summary + ": " + "; ".join(problems[:3]) if problems else summary
    return {"text": escape_truncated(one_line(fallback), TEXT_FALLBACK_MAX), "blocks": blocks}


def argument_error_message(error: ArgumentError, typed: str, *, nothing: str = "Nothing was saved") -> Message:
    """The problems found reading a command's text, with what the user typed; `nothing` says what did not happen
    ("Nothing was deleted" for a delete)."""
    count = len(error.problems)
    summary = f"{nothing}: " + ("one problem" if count == 1 else f"{count} problems") + " in what you typed"
    return problems_message(summary, [p.message for p in error.problems], typed)


def _in_form_order(api_names: Iterable[str]) -> list[str]:
    order = {f.api_name: i for i, f in enumerate(fields.FIELDS)}
    return sorted(api_names, key=lambda name: (order.get(name, len(order)), name))


def validation_error_message(errors: Mapping[str, str], typed: str | None = None) -> Message:
    """Per-field problems (API name → message), in form order, with what the user typed."""
    ordered = [errors[name] for name in _in_form_order(errors)]
    count = len(ordered)
    summary = "Nothing was saved: " + ("one field needs" if count == 1 else f"{count} fields need") + " fixing"
    return problems_message(summary, ordered, typed)
