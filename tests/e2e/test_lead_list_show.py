"""Mine and all, search, show, and buttons on messages whose Lead is gone or changed, end to end: Slack emulator →
bot → real zohocrmsdk → Zoho emulator. Ann and Ada share the org Acme Ltd; each Lead is owned by whoever created it.
"""

from __future__ import annotations

import time

from bot.slack.views.lead_actions import LEAD_DELETE, LEAD_EDIT, LEAD_PAGE_NEXT, decode_lead_button
from tests.e2e.test_leads import ANN_EMAIL, ask, button_values, click, leads_in, shown_text
from tests.stack import ADA, ANN

ADA_EMAIL = "ada@acme.test"


def row_texts(message) -> list[str]:
    return [b["text"]["text"] for b in message.blocks if b.get("block_id", "").startswith("lead_row_")]


def heading(message) -> str:
    return message.blocks[0]["text"]["text"]


def searches(stack, since: int = 0) -> list[dict[str, str]]:
    return [c.query for c in stack.zoho.crm_calls[since:] if c.path == "/crm/v8/Leads/search"]


async def test_list_shows_only_my_leads_and_list_all_shows_my_colleagues_too(stack):
    await stack.connect(ANN, ANN_EMAIL)
    await stack.connect(ADA, ADA_EMAIL)
    await ask(stack, ANN, "create last=Annlead company=Acme")
    await ask(stack, ADA, "new last=Adalead company=Acme")  # `new` creates, like `create`
    owners = {lead["Last_Name"]: lead["Owner"]["email"] for lead in leads_in(stack, ANN_EMAIL)}
    assert owners == {"Annlead": ANN_EMAIL, "Adalead": ADA_EMAIL}  # owned by whoever created it, in one org

    mine = await ask(stack, ANN, "list")
    everyone = await ask(stack, ANN, "list all")
    adas = await ask(stack, ADA, "list")

    assert heading(mine) == "Your Leads · page 1 of 1"
    [row] = row_texts(mine)
    assert "Annlead" in row and "Owner: Ann Smith" in row and "Adalead" not in shown_text(mine)
    assert heading(everyone) == "All Leads you can see · page 1 of 1"
    assert sorted("Annlead" in r for r in row_texts(everyone)) == [False, True]
    assert "Owner: Ada Admin" in shown_text(everyone)
    assert "Adalead" in shown_text(adas) and "Annlead" not in shown_text(adas)


async def test_pages_say_how_many_there_are_and_next_keeps_mine_or_all(stack):
    await stack.connect(ANN, ANN_EMAIL)
    stack.zoho.seed_leads(ANN_EMAIL, 25)
    stack.zoho.seed_leads(ADA_EMAIL, [{"Last_Name": f"Adaseed {i}"} for i in range(8)])

    mine = await ask(stack, ANN, "list")
    assert heading(mine) == "Your Leads · page 1 of 3"
    mine2 = await click(stack, ANN, mine, LEAD_PAGE_NEXT)
    assert heading(mine2) == "Your Leads · page 2 of 3" and "Adaseed" not in shown_text(mine2)

    everyone = await ask(stack, ANN, "list all")
    assert heading(everyone) == "All Leads you can see · page 1 of 4"  # 33 Leads
    last = await click(
        stack,
        ANN,
        await click(stack, ANN, await click(stack, ANN, everyone, LEAD_PAGE_NEXT), LEAD_PAGE_NEXT),
        LEAD_PAGE_NEXT,
    )
    assert heading(last) == "All Leads you can see · page 4 of 4" and len(row_texts(last)) == 3
    counted = [c.query for c in stack.zoho.crm_calls if c.path == "/crm/v8/Leads/actions/count"]
    assert {"criteria": f"(Owner:equals:{stack.zoho.user(ANN_EMAIL).crm_user_id})"} in counted and {} in counted


async def test_a_quoted_phrase_is_searched_without_its_quotes_and_an_id_finds_its_lead(stack):
    await stack.connect(ANN, ANN_EMAIL)
    inc, _ = stack.zoho.seed_leads(
        ADA_EMAIL, [{"Last_Name": "Incy", "Company": "Acme Inc"}, {"Last_Name": "Other", "Company": "Acme Tools"}]
    )
    before = len(stack.zoho.crm_calls)

    phrase = await ask(stack, ANN, 'list "Acme Inc"')
    by_id = await ask(stack, ANN, f"search {inc}")

    assert searches(stack, before)[0]["word"] == "Acme Inc"  # the phrase as typed inside the quotes
    assert heading(phrase) == "Leads matching “Acme Inc” · page 1 of 1"
    [row] = row_texts(phrase)
    assert "Incy" in row and "Owner: Ada Admin" in row  # a colleague's Lead is found too
    [row] = row_texts(by_id)
    assert "Incy" in row and inc in row
    assert f"/crm/v8/Leads/{inc}" in [c.path for c in stack.zoho.crm_calls[before:]]


async def test_words_with_commas_and_parentheses_are_sent_escaped_and_find_their_lead(stack):
    await stack.connect(ANN, ANN_EMAIL)
    stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "ONeil", "Company": "Smith & Sons (UK), Ltd."}])
    before = len(stack.zoho.crm_calls)

    found = await ask(stack, ANN, 'find "Sons (UK), Ltd"')

    assert searches(stack, before)[0]["word"] == "Sons \\(UK\\)\\, Ltd"  # as Zoho asks: escaped, then encoded
    [row] = row_texts(found)
    assert "ONeil" in row


async def test_a_one_character_cjk_name_can_be_searched(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [li] = stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "李", "Company": "北京"}])
    before = len(stack.zoho.crm_calls)

    found = await ask(stack, ANN, "list 李")

    [row] = row_texts(found)
    assert "李" in row and li in row
    assert "criteria" in searches(stack, before)[0]  # Zoho's word search needs 2 characters


async def test_show_has_every_field_with_a_value_the_owner_and_times(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(
        ANN_EMAIL, [{"Last_Name": "Shown", "Company": "Acme", "City": "Oslo", "Customer_Tier": "Gold"}]
    )

    shown = await ask(stack, ANN, f"show {lead_id}")
    also = await ask(stack, ANN, f"get {lead_id}")

    text = shown_text(shown)
    assert f"Lead *Shown* (Acme) — id `{lead_id}`" in text
    assert "*City:* Oslo" in text and "*Customer tier:* Gold" in text  # a custom value, by its label in the org
    assert "Owner: Ann Smith" in text and "Created 20" in text and "Modified 20" in text
    assert [decode_lead_button(v).lead_id for v in button_values(shown, LEAD_DELETE)] == [lead_id]
    assert shown_text(also) == text


async def test_show_of_an_unknown_id_echoes_it(stack):
    await stack.connect(ANN, ANN_EMAIL)
    answer = await ask(stack, ANN, "show 5725767000009999999")
    assert "There is no Lead with id `5725767000009999999`" in answer.text + shown_text(answer)


async def test_delete_on_a_message_whose_lead_was_deleted_says_so_in_place(stack):
    await stack.connect(ANN, ANN_EMAIL)
    created = await ask(stack, ANN, "create last=Gone company=Acme")
    [lead_id] = [lead["id"] for lead in leads_in(stack, ANN_EMAIL)]
    await ask(stack, ANN, f"delete {lead_id}")
    deletes = [c for c in stack.zoho.crm_calls if c.method == "DELETE"]

    told = await click(stack, ANN, created, LEAD_DELETE, button_values(created, LEAD_DELETE)[0])

    assert told.ts == created.ts  # the old message itself, brought up to date
    assert f"Lead `{lead_id}` no longer exists" in told.text
    assert button_values(told, LEAD_DELETE) == [] and button_values(told, LEAD_EDIT) == []
    assert [c for c in stack.zoho.crm_calls if c.method == "DELETE"] == deletes  # nothing more was deleted


async def test_edit_on_a_list_older_than_its_lead_opens_the_form_and_shows_the_list_as_it_is_now(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": "Changing", "Lead_Status": "New"}])
    listed = await ask(stack, ANN, "list")
    [old] = button_values(listed, LEAD_EDIT)
    stack.zoho.clock = lambda: time.time() + 5  # Zoho's Modified_Time counts whole seconds
    await ask(stack, ANN, f"edit {lead_id} status=Contacted")
    seq = stack.slack.seq

    await stack.slack.click_button(ANN, listed, LEAD_EDIT, old)

    view = await stack.slack.wait_for_view(lambda v: v.seq > seq and v.callback_id == "lead_edit")
    assert view.user_id == ANN
    now = await stack.slack.wait_for_message(lambda m: m.seq > seq and m.ts == listed.ts and m.shown)
    [new] = button_values(now, LEAD_EDIT)
    assert (
        decode_lead_button(new).version
        == leads_in(stack, ANN_EMAIL)[0]["Modified_Time"]
        != decode_lead_button(old).version
    )
    assert "Status: Contacted" in row_texts(now)[0]
