"""`/lead create|list|edit|delete` end to end: Slack emulator → bot → real zohocrmsdk → Zoho emulator.

Every test checks what the salesperson would notice: the reply they see, and the Leads really stored (or not)
in their org at the emulator.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.slack.reply import WORKING_TEXT
from bot.slack.views.lead_actions import LEAD_DELETE, LEAD_EDIT, LEAD_PAGE_NEXT, LEAD_PAGE_PREV, decode_lead_button
from playground.slack.records import RecordedMessage
from tests.stack import ANN, BOB, Stack

ANN_EMAIL, BOB_EMAIL = "ann@acme.test", "bob@globex.test"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


# ----- helpers (also used by test_leads_isolation.py) -----------------------------------------------------------


def org_of(stack: Stack, email: str) -> str:
    return stack.zoho.user(email).org_id


def leads_in(stack: Stack, email: str) -> list[dict[str, Any]]:
    return stack.zoho.leads(org_of(stack, email))


def crm_writes(stack: Stack) -> list[Any]:
    return [call for call in stack.zoho.crm_calls if call.method in WRITES]


def shown_text(message: RecordedMessage) -> str:
    """The message as a person reads it: its text and every text in its blocks."""
    return message.text + "\n" + json.dumps(message.blocks, ensure_ascii=False)


def is_answer(m: RecordedMessage, user: str, after: int) -> bool:
    return m.seq > after and m.user == user and m.kind in ("response_url", "ack") and m.text != WORKING_TEXT


async def ask(stack: Stack, user: str, text: str, timeout: float = 15.0) -> RecordedMessage:
    """Type `/lead text` as `user`; the answer they see (not the working notice)."""
    seq = stack.slack.seq
    result = await stack.command(user, text)
    assert result.status == 200 and result.error is None, result
    if result.ack_body is not None:
        return await stack.slack.wait_for_message(lambda m: is_answer(m, user, seq) and m.kind == "ack")
    return await stack.slack.wait_for_message(
        lambda m: m.response_url == result.response_url and m.text != WORKING_TEXT, timeout=timeout
    )


async def click(stack: Stack, user: str, message: RecordedMessage, action_id: str, value: str | None = None):
    """Press a button; the message the user sees next (a replacement or a new one)."""
    seq = stack.slack.seq
    result = await stack.slack.click_button(user, message, action_id, value)
    assert result.status == 200 and result.error is None, result
    return await stack.slack.wait_for_message(
        lambda m: m.seq > seq and m.user == user and m.shown and m.text != WORKING_TEXT, timeout=15
    )


async def open_form(stack: Stack, user: str, text: str, callback_id: str):
    seq = stack.slack.seq
    result = await stack.command(user, text)
    assert result.status == 200 and result.error is None, result
    return await stack.slack.wait_for_view(
        lambda v: v.seq > seq and v.user_id == user and v.callback_id == callback_id and not v.closed, timeout=15
    )


def button_values(message: RecordedMessage, action_id: str) -> list[str]:
    return [
        element.get("value")
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("action_id") == action_id
    ]


# ----- create ----------------------------------------------------------------------------------------------------


async def test_create_with_values_stores_the_lead_and_replies_with_its_id(stack):
    await stack.connect(ANN, ANN_EMAIL)
    answer = await ask(stack, ANN, 'create last=Doe first=Jane company="Acme Inc" email=jane@acme.test phone=+15550100')
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Last_Name"], stored["First_Name"], stored["Company"]) == ("Doe", "Jane", "Acme Inc")
    assert (stored["Email"], stored["Phone"]) == ("jane@acme.test", "+15550100")
    assert "Created Lead" in answer.text and stored["id"] in answer.text
    assert answer.is_ephemeral


async def test_create_without_values_opens_the_form_and_the_form_creates_the_lead(stack):
    await stack.connect(ANN, ANN_EMAIL)
    view = await open_form(stack, ANN, "create", "lead_create")
    seq = stack.slack.seq
    result = await stack.slack.submit_view(
        ANN, view.view_id, {"lead_Last_Name": "Modal", "lead_Company": "Form & Co", "lead_Email": "m@form.test"}
    )
    assert result.status == 200 and result.error is None and not result.client_errors
    assert stack.slack.open_views(ANN) == []  # the form closed
    answer = await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq))
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Last_Name"], stored["Company"], stored["Email"]) == ("Modal", "Form & Co", "m@form.test")
    assert "Created Lead" in answer.text and stored["id"] in answer.text
    assert "Form &amp; Co" in answer.text  # user text escaped for mrkdwn


async def test_form_with_a_bad_email_keeps_the_form_open_with_the_error_next_to_the_email(stack):
    await stack.connect(ANN, ANN_EMAIL)
    view = await open_form(stack, ANN, "create", "lead_create")
    # Slack's own check passes this address; ours does not (no underscores in a domain name).
    result = await stack.slack.submit_view(
        ANN, view.view_id, {"lead_Last_Name": "Doe", "lead_Email": "jane@acme_corp.test"}
    )
    assert result.status == 200 and result.error is None
    assert result.response["response_action"] == "errors"
    assert set(result.response["errors"]) == {"lead_Email"}
    assert "jane@acme_corp.test" in result.response["errors"]["lead_Email"]
    assert [v.view_id for v in stack.slack.open_views(ANN)] == [view.view_id]  # still open, as typed
    assert crm_writes(stack) == [] and leads_in(stack, ANN_EMAIL) == []


async def test_form_without_a_last_name_is_refused_by_slack_and_a_blank_one_by_the_bot(stack):
    await stack.connect(ANN, ANN_EMAIL)
    view = await open_form(stack, ANN, "create", "lead_create")
    result = await stack.slack.submit_view(ANN, view.view_id, {"lead_Last_Name": "   ", "lead_Company": "Acme"})
    assert result.response["response_action"] == "errors" and "lead_Last_Name" in result.response["errors"]
    assert leads_in(stack, ANN_EMAIL) == []


# ----- wrong input: a clear message, nothing written ---------------------------------------------------------------


async def test_wrong_inputs_are_explained_with_what_was_typed_and_nothing_is_written(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [seeded] = stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "Keep", "Email": "keep@acme.test"}])
    before = leads_in(stack, ANN_EMAIL)
    cases = {
        "create last=Doe compnay=Acme": ["compnay", "did you mean `company`"],
        "create first=Jane company=Acme": ["Last Name is required", "first=Jane"],
        "create last=Doe email=not-an-address": ["not-an-address", "not an e-mail address"],
        f"create last={'x' * 81}": ["81 characters", "at most 80"],
        f"edit {seeded} emial=x@y.test": ["emial", "did you mean `email`"],
        f"edit {seeded} email=bad@": ["bad@", "not an e-mail address"],
        f"edit {seeded} last=": ["has no value"],
        "edit 12ab last=Doe": ["12ab", "not a Lead id"],
        "delete": ["Which Lead?", "Nothing was deleted"],
        "delete abc": ["abc", "not a Lead id", "Nothing was deleted"],
    }
    for typed, expected in cases.items():
        answer = await ask(stack, ANN, typed)
        shown = shown_text(answer)
        assert answer.is_ephemeral
        for part in expected:
            assert part in shown, (typed, part, shown)
        assert "You typed" in shown and "/lead " in shown, typed
        assert ("Nothing was saved" in shown) != typed.startswith("delete"), (typed, shown)
    assert crm_writes(stack) == []
    assert leads_in(stack, ANN_EMAIL) == before


async def test_unknown_ids_are_named_and_nothing_changes(stack):
    await stack.connect(ANN, ANN_EMAIL)
    stack.zoho.seed_leads(ANN_EMAIL, 2)
    before = leads_in(stack, ANN_EMAIL)
    missing = "5725767000999999999"
    for typed in (f"delete {missing}", f"edit {missing} company=Other", f"edit {missing}"):
        answer = await ask(stack, ANN, typed)
        assert missing in answer.text and "no Lead" in answer.text, (typed, answer.text)
    assert stack.slack.views == {}  # no form for a Lead that does not exist
    assert leads_in(stack, ANN_EMAIL) == before


async def test_no_permission_is_explained_and_nothing_is_written(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "Stays"}])
    stack.zoho.set_permissions(ANN_EMAIL, create=False, update=False, delete=False)
    for typed, verb in (
        ("create last=Doe", "create"),
        (f"edit {lead_id} last=New", "edit"),
        (f"delete {lead_id}", "delete"),
    ):
        answer = await ask(stack, ANN, typed)
        assert "does not allow you to" in answer.text and verb in answer.text, answer.text
    [stored] = leads_in(stack, ANN_EMAIL)
    assert stored["Last_Name"] == "Stays"


async def test_a_profile_that_may_not_see_leads_is_told_so_for_a_list_as_for_a_search(stack):
    await stack.connect(ANN, ANN_EMAIL)
    stack.zoho.set_permissions(ANN_EMAIL, read=False)

    for typed in ("list", "list all", "list acme"):
        answer = await ask(stack, ANN, typed)
        assert "Your Zoho CRM profile does not allow you to see Leads." in answer.text, (typed, answer.text)


# ----- list, search and pages -----------------------------------------------------------------------------------


async def test_list_and_search_show_the_callers_leads(stack):
    await stack.connect(ANN, ANN_EMAIL)
    stack.zoho.seed_leads(
        ANN_EMAIL,
        [
            {"Last_Name": "Payload", "Company": "Payload Systems"},
            {"Last_Name": "Smith", "Company": "Widgets <Ltd>"},
        ],
    )
    listed = await ask(stack, ANN, "list")
    shown = shown_text(listed)
    assert "Payload Systems" in shown and "Widgets &lt;Ltd&gt;" in shown
    assert len(button_values(listed, LEAD_EDIT)) == 2 and len(button_values(listed, LEAD_DELETE)) == 2

    found = await ask(stack, ANN, "list widgets")
    assert "Widgets" in shown_text(found) and "Payload Systems" not in shown_text(found)

    # bolt alone answers a body containing "payload" with 404; ours searches for it
    found = await ask(stack, ANN, "list payload")
    assert "Payload Systems" in shown_text(found) and "Widgets" not in shown_text(found)
    assert "matching" in found.text

    nothing = await ask(stack, ANN, "list zzzz")
    assert "No Leads match" in shown_text(nothing)


async def test_paging_through_25_leads_with_next_and_previous(stack):
    await stack.connect(ANN, ANN_EMAIL)
    ids = stack.zoho.seed_leads(ANN_EMAIL, 25)
    first = await ask(stack, ANN, "list")
    page1 = button_values(first, LEAD_EDIT)
    assert len(page1) == 10 and button_values(first, LEAD_PAGE_PREV) == []
    second = await click(stack, ANN, first, LEAD_PAGE_NEXT)
    assert second.replace_original and "page 2" in second.text
    page2 = button_values(second, LEAD_EDIT)
    third = await click(stack, ANN, second, LEAD_PAGE_NEXT)
    page3 = button_values(third, LEAD_EDIT)
    assert (len(page2), len(page3)) == (10, 5)
    assert button_values(third, LEAD_PAGE_NEXT) == []
    assert sorted(decode_lead_button(v).lead_id for v in page1 + page2 + page3) == sorted(ids)
    back = await click(stack, ANN, third, LEAD_PAGE_PREV)
    assert button_values(back, LEAD_EDIT) == page2


async def test_search_pages_keep_the_words(stack):
    await stack.connect(ANN, ANN_EMAIL)
    stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": f"Acme {i}"} for i in range(12)] + [{"Last_Name": "Other"}])
    first = await ask(stack, ANN, "list acme")
    second = await click(stack, ANN, first, LEAD_PAGE_NEXT)
    assert len(button_values(first, LEAD_EDIT)) == 10 and len(button_values(second, LEAD_EDIT)) == 2
    assert "acme" in second.text and "Other" not in shown_text(second)


# ----- edit -----------------------------------------------------------------------------------------------------


async def test_edit_with_values_changes_only_those_fields(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "Doe", "Company": "Old", "Email": "d@old.test"}])
    answer = await ask(stack, ANN, f"edit {lead_id} company=New")
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Company"], stored["Last_Name"], stored["Email"]) == ("New", "Doe", "d@old.test")
    assert "Updated Lead" in answer.text and lead_id in answer.text


async def test_picklist_fields_take_their_values_by_arguments_and_by_form(stack):
    await stack.connect(ANN, ANN_EMAIL)

    # The help's own example, and an org picklist by its Zoho API name (not one of our keys).
    created = await ask(stack, ANN, "create last=Doe status=Contacted source=Partner Rating=Active")
    [lead] = leads_in(stack, ANN_EMAIL)
    edited = await ask(stack, ANN, f"edit {lead['id']} status=Pre-Qualified")

    assert "Created Lead" in created.text and "Updated Lead" in edited.text
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Lead_Status"], stored["Lead_Source"], stored["Rating"]) == ("Pre-Qualified", "Partner", "Active")


async def test_an_edit_by_arguments_clears_a_field_with_empty_quotes(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "Doe", "Phone": "+1 555 0100", "City": "Oslo"}])

    cleared = await ask(stack, ANN, f'edit {lead_id} phone=""')
    refused = await ask(stack, ANN, f'edit {lead_id} last=""')

    assert "Updated Lead" in cleared.text
    assert "cannot be emptied" in shown_text(refused)
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Phone"], stored["City"], stored["Last_Name"]) == (None, "Oslo", "Doe")


async def test_the_form_takes_a_website_without_a_scheme_as_the_command_does(stack):
    await stack.connect(ANN, ANN_EMAIL)
    view = await open_form(stack, ANN, "create", "lead_create")
    seq = stack.slack.seq

    result = await stack.slack.submit_view(ANN, view.view_id, {"lead_Last_Name": "Web", "lead_Website": "acme.com"})

    assert result.status == 200 and not result.client_errors and result.response is None
    await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq))
    assert [lead["Website"] for lead in leads_in(stack, ANN_EMAIL)] == ["acme.com"]


async def test_edit_form_is_prefilled_and_saves_several_fields(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(
        ANN_EMAIL, [{"Last_Name": "Doe", "First_Name": "Jane", "Company": "Old", "Phone": "+1 555 0100"}]
    )
    view = await open_form(stack, ANN, f"edit {lead_id}", "lead_edit")
    initial = {b["block_id"]: b["element"].get("initial_value") for b in view.view["blocks"] if b["type"] == "input"}
    assert (initial["lead_Last_Name"], initial["lead_Company"]) == ("Doe", "Old")
    seq = stack.slack.seq
    result = await stack.slack.submit_view(
        ANN, view.view_id, {"lead_Company": "New Co", "lead_Email": "jane@new.test", "lead_Phone": ""}
    )
    assert result.status == 200 and result.response is None
    answer = await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq))
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Company"], stored["Email"], stored["Phone"]) == ("New Co", "jane@new.test", None)
    assert (stored["Last_Name"], stored["First_Name"]) == ("Doe", "Jane")
    assert "Updated Lead" in answer.text


async def test_edit_form_writes_only_what_was_changed_leaving_odd_stored_values_alone(stack):
    await stack.connect(ANN, ANN_EMAIL)
    # Typed into Zoho's own UI long ago: our rules would refuse this e-mail, but nobody is changing it now.
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "Odd", "Email": "ask at reception", "Phone": "1"}])
    view = await open_form(stack, ANN, f"edit {lead_id}", "lead_edit")
    seq = stack.slack.seq

    result = await stack.slack.submit_view(ANN, view.view_id, {"lead_Phone": "+44 20 7946 0000"})

    assert result.status == 200 and result.response is None  # no error under the e-mail the person left alone
    answer = await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq))
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["Phone"], stored["Email"], stored["Last_Name"]) == ("+44 20 7946 0000", "ask at reception", "Odd")
    assert "Updated Lead" in answer.text


async def test_an_edit_form_saved_unchanged_writes_nothing(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "Same", "Company": "Same Co"}])
    view = await open_form(stack, ANN, f"edit {lead_id}", "lead_edit")
    seq, writes = stack.slack.seq, [c for c in stack.zoho.crm_calls if c.method in ("PUT", "POST", "DELETE")]

    await stack.slack.submit_view(ANN, view.view_id, {})

    answer = await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq))
    assert "Nothing changed" in answer.text
    assert [c for c in stack.zoho.crm_calls if c.method in ("PUT", "POST", "DELETE")] == writes


async def test_edit_button_in_the_list_opens_the_form(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "Button"}])
    listed = await ask(stack, ANN, "list")
    seq = stack.slack.seq
    [value] = button_values(listed, LEAD_EDIT)
    assert decode_lead_button(value).lead_id == lead_id
    await stack.slack.click_button(ANN, listed, LEAD_EDIT, value)
    view = await stack.slack.wait_for_view(lambda v: v.seq > seq and v.callback_id == "lead_edit")
    await stack.slack.submit_view(ANN, view.view_id, {"lead_Last_Name": "Pressed"})
    answer = await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, seq) and "Updated" in m.text)
    assert leads_in(stack, ANN_EMAIL)[0]["Last_Name"] == "Pressed"
    assert listed.shown and answer.ts != listed.ts  # the list stays


# ----- delete ---------------------------------------------------------------------------------------------------


async def test_delete_by_id_and_by_the_lists_button(stack):
    await stack.connect(ANN, ANN_EMAIL)
    first, second, third = stack.zoho.seed_leads(ANN_EMAIL, 3)
    answer = await ask(stack, ANN, f"delete {first}")
    assert answer.text.startswith("Deleted Lead *Seed Lead 1* (Company 1)") and first in answer.text  # names it
    assert {lead["id"] for lead in leads_in(stack, ANN_EMAIL)} == {second, third}

    listed = await ask(stack, ANN, "list")
    [button] = [
        e
        for b in listed.blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["action_id"] == LEAD_DELETE and decode_lead_button(e["value"]).lead_id == third
    ]
    assert button["confirm"]["confirm"]["text"] == "Delete"  # Slack asks before sending the click
    deleted = await click(stack, ANN, listed, LEAD_DELETE, button["value"])
    assert {lead["id"] for lead in leads_in(stack, ANN_EMAIL)} == {second}
    # The list is shown again in its place, without the deleted Lead, under what was deleted.
    assert deleted.ts == listed.ts and deleted.is_ephemeral
    assert "Deleted Lead *Seed Lead 3* (Company 3)" in deleted.text and third in deleted.text
    rows = [b["text"]["text"] for b in deleted.blocks if b.get("block_id", "").startswith("lead_row_")]
    assert len(rows) == 1 and "Seed Lead 2" in rows[0] and second in rows[0]
    assert [decode_lead_button(v).lead_id for v in button_values(deleted, LEAD_DELETE)] == [second]


async def test_deleting_the_last_lead_of_a_page_shows_the_page_before(stack):
    await stack.connect(ANN, ANN_EMAIL)
    ids = stack.zoho.seed_leads(ANN_EMAIL, 11)
    second_page = await click(stack, ANN, await ask(stack, ANN, "list"), LEAD_PAGE_NEXT)
    [value] = button_values(second_page, LEAD_DELETE)  # the oldest Lead, alone on page 2

    shown = await click(stack, ANN, second_page, LEAD_DELETE, value)

    assert decode_lead_button(value).lead_id == ids[0] and len(leads_in(stack, ANN_EMAIL)) == 10
    assert "page 1" in shown_text(shown) and "Deleted Lead" in shown.text
    assert len(button_values(shown, LEAD_DELETE)) == 10 and not button_values(shown, LEAD_PAGE_NEXT)


async def test_a_lead_deleted_from_its_own_message_turns_that_message_into_what_was_deleted(stack):
    await stack.connect(ANN, ANN_EMAIL)
    created = await ask(stack, ANN, "create last=Solo company=Acme")
    [value] = button_values(created, LEAD_DELETE)
    assert decode_lead_button(value).page is None  # this message is not a list

    told = await click(stack, ANN, created, LEAD_DELETE, value)

    # in place: no Edit/Delete left on a Lead that is gone
    assert told.ts == created.ts and told.text.startswith("Deleted Lead *Solo* (Acme)")
    assert button_values(told, LEAD_DELETE) == [] and button_values(told, LEAD_EDIT) == []
    assert leads_in(stack, ANN_EMAIL) == []


# ----- slow Zoho, lost connection, not connected ----------------------------------------------------------------


async def test_a_slow_zoho_first_shows_working_then_the_answer_replaces_it(stack):
    await stack.connect(ANN, ANN_EMAIL)
    stack.zoho.seed_leads(ANN_EMAIL, 1)
    stack.zoho.latency = 2.0
    seq = stack.slack.seq
    result = await stack.command(ANN, "list")
    assert result.status == 200 and result.error is None  # acked in time
    notice = await stack.slack.wait_for_message(lambda m: m.seq > seq and m.text == WORKING_TEXT, timeout=5)
    answer = await stack.slack.wait_for_message(lambda m: is_answer(m, ANN, notice.seq), timeout=15)
    assert answer.replace_original and "Your Leads" in answer.text


async def test_a_revoked_token_forgets_the_connection_and_sends_a_fresh_login_link(stack):
    await stack.connect(ANN, ANN_EMAIL)
    identity = stack.store.connections.list("T0TEST")[0].identity
    connection = stack.store.connections.get(identity)
    refresh_token = stack.store.connections.secrets(connection.id).refresh_token
    assert stack.zoho.ledger.revoke(refresh_token)  # e.g. the user removed the app at Zoho
    stack.zoho.expire_access_tokens(ANN_EMAIL)
    dms_before = len(stack.slack.dms(ANN))
    answer = await ask(stack, ANN, "create last=Lost")
    assert "disconnected" in answer.text and "login link" in answer.text
    assert stack.store.connections.get(identity) is None
    assert len(stack.slack.dms(ANN)) == dms_before + 1 and "Login with Zoho" in stack.slack.dms(ANN)[-1].text
    assert leads_in(stack, ANN_EMAIL) == []


async def test_an_expired_access_token_is_refreshed_once_and_the_command_works(stack):
    await stack.connect(ANN, ANN_EMAIL)
    stack.zoho.expire_access_tokens(ANN_EMAIL)  # Zoho says INVALID_TOKEN though our copy looks fresh
    answer = await ask(stack, ANN, "create last=Refreshed")
    assert "Created Lead" in answer.text
    assert [lead["Last_Name"] for lead in leads_in(stack, ANN_EMAIL)] == ["Refreshed"]
    assert stack.zoho.counters["refresh"] == 1


async def test_not_connected_gets_a_login_link_and_nothing_reaches_zoho(stack):
    answer = await ask(stack, BOB, "create last=Doe")
    assert "not connected" in answer.text
    assert "Login with Zoho" in stack.slack.dms(BOB)[-1].text
    assert stack.zoho.crm_calls == []


async def test_commands_keep_working_while_another_runs(stack):
    """Ten lists at once from one user all come back (the SDK runs in a pool, not on the loop)."""
    await stack.connect(ANN, ANN_EMAIL)
    stack.zoho.seed_leads(ANN_EMAIL, 3)
    answers = await asyncio.gather(*(ask(stack, ANN, "list") for _ in range(10)))
    assert all("Your Leads" in a.text for a in answers)


async def test_next_on_a_list_that_shrank_since_shows_it_from_page_1_saying_why(stack):
    await stack.connect(ANN, ANN_EMAIL)
    ids = stack.zoho.seed_leads(ANN_EMAIL, 15)
    first_page = await ask(stack, ANN, "list")
    stack.zoho.lead_store.delete(org_of(stack, ANN_EMAIL), ids[:6])  # a colleague deleted 6 in Zoho meanwhile

    shown = await click(stack, ANN, first_page, LEAD_PAGE_NEXT)

    assert "Page 2 is empty now: Leads were deleted since this list was shown" in shown_text(shown)
    assert len(button_values(shown, LEAD_DELETE)) == 9  # the 9 left, not "You own no Leads"
    assert "no Leads" not in shown_text(shown)
