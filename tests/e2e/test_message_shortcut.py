"""The message shortcut "Create Zoho Lead": the create form started from a message in a channel, saved as a Lead
in the person's own Zoho org; nothing opens for someone who is not connected (the login link instead)."""

from __future__ import annotations

import pytest

from bot.slack.commands.shortcuts import LEAD_FROM_MESSAGE, lead_values_from
from tests.e2e.test_leads import ANN_EMAIL, is_answer, leads_in
from tests.stack import ANN, BOB

MESSAGE = "Hi team, Jane Doe from Acme wants a demo <next week>: jane@acme.test or +1 555 0100 & thanks!"


def initial_values(view) -> dict[str, str]:
    return {b["block_id"]: b["element"].get("initial_value", "") for b in view.view["blocks"] if b["type"] == "input"}


async def test_the_shortcut_opens_the_form_from_the_message_and_saves_the_lead(stack):
    await stack.connect(ANN, ANN_EMAIL)
    message = stack.slack.post_as(BOB, "C0GENERAL", MESSAGE)
    seq = stack.slack.seq

    result = await stack.slack.run_message_shortcut(ANN, message, LEAD_FROM_MESSAGE)

    assert result.status == 200 and result.error is None
    view = await stack.slack.wait_for_view(
        lambda v: v.seq > seq and v.user_id == ANN and v.callback_id == "lead_create"
    )
    shown = initial_values(view)
    assert (shown["lead_First_Name"], shown["lead_Last_Name"]) == ("Jane", "Doe")
    assert (shown["lead_Email"], shown["lead_Phone"]) == ("jane@acme.test", "+1 555 0100")
    assert shown["lead_Description"].startswith(MESSAGE)  # as typed, Slack's escaping and markup undone
    assert f"/archives/C0GENERAL/p{message.ts.replace('.', '')}" in shown["lead_Description"]
    assert leads_in(stack, ANN_EMAIL) == []  # nothing saved before the form is

    seq = stack.slack.seq
    saved = await stack.slack.submit_view(ANN, view.view_id, {"lead_Company": "Acme"})
    assert saved.status == 200 and not saved.client_errors
    answer = await stack.slack.wait_for_message(lambda m: m.seq > seq and m.user == ANN and "Created Lead" in m.text)
    [stored] = leads_in(stack, ANN_EMAIL)
    assert (stored["First_Name"], stored["Last_Name"], stored["Company"]) == ("Jane", "Doe", "Acme")
    assert (stored["Email"], stored["Phone"]) == ("jane@acme.test", "+1 555 0100")
    assert MESSAGE in stored["Description"] and stored["id"] in answer.text


async def test_someone_not_connected_gets_the_login_link_and_no_form(stack):
    message = stack.slack.post_as(ANN, "C0GENERAL", MESSAGE)
    seq = stack.slack.seq

    await stack.slack.run_message_shortcut(BOB, message, LEAD_FROM_MESSAGE)

    note = await stack.slack.wait_for_message(lambda m: is_answer(m, BOB, seq))
    assert "not connected to Zoho CRM" in note.text and "login link" in note.text and note.is_ephemeral
    await stack.slack.wait_for_message(lambda m: m.seq > seq and m.kind == "dm" and m.user == BOB)
    assert stack.slack.open_views(BOB) == []
    assert not [call for call in stack.zoho.crm_calls if call.method == "POST"]


def test_what_is_found_in_a_message() -> None:
    found = lead_values_from("Dear Ms Smith, call Maria Lopez-Garcia at (030) 1234-5678 or maria@lopez.test", "")
    assert (found["First_Name"], found["Last_Name"]) == ("Maria", "Lopez-Garcia")
    assert (found["Phone"], found["Email"]) == ("(030) 1234-5678", "maria@lopez.test")
    bare = lead_values_from("ping me on 2026-12-24, no name here", "https://x.slack.com/archives/C1/p1")
    assert "First_Name" not in bare and "Phone" not in bare and "Email" not in bare
    assert bare["Description"] == "ping me on 2026-12-24, no name here\n\nhttps://x.slack.com/archives/C1/p1"
    long = lead_values_from("x" * 5000, "https://x.slack.com/archives/C1/p1")["Description"]
    assert len(long) <= 3000 and long.endswith("x…\n\nhttps://x.slack.com/archives/C1/p1")  # cut, and it shows


@pytest.mark.parametrize(
    ("message", "first", "last"),
    [
        ("Met Jose Garcia at the fair", "Jose", "Garcia"),  # a sentence's first word is capitalised anyway
        ("Open Day signup: Chen Wei", "Chen", "Wei"),
        ("José García wants a call back", "José", "García"),
        ("Zoë O'Connor, MSc applicant", "Zoë", "O'Connor"),
        ("Jane Doe called about fees", "Jane", "Doe"),  # the only pair: taken though it opens the message
        ("Call Bob. Anna Smith said hi", "Anna", "Smith"),
    ],
)
def test_a_name_is_found_past_a_sentences_first_word_and_in_any_script(message: str, first: str, last: str) -> None:
    found = lead_values_from(message, "")
    assert (found["First_Name"], found["Last_Name"]) == (first, last)


def test_capitals_that_are_not_a_name_are_not_taken_for_one() -> None:
    assert "First_Name" not in lead_values_from("ping NASA ASAP about the MBA", "")


def test_an_address_is_found_where_its_word_starts_and_nowhere_inside_a_long_word() -> None:
    # Where a long run of an address's characters holds no `@`, no start inside it is tried: before, a message of
    # 40,000 digits took seconds here, on the event loop, and every other request waited (measured: 6.0 s).
    found = lead_values_from("write to (jane.o'neil+crm@acme.co.uk) or at:bob@b.test", "")
    assert found["Email"] == "jane.o'neil+crm@acme.co.uk"
    run = "1" * 40_000
    assert "Email" not in lead_values_from(run + " ok", "")
    assert lead_values_from(run + " jane@acme.test", "")["Email"] == "jane@acme.test"
