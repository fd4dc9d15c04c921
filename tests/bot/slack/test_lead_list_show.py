"""`/lead list` (mine, all, words, phrases), `/lead show`, the aliases, and buttons on messages whose Lead is gone:
through the real bolt app and front door, what the person sees and what the Lead service was asked."""

from __future__ import annotations

import pytest

from bot.leads.fields import FieldKind, LeadField, OrgFields
from bot.leads.model import Lead, LeadQuery, ListScope
from bot.slack.views.lead_actions import LEAD_DELETE, LEAD_EDIT, PageRequest, encode_lead_button
from bot.zoho import LeadNotFound
from tests.bot.slack.in_process import InProcessBot, ack_json, me, words

URL = "https://hooks.slack.com/commands/T0TEST/1/lead"
CLICK_URL = "https://hooks.slack.com/actions/T0TEST/1/click"
ALICE = "U0ALICE"
LEAD_ID = "5725767000000400001"


@pytest.fixture
def bot() -> InProcessBot:
    bot = InProcessBot()
    bot.store.connect(me(ALICE))
    return bot


async def listed(bot: InProcessBot, text: str) -> list[tuple[object, ...]]:
    await bot.command(ALICE, "/lead", text, URL)
    await bot.settle()
    return bot.leads.service.called("list")


@pytest.mark.parametrize(
    ("typed", "query"),
    [
        ("list", LeadQuery(ListScope.MINE)),
        ("list mine", LeadQuery(ListScope.MINE)),
        ("list all", LeadQuery(ListScope.ALL)),
        ("list ALL", LeadQuery(ListScope.ALL)),
        ("list acme  corp", LeadQuery(ListScope.WORDS, "acme corp")),
        ('list "Acme Inc"', LeadQuery(ListScope.WORDS, "Acme Inc")),  # the phrase, without its quotes
        ("list “Acme Inc”", LeadQuery(ListScope.WORDS, "Acme Inc")),  # the quotes Slack clients substitute
        ('list "all"', LeadQuery(ListScope.WORDS, "all")),  # quoted: the word, not every Lead
        (f"list {LEAD_ID}", LeadQuery(ListScope.WORDS, LEAD_ID)),
        ("search acme", LeadQuery(ListScope.WORDS, "acme")),
        ('find "Acme Inc"', LeadQuery(ListScope.WORDS, "Acme Inc")),
        ("search all", LeadQuery(ListScope.WORDS, "all")),  # `search` always searches
    ],
)
async def test_list_reads_whose_leads_or_which_words(bot: InProcessBot, typed: str, query: LeadQuery) -> None:
    assert await listed(bot, typed) == [(1, query)]


async def test_a_quote_never_closed_is_told_in_the_ack_and_nothing_is_searched(bot: InProcessBot) -> None:
    acked = await bot.command(ALICE, "/lead", 'list "Acme Inc', URL)
    await bot.settle()

    assert bot.leads.service.called("list") == []
    assert 'The quote in `"Acme Inc` is never closed' in words(ack_json(acked))
    assert bot.response_urls.to(URL) == []  # the ack was the whole answer


@pytest.mark.parametrize(("alias", "values"), [("new", {"Last_Name": "Doe"}), ("add", {"Last_Name": "Doe"})])
async def test_new_and_add_create(bot: InProcessBot, alias: str, values: dict[str, str]) -> None:
    await bot.command(ALICE, "/lead", f"{alias} last=Doe", URL)
    await bot.settle()
    assert bot.leads.service.called("create") == [(values,)]
    assert "Created Lead" in words(bot.response_urls.to(URL)[0])


async def test_an_unknown_subcommand_suggests_an_alias(bot: InProcessBot) -> None:
    ack = await bot.command(ALICE, "/lead", "serch acme", URL)
    text = ack_json(ack)["text"]
    assert "Did you mean `/lead search`?" in text and "`find`" in text and "`show`" in text


async def test_show_lists_every_field_with_a_value_labelled_as_the_org_labels_it(bot: InProcessBot) -> None:
    tier = LeadField("Customer_Tier", "Customer tier", FieldKind.PICKLIST, 120, custom=True, choices=("Gold",))
    bot.leads.service.org_fields = OrgFields((*OrgFields.standard().fields, tier))
    bot.leads.service.leads = [
        Lead(
            LEAD_ID,
            {
                "First_Name": "Jane",
                "Last_Name": "Doe",
                "Company": "Acme",
                "Customer_Tier": "Gold",
                "Region_Code__c": "EU-7",  # a field the metadata does not name: under its API name
                "City": "Oslo",
                "Owner": "Ann Smith",
                "Created_Time": "2026-12-01T09:30:00+01:00",
                "Modified_Time": "2026-12-02T10:00:00+00:00",
                "Modified_By": "Ada Admin",
            },
        )
    ]

    await bot.command(ALICE, "/lead", f"get {LEAD_ID}", URL)
    await bot.settle()

    assert bot.leads.service.called("get") == [(LEAD_ID,)]
    (answer,) = bot.response_urls.to(URL)
    shown = words(answer)
    assert f"Lead *Jane Doe* (Acme) — id `{LEAD_ID}`" in shown
    for line in ("*Customer tier:* Gold", "*Region_Code__c:* EU-7", "*City:* Oslo"):
        assert line in shown
    assert "Owner: Ann Smith" in shown
    assert "Created 2026-12-01 08:30 UTC" in shown and "Modified 2026-12-02 10:00 UTC by Ada Admin" in shown
    actions = [e["action_id"] for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == [LEAD_EDIT, LEAD_DELETE]


async def test_show_says_yes_or_no_for_a_yes_no_field_and_a_time_as_people_read_it(bot: InProcessBot) -> None:
    call_at = LeadField("Call_At", "Call at", FieldKind.DATETIME, 30, custom=True)
    bot.leads.service.org_fields = OrgFields((*OrgFields.standard().fields, call_at))
    bot.leads.service.leads = [
        Lead(
            LEAD_ID,
            {"Last_Name": "Doe", "Email_Opt_Out": "false", "Call_At": "2026-12-24T16:00:00+01:00"},
        )
    ]

    await bot.command(ALICE, "/lead", f"show {LEAD_ID}", URL)
    await bot.settle()

    (answer,) = bot.response_urls.to(URL)
    shown = words(answer)
    assert "*Email Opt Out:* No" in shown and "*Call at:* 2026-12-24 15:00 UTC" in shown
    assert "false" not in shown


async def test_show_of_an_unknown_id_echoes_it(bot: InProcessBot) -> None:
    bot.leads.service.missing = LeadNotFound("999")
    await bot.command(ALICE, "/lead", "show 999", URL)
    await bot.settle()
    shown = words(bot.response_urls.to(URL)[0])
    assert "No Lead to show" in shown and "There is no Lead with id `999`" in shown and "/lead show 999" in shown


async def test_show_without_an_id_says_how_in_the_ack(bot: InProcessBot) -> None:
    acked = await bot.command(ALICE, "/lead", "show", URL)
    await bot.settle()
    assert bot.leads.service.called("get") == []
    assert "`/lead show 5725767000000524157`" in words(ack_json(acked))


@pytest.mark.parametrize("typed", ["show abc", "delete 12ab", "edit 12ab last=Doe", 'find "Acme', "create last"])
async def test_a_mistake_in_what_someone_not_connected_typed_is_told_at_once_with_no_login_link(
    typed: str,
) -> None:
    bot = InProcessBot()  # nobody connected

    acked = await bot.command("U0BOB", "/lead", typed, URL)
    await bot.settle()

    said = words(ack_json(acked))
    assert f"/lead {typed}" in said  # what was typed, echoed
    assert "login" not in said.lower()
    assert bot.response_urls.to(URL) == [] and bot.messenger.login_links == [] and bot.messenger.dms == []


async def test_delete_on_a_message_whose_lead_is_gone_turns_that_message_into_saying_so(bot: InProcessBot) -> None:
    bot.leads.service.missing = LeadNotFound(LEAD_ID)

    await bot.click(ALICE, LEAD_DELETE, encode_lead_button(LEAD_ID, "2026-12-02T10:00:00+00:00"), CLICK_URL)
    await bot.settle()

    (answer,) = bot.response_urls.to(CLICK_URL)
    assert answer["replace_original"] is True  # the old message, not a new one below it
    assert f"Lead `{LEAD_ID}` no longer exists" in words(answer)
    assert not [b for b in answer["blocks"] if b["type"] == "actions"]  # no stale buttons left


async def test_edit_in_a_list_whose_lead_is_gone_shows_the_list_again_saying_so(bot: InProcessBot) -> None:
    bot.leads.service.missing = LeadNotFound(LEAD_ID)
    bot.leads.service.leads = [Lead("5725767000000400002", {"Last_Name": "Still here"})]
    at = PageRequest(1, LeadQuery(ListScope.ALL))

    await bot.click(ALICE, LEAD_EDIT, encode_lead_button(LEAD_ID, "v1", at), CLICK_URL)
    await bot.settle()

    assert bot.leads.service.called("list") == [(1, LeadQuery(ListScope.ALL))]  # the same list, as it is now
    (answer,) = bot.response_urls.to(CLICK_URL)
    assert answer["replace_original"] is True
    shown = words(answer)
    assert f"Lead `{LEAD_ID}` no longer exists" in shown and "Still here" in shown
    assert "All Leads you can see" in shown
