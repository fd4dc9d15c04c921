"""What a salesperson sees in Slack: Lead lists, confirmations, problems, and the Lead form."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.leads.fields import OrgFields
from bot.leads.model import FieldChange, Lead, LeadPage, LeadQuery, ListScope
from bot.slack.commands.lead_syntax import ArgumentError, parse_lead_values
from bot.slack.views.errors import argument_error_message, validation_error_message
from bot.slack.views.lead_actions import (
    LEAD_DELETE,
    LEAD_EDIT,
    LEAD_PAGE_NEXT,
    LEAD_PAGE_PREV,
    LeadButton,
    PageRequest,
    decode_lead_button,
    decode_page_request,
    encode_lead_button,
    encode_page_request,
)
from bot.slack.views.lead_card import lead_card_message
from bot.slack.views.lead_form import (
    CREATE_CALLBACK_ID,
    EDIT_CALLBACK_ID,
    FormContext,
    block_id_for,
    form_errors_response,
    lead_form_view,
    parse_modal_state,
    values_to_save,
)
from bot.slack.views.leads import lead_deleted_message, lead_page_message, lead_saved_message
from tests.bot.leads_fixtures import make_lead, pages_of

ACME = LeadQuery.search("acme")


def assert_valid_message(message: dict[str, Any]) -> None:
    """Slack's own model classes accept every block (they check every Block Kit length limit)."""
    assert isinstance(message["text"], str) and message["text"]
    assert 1 <= len(message["blocks"]) <= 50
    for block in Block.parse_all(message["blocks"]):
        block.validate_json()
    block_ids = [b["block_id"] for b in message["blocks"]]
    assert len(block_ids) == len(set(block_ids))


def mrkdwn_texts(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            found.append(node["text"])
        for value in node.values():
            found += mrkdwn_texts(value)
    elif isinstance(node, list):
        for value in node:
            found += mrkdwn_texts(value)
    return found


def buttons(message: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    return [
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    ]


def all_text(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False)


# --- lists -------------------------------------------------------------------------------------------------


def test_25_leads_make_3_pages_with_the_right_buttons() -> None:
    leads = [make_lead(i) for i in range(25)]
    pages = pages_of(leads, query="acme")
    assert [len(p.leads) for p in pages] == [10, 10, 5]
    messages = [lead_page_message(p) for p in pages]
    for message in messages:
        assert_valid_message(message)
    nav = [
        (
            [decode_page_request(b["value"]) for b in buttons(m, LEAD_PAGE_PREV)],
            [decode_page_request(b["value"]) for b in buttons(m, LEAD_PAGE_NEXT)],
        )
        for m in messages
    ]
    assert nav == [
        ([], [PageRequest(2, ACME)]),
        ([PageRequest(1, ACME)], [PageRequest(3, ACME)]),
        ([PageRequest(2, ACME)], []),
    ]
    assert [len(buttons(m, LEAD_EDIT)) for m in messages] == [10, 10, 5]
    assert messages[2]["blocks"][0]["text"]["text"] == "Leads matching “acme” · page 3 of 3"
    assert messages[0]["text"] == "Leads matching “acme” · page 1 · more after this page"


def test_each_row_shows_name_company_email_phone_and_id_with_edit_and_delete() -> None:
    lead = make_lead(7)
    message = lead_page_message(LeadPage((lead,), 1, False))
    row = next(b for b in message["blocks"] if b["type"] == "section")["text"]["text"]
    for shown in ("Jane Doe7", "Acme 7", "jane7@acme.test", "+1 555 0107", lead.id):
        assert shown in row
    [edit] = buttons(message, LEAD_EDIT)
    [delete] = buttons(message, LEAD_DELETE)
    assert decode_lead_button(edit["value"]) == LeadButton(lead.id, "", PageRequest(1))
    # Delete also carries the page it is on, so the list can be shown again without the Lead.
    assert decode_lead_button(delete["value"]) == LeadButton(lead.id, "", PageRequest(1))
    assert delete["style"] == "danger"
    assert "Jane Doe7" in delete["confirm"]["text"]["text"]
    assert delete["confirm"]["confirm"]["text"] == "Delete"


def test_an_empty_list_says_how_to_create_one_and_has_no_page_buttons() -> None:
    message = lead_page_message(LeadPage((), 1, False))
    assert_valid_message(message)
    assert "/lead create" in all_text(message) and "`/lead list all`" in all_text(message)
    assert not buttons(message, LEAD_PAGE_NEXT) and not buttons(message, LEAD_PAGE_PREV)
    search = lead_page_message(LeadPage((), 1, False, LeadQuery.search("nobody <here>")))
    assert "No Leads match “nobody &lt;here&gt;”" in all_text(search) and "`/lead list all`" in all_text(search)
    assert search["blocks"][0]["text"]["text"] == "Leads matching “nobody <here>”"  # no "page 1 of 1" of nothing
    assert message["blocks"][0]["text"]["text"] == "Your Leads"


def test_user_text_can_never_mention_or_link() -> None:
    lead = Lead("1", {"Last_Name": "<!channel> <@U123>", "Company": "A & B <http://evil.test|click>"})
    message = lead_page_message(LeadPage((lead,), 1, False, LeadQuery.search("<!here>")))
    for text in mrkdwn_texts(message) + [message["text"]]:
        assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt;" in all_text(message)
    assert "A &amp; B" in all_text(message)


def test_huge_values_and_too_many_leads_still_fit_slack_limits() -> None:
    big = "W" * 50_000
    leads = tuple(
        Lead(str(i), {"First_Name": big, "Last_Name": big, "Company": big, "Email": big, "Phone": big})
        for i in range(100)
    )
    message = lead_page_message(LeadPage(leads, 7, True, LeadQuery.search("q" * 10_000)))
    assert_valid_message(message)
    assert message["blocks"][0]["text"]["text"].endswith("…” · page 7 · more after this page")
    assert "more not shown" in all_text(message)
    for button in buttons(message, LEAD_PAGE_NEXT) + buttons(message, LEAD_PAGE_PREV):
        assert len(button["value"]) <= 2000
        assert decode_page_request(button["value"]).page in (6, 8)


_LEAD_TEXT = st.text(max_size=300)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"First_Name": _LEAD_TEXT, "Last_Name": _LEAD_TEXT, "Company": _LEAD_TEXT, "Email": _LEAD_TEXT}
        ),
        max_size=12,
    ),
    st.integers(min_value=1, max_value=10_000),
    st.booleans(),
    st.text(max_size=3000),
)
def test_any_page_is_a_valid_safe_message(rows: list[dict[str, str]], page: int, has_more: bool, query: str) -> None:
    leads = tuple(Lead(str(i), row) for i, row in enumerate(rows))
    message = lead_page_message(LeadPage(leads, page, has_more, LeadQuery.search(query)))
    assert_valid_message(message)
    for text in mrkdwn_texts(message):
        assert "<" not in text and ">" not in text
        assert re.fullmatch(r"(?:[^&]|&amp;|&lt;|&gt;)*", text)


def test_page_button_values_round_trip_and_garbage_means_first_page() -> None:
    for query in (LeadQuery.search("Doe & “Co”"), LeadQuery(ListScope.ALL), LeadQuery()):
        assert decode_page_request(encode_page_request(PageRequest(4, query))) == PageRequest(4, query)
    for garbage in ["", "x", "[]", '{"p":"2"}', '{"p":0}', '{"p":true}', '{"p":2,"q":5}']:
        assert decode_page_request(garbage) == PageRequest(1)
    # a button of a list sent before there were "mine" and "all": its plain list is the person's own Leads now
    assert decode_page_request('{"p":2,"q":""}') == PageRequest(2, LeadQuery(ListScope.MINE))


# --- confirmations and problems -------------------------------------------------------------------------


def test_a_created_lead_confirms_name_company_and_id() -> None:
    lead = Lead("123", {"First_Name": "Jane", "Last_Name": "Doe", "Company": "Acme", "Email": "j@acme.test"})
    message = lead_saved_message(lead, created=True)
    assert_valid_message(message)
    assert message["text"] == "Created Lead *Jane Doe* (Acme) — id `123`"
    assert "Email: j@acme.test" in all_text(message)
    moved = Lead("123", dict(lead.values), changes=[FieldChange("City", "City", "Rome", "Oslo")])
    assert lead_saved_message(moved, created=False)["text"].startswith("Updated Lead *Jane Doe*")
    assert "City: Rome → Oslo" in all_text(lead_saved_message(moved, created=False))
    same = lead_saved_message(lead, created=False)  # an edit that found every value already so
    assert same["text"].startswith("Nothing changed in Lead *Jane Doe*")
    assert "Updated" not in all_text(same) and "Every value you gave was already so." in all_text(same)


def test_a_deleted_lead_names_the_id() -> None:
    message = lead_deleted_message("123", Lead("123", {"Last_Name": "Doe"}))
    assert_valid_message(message)
    assert message["text"] == "Deleted Lead *Doe* — id `123`"


def test_argument_problems_show_every_problem_and_what_was_typed() -> None:
    typed = "/lead create name=Acme <b>"
    with pytest.raises(ArgumentError) as caught:
        parse_lead_values("name=Acme &lt;b&gt;")
    message = argument_error_message(caught.value, typed)
    assert_valid_message(message)
    text = all_text(message)
    assert "use `first=` and `last=`" in text
    assert "Nothing was saved: 2 problems" in text
    assert "You typed: /lead create name=Acme &lt;b&gt;" in text


def test_many_long_problems_still_fit_in_one_section() -> None:
    errors = {f"Field_{i}": "x" * 1000 for i in range(40)}
    message = validation_error_message(errors, "y" * 10_000)
    assert_valid_message(message)
    assert "more" in message["blocks"][0]["text"]["text"]


def test_validation_problems_come_in_form_order() -> None:
    message = validation_error_message({"Email": "Email bad", "Last_Name": "Last name missing"})
    text = message["blocks"][0]["text"]["text"]
    assert text.index("Last name missing") < text.index("Email bad")
    assert "2 fields need fixing" in text


# --- the form --------------------------------------------------------------------------------------------


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def test_the_create_form_asks_for_every_field_last_name_required() -> None:
    view = lead_form_view(FormContext(channel_id="C1", response_url="https://hooks.slack.test/1"))
    View(**view).validate_json()
    assert view["callback_id"] == CREATE_CALLBACK_ID
    assert view["title"]["text"] == "New Lead"
    blocks = inputs(view)
    assert len(blocks) == 13
    assert blocks["lead_Last_Name"]["optional"] is False
    assert all(b["optional"] for k, b in blocks.items() if k != "lead_Last_Name")
    assert blocks["lead_Email"]["element"]["type"] == "email_text_input"
    assert blocks["lead_Website"]["element"]["type"] == "plain_text_input"  # Slack's URL input refuses acme.com
    assert blocks["lead_Company"]["element"]["max_length"] == 200
    assert blocks["lead_Last_Name"]["element"]["max_length"] == 80
    assert blocks["lead_Description"]["element"]["multiline"] is True
    assert blocks["lead_Description"]["element"]["max_length"] == 3000
    assert FormContext.decode(view["private_metadata"]) == FormContext(None, "C1", "https://hooks.slack.test/1")


def test_the_edit_form_is_prefilled_and_carries_the_lead_id() -> None:
    lead = make_lead(3, Website="https://acme.test", Description="Likes demos")
    view = lead_form_view(FormContext(lead_id=lead.id), lead)
    View(**view).validate_json()
    assert view["callback_id"] == EDIT_CALLBACK_ID
    assert view["title"]["text"] == "Edit Lead"
    blocks = inputs(view)
    assert blocks["lead_Last_Name"]["element"]["initial_value"] == "Doe3"
    assert blocks["lead_Website"]["element"]["initial_value"] == "https://acme.test"
    assert "initial_value" not in blocks["lead_City"]["element"]
    assert FormContext.decode(view["private_metadata"]).lead_id == lead.id


def test_stored_values_a_slack_input_would_refuse_are_shown_plainly_or_left_alone() -> None:
    lead = make_lead(1, Email="not-an-email", Website="acme.test", Description="D" * 5000, Company="C" * 250)
    view = lead_form_view(FormContext(lead_id=lead.id), lead)
    View(**view).validate_json()
    blocks = inputs(view)
    assert blocks["lead_Email"]["element"]["type"] == "plain_text_input"
    assert blocks["lead_Website"]["element"]["type"] == "plain_text_input"
    assert blocks["lead_Company"]["element"]["max_length"] == 250
    assert "lead_Description" not in blocks
    assert "5,000 characters" in all_text(view)


def test_private_metadata_always_fits() -> None:
    context = FormContext("1", "C" * 2000, "https://x.test/" + "r" * 5000)
    encoded = context.encode()
    assert len(encoded) <= 3000
    assert FormContext.decode(encoded).lead_id == "1"
    assert FormContext.decode("not json") == FormContext()


def state_of(values: dict[str, str | None]) -> dict[str, Any]:
    return {
        block_id_for(name): {"value": {"type": "plain_text_input", "value": value}} for name, value in values.items()
    }


def test_a_submitted_form_gives_values_by_api_name() -> None:
    state = state_of({"Last_Name": " Doe ", "Company": None, "Email": "j@acme.test"})
    state["unrelated"] = {"x": {"value": "y"}}
    assert parse_modal_state(state) == {"Last_Name": "Doe", "Company": "", "Email": "j@acme.test"}
    assert parse_modal_state(None) == {}
    assert parse_modal_state({"lead_Company": "garbage", "lead_City": {"value": {"value": 5}}}) == {"City": ""}


def test_creating_saves_what_was_filled_in_and_editing_saves_what_changed() -> None:
    submitted = {"Last_Name": "Doe", "Company": "", "City": "Oslo", "Email": ""}
    assert values_to_save(submitted) == {"Last_Name": "Doe", "City": "Oslo"}
    original = Lead("9", {"Last_Name": "Doe", "Email": "old@acme.test"})
    assert values_to_save(submitted, original) == {"City": "Oslo", "Email": ""}


def test_problems_show_under_their_fields_and_unknown_fields_under_the_first() -> None:
    response = form_errors_response(
        {
            "Email": "Email `x` is not an e-mail address",
            "Customer_Tier": "Zoho refused Customer_Tier",
            "Last_Name": "x" * 900,
        }
    )
    assert response["response_action"] == "errors"
    errors = response["errors"]
    assert errors["lead_Email"].startswith("Email `x`")
    assert "Customer_Tier" in errors["lead_First_Name"]
    assert len(errors["lead_Last_Name"]) <= 300


def test_a_delete_button_value_round_trips_and_a_bare_id_still_reads() -> None:
    at = PageRequest(3, LeadQuery.search("acme “corp” " + "x" * 3000))
    value = encode_lead_button("4242", "2026-12-05T10:00:00+00:00", at)
    button = decode_lead_button(value)
    assert len(value) <= 2000 and button.lead_id == "4242" and button.page is not None
    assert button.version == "2026-12-05T10:00:00+00:00"
    assert button.page.page == 3 and at.query.words.startswith(button.page.query.words) and button.page.query.words
    assert decode_lead_button("4242") == LeadButton("4242")  # a Lead's own message, or one sent before
    assert decode_lead_button('{"id": 5}') == LeadButton('{"id": 5}')  # not ours: nothing to list again


def test_a_page_shown_again_after_a_delete_says_what_was_deleted_above_the_leads() -> None:
    page = LeadPage(tuple(make_lead(n) for n in range(16)), 2, True)
    message = lead_page_message(page, notice="Deleted Lead *Jane Doe3* — id `3`")
    assert_valid_message(message)
    assert message["blocks"][1]["text"]["text"] == "Deleted Lead *Jane Doe3* — id `3`"
    assert message["text"].startswith("Deleted Lead")
    assert len(message["blocks"]) <= 50 and buttons(message, LEAD_PAGE_NEXT)


def test_a_lead_with_huge_and_many_values_still_shows_as_a_valid_card() -> None:
    values = {f"Custom_{n}__c": "<!channel> " + "V" * 5000 for n in range(120)}
    lead = Lead("5725767000000400001", {"Last_Name": "Big", "Owner": "Ann", **values})
    message = lead_card_message(lead, OrgFields.standard(), notice="changed")
    assert_valid_message(message)
    assert "&lt;!channel&gt;" in all_text(message) and "<!channel>" not in all_text(message)
    assert "more fields" in all_text(message) and buttons(message, LEAD_DELETE)


def test_how_many_in_all_is_said_on_every_page_where_it_is_known() -> None:
    def context(page: LeadPage) -> str:
        message = lead_page_message(page)
        return next(b for b in message["blocks"] if b["block_id"] == "lead_page_info")["elements"][0]["text"]

    rows = tuple(Lead(str(n), {"Last_Name": f"L{n}"}) for n in range(3))
    assert context(LeadPage(rows, 1, True, total=23)).endswith("· 23 in all")  # Zoho counted them
    assert context(LeadPage(rows, 3, False)).endswith("· 23 in all")  # the last page: 2 full pages and these 3
    assert "in all" not in context(LeadPage(rows, 1, False))  # one page says it all
    assert "in all" not in context(LeadPage(rows, 2, True))  # more to come, never counted
