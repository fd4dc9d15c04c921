"""Block Kit and mrkdwn as the console prints them: what a person without Slack reads."""

from __future__ import annotations

from playground.slack.mrkdwn_text import Style, mrkdwn_to_text
from playground.slack.render import form_fields, render_blocks, render_message, render_view

NAMES = {"U0ANN": "ann", "U0BOB": "bob", "C0GENERAL": "general"}


def _button(text: str, action_id: str, value: str | None = None, **extra: object) -> dict:
    button = {"type": "button", "text": {"type": "plain_text", "text": text, "emoji": True}, "action_id": action_id}
    if value is not None:
        button["value"] = value
    return {**button, **extra}


LEAD_PAGE = [
    {"type": "header", "block_id": "lead_heading", "text": {"type": "plain_text", "text": "Leads matching “acme”"}},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "Page 2 · 1 more not shown"}]},
    {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*Jane Doe* (Acme &amp; Sons &lt;UK&gt;)\njane@acme.test · +1 555 0100\nid `4876876000000623001`",
        },
    },
    {
        "type": "actions",
        "elements": [
            _button("Edit", "lead_edit", "4876876000000623001"),
            _button("Delete", "lead_delete", "4876876000000623001", style="danger"),
        ],
    },
    {"type": "divider"},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Smith*\nid `2`"}},
    {"type": "actions", "elements": [_button("Edit", "lead_edit", "2"), _button("Delete", "lead_delete", "2")]},
    {
        "type": "actions",
        "elements": [
            _button("‹ Previous", "lead_page_prev", '{"p":1}'),
            _button("Next ›", "lead_page_next", '{"p":3}'),
        ],
    },
]


def test_mrkdwn_links_mentions_and_entities_read_as_plain_text() -> None:
    text = (
        "Hi <@U0ANN>, <@U0BOB|bob> asked in <#C0GENERAL|general> <!here>: "
        "<https://crm.test/leads/1?a=1&amp;b=2|Open *lead*> or <mailto:jo@acme.test|jo@acme.test> "
        "&lt;b&gt; &amp; <https://plain.test>"
    )
    assert mrkdwn_to_text(text, names=NAMES) == (
        "Hi @ann, @bob asked in #general @here: Open *lead* (https://crm.test/leads/1?a=1&b=2) or jo@acme.test "
        "<b> & https://plain.test"
    )


def test_emphasis_is_styled_on_a_terminal_and_plain_when_piped() -> None:
    text = "*Created* _lead_ ~old~ `*not bold*` snake_case_name"
    assert mrkdwn_to_text(text) == "Created lead old `*not bold*` snake_case_name"
    assert mrkdwn_to_text(text, style=Style(ansi=True)).startswith("\x1b[1mCreated\x1b[0m \x1b[3mlead\x1b[0m")
    assert mrkdwn_to_text("&gt; quoted\n:white_check_mark: done") == "│ quoted\n✅ done"


def test_lead_page_numbers_every_button_in_reading_order() -> None:
    rendered = render_blocks(LEAD_PAGE)
    assert rendered.text.splitlines() == [
        "== Leads matching “acme” ==",
        "Page 2 · 1 more not shown",
        "Jane Doe (Acme & Sons <UK>)",
        "jane@acme.test · +1 555 0100",
        "id `4876876000000623001`",
        "[1] Edit  [2] Delete (!)",
        "─" * 40,
        "Smith",
        "id `2`",
        "[3] Edit  [4] Delete",
        "[5] ‹ Previous  [6] Next ›",
    ]
    assert [(c.number, c.action_id, c.value) for c in rendered.clickables][:2] == [
        (1, "lead_edit", "4876876000000623001"),
        (2, "lead_delete", "4876876000000623001"),
    ]
    assert render_blocks(LEAD_PAGE, first_number=7).clickables[0].number == 7


def test_login_link_button_prints_the_url_itself() -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Connect your Zoho CRM account to use `/lead`."}},
        {
            "type": "actions",
            "elements": [
                _button(
                    "Login with Zoho", "zoho_login", url="http://127.0.0.1:3000/zoho/login?state=abc", style="primary"
                )
            ],
        },
    ]
    rendered = render_message("Connect Zoho", blocks)
    assert rendered.text.splitlines()[-1] == "[1] Login with Zoho ↗ http://127.0.0.1:3000/zoho/login?state=abc"
    assert rendered.clickables[0].url == "http://127.0.0.1:3000/zoho/login?state=abc"


def test_fields_accessories_and_plain_text_messages() -> None:
    blocks = [
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Company*\nAcme"},
                {"type": "mrkdwn", "text": "*Email*\njane@acme.test"},
                {"type": "mrkdwn", "text": "*Status*\nContacted"},
            ],
            "accessory": {
                "type": "overflow",
                "action_id": "more",
                "options": [
                    {"text": {"type": "plain_text", "text": "Edit"}, "value": "edit:1"},
                    {"text": {"type": "plain_text", "text": "Delete"}, "value": "delete:1"},
                ],
            },
        },
        {"type": "image", "image_url": "https://x.test/a.png", "alt_text": "logo"},
        {"type": "something_new"},
    ]
    rendered = render_blocks(blocks)
    assert rendered.text.splitlines() == [
        "Company: Acme".ljust(38) + "  Email: jane@acme.test",
        "Status: Contacted",
        "    [1] ⋯ Edit  [2] ⋯ Delete",
        "[image: logo] https://x.test/a.png",
        "[something_new block]",
    ]
    assert [(c.action_id, c.value) for c in rendered.clickables] == [("more", "edit:1"), ("more", "delete:1")]
    assert render_message("No Leads match *acme*", []).text == "No Leads match acme"


LEAD_MODAL = {
    "type": "modal",
    "callback_id": "lead_create",
    "title": {"type": "plain_text", "text": "New Lead"},
    "submit": {"type": "plain_text", "text": "Create"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Saved to *Zoho CRM*"}]},
        {
            "type": "input",
            "block_id": "lead_Last_Name",
            "label": {"type": "plain_text", "text": "Last name"},
            "element": {"type": "plain_text_input", "action_id": "value", "initial_value": "Doe"},
        },
        {
            "type": "input",
            "block_id": "lead_Lead_Status",
            "optional": True,
            "label": {"type": "plain_text", "text": "Status"},
            "hint": {"type": "plain_text", "text": "As your team uses it"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": [
                    {"text": {"type": "plain_text", "text": "New"}, "value": "new"},
                    {"text": {"type": "plain_text", "text": "Contacted"}, "value": "contacted"},
                ],
                "initial_option": {"text": {"type": "plain_text", "text": "Contacted"}, "value": "contacted"},
            },
        },
    ],
}


def test_modal_renders_as_a_numbered_form_with_errors_next_to_fields() -> None:
    rendered = render_view(LEAD_MODAL, entries={"lead_Last_Name": ""}, errors={"lead_Last_Name": "Required"})
    assert rendered.text.splitlines() == [
        "┌─ New Lead " + "─" * 28,
        "│ Saved to Zoho CRM",
        "│ (1) Last name*:",
        "│     ⚠ Required",
        "│ (2) Status: Contacted",
        "│     options: 1) New  2) Contacted",
        "│     As your team uses it",
        "└─ [Create]  [Cancel]",
    ]
    fields = form_fields(LEAD_MODAL)
    assert [(f.number, f.block_id, f.kind, f.optional, f.initial) for f in fields] == [
        (1, "lead_Last_Name", "plain_text_input", False, "Doe"),
        (2, "lead_Lead_Status", "static_select", True, "contacted"),
    ]
    assert fields[1].options == (("New", "new"), ("Contacted", "contacted"))
