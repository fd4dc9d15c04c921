"""The Lead form with menus, number inputs and a Yes/No menu, end to end: Slack emulator (which refuses views real
Slack refuses and builds the state a person's entries make) → bot → real zohocrmsdk → Zoho emulator.

The org's fields here are Zoho's standard Leads fields with the picklist values the Zoho emulator enforces, in
two sections; `LeadService.fields` is made to answer them, as it does once it reads the org's metadata.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.leads.fields import FIELDS, OTHER_FIELDS, LayoutSection, OrgFields
from bot.leads.service import LeadService
from tests.e2e.test_leads import crm_writes, is_answer, leads_in, open_form
from tests.stack import ANN

ANN_EMAIL = "ann@acme.test"
STATUSES = ("-None-", "Attempted to Contact", "Contacted", "Pre-Qualified", "Not Qualified")
SOURCES = ("-None-", "Cold Call", "Partner", "Trade Show")


def acme_layout() -> OrgFields:
    standard = {f.api_name: f for f in FIELDS + OTHER_FIELDS}
    org_fields = [
        *(standard[name] for name in ("First_Name", "Last_Name", "Company", "Email")),
        replace(standard["Lead_Status"], choices=STATUSES),
        replace(standard["Lead_Source"], choices=SOURCES),
        *(standard[name] for name in ("No_of_Employees", "Annual_Revenue", "Email_Opt_Out")),
    ]
    sections = (
        LayoutSection("Lead Information", tuple(f.api_name for f in org_fields[:6])),
        LayoutSection("Company", ("No_of_Employees", "Annual_Revenue", "Email_Opt_Out")),
    )
    return OrgFields(org_fields, sections)


@pytest.fixture
def org_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fields(self: LeadService) -> OrgFields:
        return acme_layout()

    monkeypatch.setattr(LeadService, "fields", fields)


async def test_the_orgs_form_creates_a_lead_from_menus_numbers_and_a_yes_no_menu(stack, org_layout) -> None:
    await stack.connect(ANN, ANN_EMAIL)
    view = await open_form(stack, ANN, "create", "lead_create")
    element_types = {b["block_id"]: b["element"]["type"] for b in view.view["blocks"] if b["type"] == "input"}
    assert element_types["lead_Lead_Status"] == "static_select"
    assert element_types["lead_Annual_Revenue"] == element_types["lead_No_of_Employees"] == "number_input"
    seq = stack.slack.seq

    result = await stack.slack.submit_view(
        ANN,
        view.view_id,
        {
            "lead_Last_Name": "Menu",
            "lead_Lead_Status": "Contacted",
            "lead_Lead_Source": "Partner",
            "lead_No_of_Employees": "12",
            "lead_Annual_Revenue": "12500.5",
            "lead_Email_Opt_Out": "true",
        },
    )

    assert result.status == 200 and result.error is None and not result.client_errors
    answer = await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq), timeout=15)
    assert "Created Lead" in answer.text
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Last_Name"], stored["Lead_Status"], stored["Lead_Source"]) == ("Menu", "Contacted", "Partner")
    assert (stored["No_of_Employees"], float(stored["Annual_Revenue"]), stored["Email_Opt_Out"]) == (12, 12500.5, True)


async def test_the_orgs_edit_form_shows_the_menus_as_stored_and_changes_only_the_status(stack, org_layout) -> None:
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(
        ANN_EMAIL, [{"Last_Name": "Doe", "Lead_Status": "Contacted", "Lead_Source": "Cold Call", "City": "Oslo"}]
    )
    view = await open_form(stack, ANN, f"edit {lead_id}", "lead_edit")
    elements = {b["block_id"]: b["element"] for b in view.view["blocks"] if b["type"] == "input"}
    assert elements["lead_Lead_Status"]["initial_option"]["value"] == "Contacted"
    assert elements["lead_Lead_Source"]["initial_option"]["value"] == "Cold Call"
    writes_before = len(crm_writes(stack))
    seq = stack.slack.seq

    result = await stack.slack.submit_view(ANN, view.view_id, {"lead_Lead_Status": "Pre-Qualified"})

    assert result.status == 200 and result.error is None and not result.client_errors
    await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq), timeout=15)
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Lead_Status"], stored["Lead_Source"], stored["City"]) == ("Pre-Qualified", "Cold Call", "Oslo")
    [write] = crm_writes(stack)[writes_before:]
    assert write.method == "PUT"


async def test_a_number_longer_than_the_orgs_field_takes_is_refused_under_it_and_the_form_stays_open(
    stack, org_layout
) -> None:
    await stack.connect(ANN, ANN_EMAIL)
    view = await open_form(stack, ANN, "create", "lead_create")
    [revenue] = [b["element"] for b in view.view["blocks"] if b.get("block_id") == "lead_Annual_Revenue"]
    assert revenue["max_value"] == "9" * 16 + ".999999999"  # the org's 16 digits before the point

    refused = await stack.slack.submit_view(
        ANN, view.view_id, {"lead_Last_Name": "Big", "lead_Annual_Revenue": "9" * 20, "lead_No_of_Employees": "-1e12"}
    )

    assert refused.status == 0  # Slack's own check: nothing was sent to the bot, the form is open as typed
    assert set(refused.client_errors) == {"lead_Annual_Revenue", "lead_No_of_Employees"}
    assert "at most 9999999999999999" in refused.client_errors["lead_Annual_Revenue"]
    assert "at least -999999999" in refused.client_errors["lead_No_of_Employees"]
    assert crm_writes(stack) == []

    seq = stack.slack.seq
    taken = await stack.slack.submit_view(
        ANN, view.view_id, {"lead_Last_Name": "Big", "lead_Annual_Revenue": "9" * 16, "lead_No_of_Employees": "7"}
    )

    assert taken.status == 200 and not taken.client_errors
    assert "Created Lead" in (await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq), timeout=15)).text


async def test_a_form_zoho_refused_comes_back_as_it_was_sent_from_the_message_that_says_so(stack, org_layout) -> None:
    await stack.connect(ANN, ANN_EMAIL)
    view = await open_form(stack, ANN, "create", "lead_create")
    stack.zoho.fail_with = 500  # Zoho fails every call for now
    seq = stack.slack.seq

    await stack.slack.submit_view(ANN, view.view_id, {"lead_Last_Name": "Again", "lead_Lead_Status": "Contacted"})
    refused = await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq), timeout=20)

    assert "You typed: Last Name: Again; Lead Status: Contacted" in str(refused.blocks)
    assert leads_in(stack, ANN_EMAIL) == []
    stack.zoho.fail_with = 0
    seq = stack.slack.seq
    clicked = await stack.slack.click_button(ANN, refused, "lead_form_again")
    assert clicked.status == 200 and clicked.error is None, clicked
    again = await stack.slack.wait_for_view(
        lambda v: v.seq > seq and v.user_id == ANN and v.callback_id == "lead_create" and not v.closed, timeout=15
    )
    result = await stack.slack.submit_view(ANN, again.view_id, {})  # nothing to retype

    assert result.status == 200 and not result.client_errors
    await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq) and "Created Lead" in m.text, timeout=15)
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Last_Name"], stored["Lead_Status"]) == ("Again", "Contacted")
