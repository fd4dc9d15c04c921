"""Leads as the org defines them, end to end through the real SDK: keys by label, picklists, custom fields,
dates, required fields from the layout, "old → new" answers, and the org's metadata read once per org.

Every test checks what Zoho stored (the emulator's data) or did not store, not only the reply.
"""

from __future__ import annotations

import asyncio
import datetime
import json

import pytest

from tests.e2e.test_leads import ANN_EMAIL, ask, crm_writes, is_answer, leads_in, open_form, shown_text
from tests.stack import ADA, ANN, BOB, start_stack

LAYOUTS = "/crm/v8/settings/layouts"
NOW = datetime.datetime(2026, 12, 23, 16, 30, tzinfo=datetime.UTC)


@pytest.fixture
async def stack(tmp_path):
    """The whole stack, with the bot's clock fixed at NOW (what `today` and `tomorrow` mean)."""
    running = await start_stack(tmp_path, clock=lambda: NOW)
    yield running
    await running.stop()
    await running.slack.stop()


def layout_reads(stack) -> list:
    return [call for call in stack.zoho.crm_calls if call.path == LAYOUTS]


async def connected(stack, user: str, email: str) -> None:
    """Log in, and wait for the metadata read that a login starts in the background."""
    before = len(layout_reads(stack))
    await stack.connect(user, email)
    for _ in range(200):
        if len(layout_reads(stack)) > before:
            return
        await asyncio.sleep(0.025)


async def test_a_picklist_value_is_saved_as_the_org_spells_it_and_a_custom_picklist_is_set_by_its_label(stack):
    await connected(stack, ANN, ANN_EMAIL)
    answer = await ask(
        stack, ANN, 'create last=Doe status=contacted "customer tier"=gold products="widgets, Support Plan"'
    )
    [stored] = leads_in(stack, ANN_EMAIL)
    assert stored["Lead_Status"] == "Contacted"
    assert stored["Customer_Tier"] == "Gold"
    assert stored["Products"] == ["Widgets", "Support plan"]
    shown = shown_text(answer)
    assert "Lead Status: Contacted" in shown and "Customer tier: Gold" in shown
    assert "Products of interest: Widgets; Support plan" in shown


async def test_a_value_outside_the_picklist_is_refused_with_the_allowed_values_and_nothing_is_written(stack):
    await connected(stack, ANN, ANN_EMAIL)
    answer = await ask(stack, ANN, "create last=Doe status=Bogus")
    shown = shown_text(answer)
    assert "Lead Status `Bogus` is not one of its values" in shown
    assert "Attempted to Contact" in shown and "Contacted" in shown
    assert answer.is_ephemeral
    assert crm_writes(stack) == [] and leads_in(stack, ANN_EMAIL) == []


async def test_tomorrow_and_a_currency_are_saved_in_zohos_form(stack):
    await connected(stack, ANN, ANN_EMAIL)
    await ask(stack, ANN, 'create last=Doe "Follow-up date"=tomorrow Deal_Size="$12,500.50"')
    [stored] = leads_in(stack, ANN_EMAIL)
    assert stored["Follow_Up_Date"] == "2026-12-24"
    assert stored["Deal_Size"] == 12500.5


async def test_wrong_values_by_type_name_the_field_echo_the_input_and_write_nothing(stack):
    await connected(stack, ANN, ANN_EMAIL)
    cases = {
        "create last=Doe follow_up_date=someday": ["Follow-up date `someday` is not a date"],
        "create last=Doe deal_size=lots": ["Deal size `lots` is not a number"],
        "create last=Doe tier=Platinum": ["Unknown key `tier`"],
        "create last=Doe Customer_Tier=Platinum": ["Customer tier `Platinum`", "Gold, Silver, Bronze"],
        "create last=Doe email_opt_out=maybe": ["`maybe` must be true or false"],
        "create last=Doe customer_teir=Gold": ["customer_teir", 'did you mean `"Customer tier"`?'],
        'create last=Doe products="Widgets, Sprockets"': ["Products of interest `Sprockets` is not one of"],
        "create last=" + "x" * 81: ["Last Name is 81 characters long; Zoho accepts at most 80"],
        "create last=Doe email=jane@": ["Email `jane@` is not an e-mail address"],
    }
    for typed, expected in cases.items():
        shown = shown_text(await ask(stack, ANN, typed))
        for part in expected:
            assert part in shown, (typed, part, shown)
    assert crm_writes(stack) == []


async def test_an_edit_answers_what_changed_old_to_new_and_nothing_for_unchanged_fields(stack):
    await connected(stack, ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "Doe", "Lead_Status": "New", "City": "Rome"}])
    answer = await ask(stack, ANN, f'edit {lead_id} status=contacted city=Rome "customer tier"=silver')
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Lead_Status"], stored["City"], stored["Customer_Tier"]) == ("Contacted", "Rome", "Silver")
    shown = shown_text(answer)
    assert "Lead Status: New → Contacted" in shown
    assert "Customer tier: _(empty)_ → Silver" in shown
    assert "City" not in shown


async def test_the_layouts_required_fields_are_asked_for_before_any_write(stack):
    stack.zoho.lead_store.required = {"Company"}
    await connected(stack, ANN, ANN_EMAIL)
    shown = shown_text(await ask(stack, ANN, "create last=Doe"))
    assert "Company is required: add `company=…`" in shown
    assert crm_writes(stack) == []


async def test_when_zoho_says_the_layout_changed_the_bot_reads_it_again_and_explains(stack):
    await connected(stack, ANN, ANN_EMAIL)
    reads = len(layout_reads(stack))
    stack.zoho.lead_store.required = {"Company"}  # the admin changed the layout after the bot read it
    shown = shown_text(await ask(stack, ANN, "create last=Doe"))
    assert "Company is required" in shown
    assert len(layout_reads(stack)) == reads + 1
    assert leads_in(stack, ANN_EMAIL) == []
    writes = len(crm_writes(stack))
    shown = shown_text(await ask(stack, ANN, "create last=Roe"))  # now known: refused before any write
    assert "Company is required" in shown and len(crm_writes(stack)) == writes


async def test_the_metadata_is_read_once_per_org_at_login_and_shared_through_the_database(stack):
    await connected(stack, ANN, ANN_EMAIL)
    assert len(layout_reads(stack)) == 1  # at login, before any command
    await connected(stack, ADA, "ada@acme.test")  # same org: the stored copy serves
    await ask(stack, ANN, "create last=Doe status=contacted")
    await ask(stack, ADA, 'create last=Roe status="junk lead"')
    assert len(layout_reads(stack)) == 1
    assert sorted(lead["Lead_Status"] for lead in leads_in(stack, ANN_EMAIL)) == ["Contacted", "Junk Lead"]
    rows = {row.org_key.startswith("sdk-fields:"): row for row in stack.store.org_fields._row.select()}
    assert len(rows) == 2  # the org's metadata, and the SDK's own field file of the org beside it
    assert "Customer_Tier" in {field["api_name"] for field in json.loads(rows[False].metadata_json)["fields"]}
    assert "Customer_Tier" in json.loads(rows[True].metadata_json)["leads"]  # fetched at login, not by a command
    await connected(stack, BOB, "bob@globex.test")  # another org: its own read
    assert len(layout_reads(stack)) == 2


async def submitted(stack, view, entries: dict[str, object]):
    """Submit the form with `entries` ({block id: entry}); the answer the person sees."""
    seq = stack.slack.seq
    result = await stack.slack.submit_view(ANN, view.view_id, entries)
    assert result.status == 200 and result.error is None and not result.client_errors, result
    return await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq), timeout=15)


async def test_a_lead_made_in_the_orgs_form_with_a_custom_picklist_and_a_date_is_found_shown_and_moved_on(stack):
    """The issue's walk: create from the form (a custom picklist, a date), find it in /lead list, see it with
    /lead show, change its status in the edit form, and read "Lead Status: Not Contacted → Contacted"."""
    await connected(stack, ANN, ANN_EMAIL)
    view = await open_form(stack, ANN, "create", "lead_create")
    kinds = {b["block_id"]: b["element"]["type"] for b in view.view["blocks"] if b["type"] == "input"}
    assert (kinds["lead_Customer_Tier"], kinds["lead_Follow_Up_Date"]) == ("static_select", "datepicker")

    created = await submitted(
        stack,
        view,
        {
            "lead_Last_Name": "Probe",
            "lead_Company": "Acme Inc",
            "lead_Lead_Status": "Not Contacted",
            "lead_Customer_Tier": "Gold",
            "lead_Follow_Up_Date": "2026-12-24",
        },
    )

    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Customer_Tier"], stored["Follow_Up_Date"]) == ("Gold", "2026-12-24")
    assert stored["Lead_Status"] == "Not Contacted" and stored["Owner"]["email"] == ANN_EMAIL
    assert "Customer tier: Gold" in shown_text(created) and "Follow-up date: 2026-12-24" in shown_text(created)
    lead_id = stored["id"]
    listed = shown_text(await ask(stack, ANN, "list"))
    assert lead_id in listed and "Status: Not Contacted" in listed
    shown = shown_text(await ask(stack, ANN, f"show {lead_id}"))
    assert "*Customer tier:* Gold" in shown and "*Follow-up date:* 2026-12-24" in shown
    writes = len(crm_writes(stack))

    edit = await open_form(stack, ANN, f"edit {lead_id}", "lead_edit")
    updated = await submitted(stack, edit, {"lead_Lead_Status": "Contacted"})

    assert "Lead Status: Not Contacted → Contacted" in shown_text(updated)
    assert "Customer tier" not in shown_text(updated)  # unchanged: not said
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Lead_Status"], stored["Customer_Tier"], stored["Follow_Up_Date"]) == (
        "Contacted",
        "Gold",
        "2026-12-24",
    )
    assert [call.method for call in crm_writes(stack)[writes:]] == ["PUT"]


async def test_a_field_the_layout_requires_is_required_in_the_form_and_nothing_is_written_without_it(stack):
    stack.zoho.lead_store.required = {"Company"}
    await connected(stack, ANN, ANN_EMAIL)
    view = await open_form(stack, ANN, "create", "lead_create")
    required = [b["block_id"] for b in view.view["blocks"] if b["type"] == "input" and not b.get("optional")]
    assert required == ["lead_Last_Name", "lead_Company"]

    result = await stack.slack.submit_view(ANN, view.view_id, {"lead_Last_Name": "Doe"})

    assert set(result.client_errors) == {"lead_Company"}  # Slack's client keeps the form open
    assert crm_writes(stack) == [] and leads_in(stack, ANN_EMAIL) == []


async def test_a_label_typed_with_other_separators_sets_its_field(stack):
    await connected(stack, ANN, ANN_EMAIL)
    answer = await ask(stack, ANN, 'create last=Doe "follow up date"=tomorrow "customer tier"=bronze')
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Follow_Up_Date"], stored["Customer_Tier"]) == ("2026-12-24", "Bronze")
    assert "Follow-up date: 2026-12-24" in shown_text(answer)


async def test_a_yes_no_field_is_stored_as_a_boolean_and_read_as_yes_or_no(stack):
    await connected(stack, ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "Doe", "Email_Opt_Out": False}])
    answer = await ask(stack, ANN, f'edit {lead_id} "email opt out"=yes')
    [stored] = leads_in(stack, ANN_EMAIL)
    assert stored["Email_Opt_Out"] is True
    assert "Email Opt Out: No → Yes" in shown_text(answer)
    assert "*Email Opt Out:* Yes" in shown_text(await ask(stack, ANN, f"show {lead_id}"))


async def test_the_form_names_a_programme_the_org_lacks_and_a_bad_phone_under_their_fields_and_stays_open(stack):
    await connected(stack, ANN, ANN_EMAIL)  # the org's fields are in the store from here on
    view = await open_form(stack, ANN, "create", "lead_create")
    inputs = {b["block_id"]: b["element"] for b in view.view["blocks"] if b["type"] == "input"}
    assert inputs["lead_Programme"]["type"] == "plain_text_input"  # 120 programmes: more than a menu holds

    refused = await stack.slack.submit_view(
        ANN,
        view.view_id,
        {
            "lead_Last_Name": "Doe",
            "lead_Mobile": "call me maybe",  # a standard field's mistake: told in the same round as the org's
            "lead_Programme": "BSc Astrology",
            "lead_Assistant_Phone": "call me",
        },
    )

    assert refused.status == 200 and not refused.client_errors  # the bot's check, in its ack
    assert set(refused.errors) == {"lead_Mobile", "lead_Programme", "lead_Assistant_Phone"}
    assert "Programme of interest `BSc Astrology` is not one of its values" in refused.errors["lead_Programme"]
    assert "Assistant's phone `call me` is not a phone number" in refused.errors["lead_Assistant_Phone"]
    assert crm_writes(stack) == [] and leads_in(stack, ANN_EMAIL) == []

    seq = stack.slack.seq
    taken = await stack.slack.submit_view(
        ANN,
        view.view_id,
        {"lead_Last_Name": "Doe", "lead_Programme": "bsc physics", "lead_Assistant_Phone": "+47 22 00 00 00"},
    )

    assert taken.status == 200 and not taken.errors
    await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq) and "Created Lead" in m.text, timeout=15)
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Programme"], stored["Assistant_Phone"]) == ("BSc Physics", "+47 22 00 00 00")


async def test_today_is_the_persons_own_day_in_their_time_zone(stack):
    # NOW is 2026-12-23 16:30 UTC: already the 24th in Auckland (UTC+13 in December), still the 23rd in London
    stack.slack.add_user(BOB, name="bob", real_name="Bob Kiwi", email="bob@globex.test", tz="Pacific/Auckland")
    await connected(stack, ANN, ANN_EMAIL)
    await connected(stack, BOB, "bob@globex.test")
    asked_before = users_info_of(stack, BOB)

    await ask(stack, ANN, 'create last=London "Follow-up date"=today')
    await ask(stack, BOB, 'create last=Auckland "Follow-up date"=today')
    await ask(stack, BOB, 'create last=Fixed "Follow-up date"=2026-12-20')  # no relative day: Slack is not asked

    [london] = leads_in(stack, ANN_EMAIL)
    by_name = {lead["Last_Name"]: lead["Follow_Up_Date"] for lead in leads_in(stack, "bob@globex.test")}
    assert london["Follow_Up_Date"] == "2026-12-23"
    assert by_name == {"Auckland": "2026-12-24", "Fixed": "2026-12-20"}
    assert users_info_of(stack, BOB) - asked_before == 1  # for the first value that needed it, then kept


def users_info_of(stack, user: str) -> int:
    return sum(1 for c in stack.slack.calls if c.method == "users.info" and c.args.get("user") == user)


async def test_numbers_read_back_from_zoho_are_shown_as_typed_not_as_floats(stack):
    await connected(stack, ANN, ANN_EMAIL)

    await ask(stack, ANN, 'create last=Doe "annual revenue"=12500 "deal size"=1250.50')
    [stored] = leads_in(stack, ANN_EMAIL)

    shown = shown_text(await ask(stack, ANN, f"show {stored['id']}"))
    assert "*Annual Revenue:* 12500\\n" in shown and "*Deal size:* 1250.5" in shown
    assert "12500.0" not in shown  # Zoho's JSON float, as it was shown before
