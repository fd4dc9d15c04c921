"""The Lead form built from the org's fields, through the real bolt app and front door: the view Slack is asked to
open, and the values the Lead service receives when the person saves it.

The org here is hand-built (`OrgFields`): a custom picklist, a date, a multi-select, a currency, a whole number, a
date-time, a boolean, a required custom field, read-only fields and an owner lookup; and a layout of 120 fields.
Submissions carry the state Slack would send for what the person entered (playground.slack.modal_state).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.leads.fields import FIELDS, OTHER_FIELDS, FieldKind, LayoutSection, LeadField, OrgFields
from bot.leads.model import Lead
from bot.slack.views.lead_form import FORM_PAGE_BACK, FORM_PAGE_MORE, FormContext
from bot.zoho import FieldRejected
from playground.slack.block_limits import view_problems
from playground.slack.modal_state import state_values
from tests.bot.slack.fakes import ViewsRecorder
from tests.bot.slack.in_process import BOT_TOKEN, NOWHERE, InProcessBot, ack_json, me, words

URL = "https://hooks.slack.com/commands/T0TEST/1/lead"
ALICE = "U0ALICE"
STANDARD = {f.api_name: f for f in FIELDS + OTHER_FIELDS}
K = FieldKind


def custom(api_name: str, label: str, kind: FieldKind, **more: Any) -> LeadField:
    return LeadField(api_name, label, kind, more.pop("max_length", 255), custom=True, **more)


def acme_org() -> OrgFields:
    """An org with custom fields of every kind the form shows, and fields it must not show."""
    info = (
        "First_Name",
        "Last_Name",
        "Company",
        "Email",
        "Lead_Status",
        "Tier__c",
        "Region__c",
        "Owner",
        "Created_Time",
    )
    follow = ("Follow_Up__c", "Channels__c", "Deal_Size__c", "Seats__c", "Call_At__c", "Email_Opt_Out", "Score__c")
    org_fields = [
        STANDARD["First_Name"],
        STANDARD["Last_Name"],
        STANDARD["Company"],
        STANDARD["Email"],
        replace(STANDARD["Lead_Status"], choices=("-None-", "New", "Contacted", "Qualified")),
        custom("Tier__c", "Customer tier", K.PICKLIST, choices=("Gold", "Silver", "Bronze")),
        custom("Region__c", "Region", K.TEXT, max_length=50, required=True),
        LeadField("Owner", "Lead owner", K.OTHER, 0, zoho_type="ownerlookup"),
        LeadField("Created_Time", "Created time", K.DATETIME, 25, read_only=True),
        custom("Follow_Up__c", "Follow-up", K.DATE),
        custom("Channels__c", "Channels", K.MULTISELECT, choices=("Email", "Phone", "Chat")),
        custom("Deal_Size__c", "Deal size", K.CURRENCY, max_length=16),
        custom("Seats__c", "Seats", K.INTEGER, max_length=9),
        custom("Call_At__c", "Call at", K.DATETIME),
        STANDARD["Email_Opt_Out"],
        custom("Score__c", "Score", K.INTEGER, read_only=True),
    ]
    return OrgFields(org_fields, (LayoutSection("Lead information", info), LayoutSection("Follow-up", follow)))


def big_org() -> OrgFields:
    """120 fields a person may set: the contract's 13, a required custom one, and 106 more in sections of 15."""
    extra = [custom(f"Extra_{n}__c", f"Extra {n}", K.TEXT) for n in range(106)]
    required = custom("Region__c", "Region", K.TEXT, required=True)
    sections = [LayoutSection("Lead information", tuple(f.api_name for f in FIELDS) + ("Region__c",))]
    sections += [
        LayoutSection(f"Part {n // 15}", tuple(f.api_name for f in extra[n : n + 15])) for n in range(0, 106, 15)
    ]
    return OrgFields((*FIELDS, required, *extra), sections)


@pytest.fixture
def slack() -> ViewsRecorder:
    return ViewsRecorder(token=BOT_TOKEN, base_url=NOWHERE, timeout=1)


@pytest.fixture
def bot(slack: ViewsRecorder) -> InProcessBot:
    bot = InProcessBot(slack=slack)
    bot.store.connect(me(ALICE))
    return bot


def assert_valid(view: dict[str, Any]) -> None:
    """Slack would take this view: Block Kit's limits (blocks, options, lengths, unique ids) and the SDK's model."""
    assert view_problems(view) == []
    View(**view).validate_json()
    block_ids = [b["block_id"] for b in view["blocks"]]
    assert len(block_ids) == len(set(block_ids)) and len(block_ids) <= 100
    for block in view["blocks"]:
        element = block.get("element") or {}
        assert len(element.get("options") or []) <= 100
        assert all(len(o["text"]["text"]) <= 75 for o in element.get("options") or [])
        assert len((block.get("label") or {}).get("text", "")) <= 2000


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"].removeprefix("lead_"): b for b in view["blocks"] if b["type"] == "input"}


def elements(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: block["element"] for name, block in inputs(view).items()}


def shown_with_headings(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] if b["type"] == "header" else b["block_id"] for b in view["blocks"]]


async def open_form(bot: InProcessBot, slack: ViewsRecorder, text: str) -> dict[str, Any]:
    await bot.command(ALICE, "/lead", text, URL)
    await bot.settle()
    (opened,) = slack.views("views.open")
    return {**opened, "id": "V1", "hash": "h1"}


def state(view: dict[str, Any], entries: dict[str, Any], *, submitting: bool = True) -> dict[str, Any]:
    """`view.state.values` for a person who entered `entries` ({API name: text, option value(s) or timestamp});
    Slack checks required fields when the form is submitted, not when a button in it is pressed."""
    values, client_errors = state_values(view, {f"lead_{name}": value for name, value in entries.items()})
    assert client_errors == {} or not submitting
    return values


# ----- building the form -----------------------------------------------------------------------------------------


async def test_create_opens_a_form_from_the_orgs_layout_required_first_then_its_sections(bot, slack) -> None:
    bot.leads.service.org_fields = acme_org()

    view = await open_form(bot, slack, "create")

    assert_valid(view)
    assert shown_with_headings(view) == [
        "Required",
        "lead_Last_Name",
        "lead_Region__c",
        "Lead information",
        "lead_First_Name",
        "lead_Company",
        "lead_Email",
        "lead_Lead_Status",
        "lead_Tier__c",
        "Follow-up",
        "lead_Follow_Up__c",
        "lead_Channels__c",
        "lead_Deal_Size__c",
        "lead_Seats__c",
        "lead_Call_At__c",
        "lead_Email_Opt_Out",
    ]  # no owner lookup, no read-only field
    blocks = inputs(view)
    assert [name for name, b in blocks.items() if not b["optional"]] == ["Last_Name", "Region__c"]
    kinds = {name: element["type"] for name, element in elements(view).items()}
    assert kinds["Lead_Status"] == kinds["Tier__c"] == kinds["Email_Opt_Out"] == "static_select"
    assert kinds["Channels__c"] == "multi_static_select"
    assert (kinds["Follow_Up__c"], kinds["Call_At__c"]) == ("datepicker", "datetimepicker")
    assert kinds["Deal_Size__c"] == kinds["Seats__c"] == "number_input"
    assert kinds["Email"] == "email_text_input" and kinds["Region__c"] == "plain_text_input"
    options = {name: [o["value"] for o in e.get("options", [])] for name, e in elements(view).items()}
    assert options["Lead_Status"] == ["New", "Contacted", "Qualified"]  # Zoho's "-None-" is an empty menu
    assert options["Tier__c"] == ["Gold", "Silver", "Bronze"]
    assert options["Email_Opt_Out"] == ["true", "false"]
    assert elements(view)["Deal_Size__c"]["is_decimal_allowed"] is True
    assert elements(view)["Seats__c"]["is_decimal_allowed"] is False


async def test_a_filled_in_form_reaches_the_service_as_canonical_text_by_api_name(bot, slack) -> None:
    bot.leads.service.org_fields = acme_org()
    view = await open_form(bot, slack, "create")
    call_at = datetime(2026, 12, 24, 15, 0, tzinfo=UTC)
    entries = {
        "Last_Name": "Doe",
        "Region__c": "North",
        "Lead_Status": "Contacted",
        "Tier__c": "Gold",
        "Channels__c": ["Email", "Chat"],
        "Follow_Up__c": "2026-12-24",
        "Deal_Size__c": "12500.5",
        "Seats__c": "12",
        "Call_At__c": int(call_at.timestamp()),
        "Email_Opt_Out": "true",
    }

    ack = await bot.submit_view(ALICE, view, state(view, entries))
    await bot.settle()

    assert ack_json(ack) == {}  # the form closes
    assert bot.leads.service.called("create") == [
        (
            {
                "Last_Name": "Doe",
                "Region__c": "North",
                "Lead_Status": "Contacted",
                "Tier__c": "Gold",
                "Follow_Up__c": "2026-12-24",
                "Channels__c": "Email; Chat",
                "Deal_Size__c": "12500.5",
                "Seats__c": "12",
                "Call_At__c": "2026-12-24T15:00:00+00:00",
                "Email_Opt_Out": "true",
            },
        )
    ]


async def test_a_form_zoho_refuses_echoes_what_was_typed_under_the_forms_own_labels(bot, slack) -> None:
    bot.leads.service.org_fields = acme_org()
    view = await open_form(bot, slack, "create")
    entries = {"Last_Name": "Doe", "Region__c": "North", "Tier__c": "Gold", "Follow_Up__c": "2026-12-24"}
    bot.leads.service.error = FieldRejected("Region__c", "North", "INVALID_DATA", "validation rule")

    await bot.submit_view(ALICE, view, state(view, entries))
    await bot.settle()

    (answer,) = bot.response_urls.to(URL)
    typed = next(b for b in answer["blocks"] if b.get("block_id") == "lead_typed")["elements"][0]["text"]
    assert typed == "You typed: Last Name: Doe; Region: North; Customer tier: Gold; Follow-up: 2026-12-24"


async def test_a_refused_form_can_be_opened_again_as_it_was_sent_and_saved_from_there(bot, slack) -> None:
    bot.leads.service.org_fields = acme_org()
    view = await open_form(bot, slack, "create")
    entries = {"Last_Name": "Doe", "Region__c": "North", "Tier__c": "Gold"}
    bot.leads.service.error = FieldRejected("Region__c", "North", "INVALID_DATA", "validation rule")
    await bot.submit_view(ALICE, view, state(view, entries))
    await bot.settle()
    (refused,) = bot.response_urls.to(URL)
    [again] = [b for b in refused["blocks"] if b.get("block_id") == "lead_form_again"]
    [button] = again["elements"]
    assert button["text"]["text"] == "Open the form again" and len(button["value"]) <= 2000

    bot.leads.service.error = None
    await bot.click(ALICE, button["action_id"], button["value"], URL)
    await bot.settle()

    reopened = {**slack.views("views.open")[-1], "id": "V2", "hash": "h2"}
    assert_valid(reopened)
    shown = elements(reopened)
    assert shown["Last_Name"]["initial_value"] == "Doe" and shown["Tier__c"]["initial_option"]["value"] == "Gold"
    assert shown["Region__c"]["initial_value"] == "North"  # as sent: the person fixes it here
    await bot.submit_view(ALICE, reopened, state(reopened, {"Region__c": "South"}))
    await bot.settle()
    assert bot.leads.service.called("create")[-1] == ({"Last_Name": "Doe", "Region__c": "South", "Tier__c": "Gold"},)


async def test_a_refused_edit_form_opens_again_on_the_lead_with_the_changes_and_writes_only_them(bot, slack) -> None:
    bot.leads.service.org_fields = acme_org()

    async def get(lead_id: str) -> Lead:
        return Lead(lead_id, {"Last_Name": "Doe", "Region__c": "South", "Tier__c": "Silver"})

    bot.leads.service.get = get
    view = await open_form(bot, slack, "edit 42")
    bot.leads.service.error = FieldRejected("Tier__c", "Gold", "INVALID_DATA", "validation rule")
    await bot.submit_view(ALICE, view, state(view, {"Tier__c": "Gold"}))
    await bot.settle()
    [again] = [b for b in bot.response_urls.to(URL)[-1]["blocks"] if b.get("block_id") == "lead_form_again"]

    bot.leads.service.error = None
    await bot.click(ALICE, again["elements"][0]["action_id"], again["elements"][0]["value"], URL)
    await bot.settle()
    reopened = {**slack.views("views.open")[-1], "id": "V2", "hash": "h2"}
    assert reopened["callback_id"] == "lead_edit" and elements(reopened)["Tier__c"]["initial_option"]["value"] == "Gold"
    await bot.submit_view(ALICE, reopened, state(reopened, {}))  # saved as it opened
    await bot.settle()

    assert bot.leads.service.called("update")[-1] == ("42", {"Tier__c": "Gold"})  # the change, nothing else


async def test_the_edit_form_is_prefilled_from_the_lead_and_saves_only_what_changed(bot, slack) -> None:
    bot.leads.service.org_fields = acme_org()
    stored = {
        "Last_Name": "Doe",
        "Region__c": "South",
        "Lead_Status": "Attempted",  # since removed from the org's picklist
        "Tier__c": "Silver",
        "Channels__c": "Email;Phone",
        "Follow_Up__c": "2026-01-05",
        "Deal_Size__c": "900.00",
        "Call_At__c": "2026-12-24T16:00:00+01:00",
        "Email_Opt_Out": "false",
    }

    async def get(lead_id: str) -> Lead:
        return Lead(lead_id, stored)

    bot.leads.service.get = get
    view = await open_form(bot, slack, "edit 42")

    assert_valid(view)
    shown = elements(view)
    assert shown["Tier__c"]["initial_option"]["value"] == "Silver"
    assert [o["value"] for o in shown["Channels__c"]["initial_options"]] == ["Email", "Phone"]
    assert shown["Lead_Status"]["initial_option"]["value"] == "Attempted"
    assert "not in the picklist" in shown["Lead_Status"]["initial_option"]["text"]["text"]
    assert shown["Follow_Up__c"]["initial_date"] == "2026-01-05"
    assert shown["Call_At__c"]["initial_date_time"] == int(datetime(2026, 12, 24, 15, tzinfo=UTC).timestamp())
    assert shown["Deal_Size__c"]["initial_value"] == "900.00"
    assert shown["Email_Opt_Out"]["initial_option"]["value"] == "false"
    assert FormContext.decode(view["private_metadata"]).lead_id == "42"

    await bot.submit_view(ALICE, view, state(view, {"Tier__c": "Gold", "Seats__c": "3"}))
    await bot.settle()

    assert bot.leads.service.called("update") == [("42", {"Tier__c": "Gold", "Seats__c": "3"})]


async def test_a_picklist_too_long_for_a_menu_is_typed_with_a_hint_and_saved_as_the_orgs_value(bot, slack) -> None:
    values = tuple(f"Partner {n}" for n in range(150))
    org = acme_org()
    bot.leads.service.org_fields = OrgFields(
        [replace(f, choices=values) if f.api_name == "Tier__c" else f for f in org.fields], org.sections
    )
    view = await open_form(bot, slack, "create")

    assert_valid(view)
    tier = inputs(view)["Tier__c"]
    assert tier["element"]["type"] == "plain_text_input"
    assert "150 values" in tier["hint"]["text"] and "Partner 0" in tier["hint"]["text"]

    await bot.submit_view(ALICE, view, state(view, {"Last_Name": "Doe", "Region__c": "N", "Tier__c": "partner 7"}))
    await bot.settle()
    # typed in any case, the service (which checks it against the org's values) saves the org's spelling
    assert bot.leads.service.called("create") == [({"Last_Name": "Doe", "Region__c": "N", "Tier__c": "Partner 7"},)]


def with_long_tier_picklist(org: OrgFields) -> OrgFields:
    """`org` with its customer tiers grown past a menu's 100 options: the form shows them as a text input."""
    tiers = tuple(f"Partner {n}" for n in range(150))
    return OrgFields([replace(f, choices=tiers) if f.api_name == "Tier__c" else f for f in org.fields], org.sections)


async def test_a_value_outside_a_long_picklist_is_named_under_its_field_and_the_form_stays_open(bot, slack) -> None:
    bot.leads.service.org_fields = with_long_tier_picklist(acme_org())
    view = await open_form(bot, slack, "create")

    ack = await bot.submit_view(ALICE, view, state(view, {"Last_Name": "Doe", "Region__c": "N", "Tier__c": "Platinum"}))
    await bot.settle()

    body = ack_json(ack)
    assert body["response_action"] == "errors" and set(body["errors"]) == {"lead_Tier__c"}
    assert "`Platinum` is not one of its values" in body["errors"]["lead_Tier__c"]
    assert "Partner 0" in body["errors"]["lead_Tier__c"]
    assert bot.leads.service.called("create") == [] and bot.response_urls.to(URL) == []


async def test_a_standard_fields_mistake_and_an_org_fields_one_are_named_in_the_same_round(bot, slack) -> None:
    org = with_long_tier_picklist(acme_org())
    first, *rest = org.sections
    with_mobile = LayoutSection(first.name, (*first.api_names, "Mobile"))
    bot.leads.service.org_fields = OrgFields([*org.fields, STANDARD["Mobile"]], (with_mobile, *rest))
    view = await open_form(bot, slack, "create")
    entries = {"Last_Name": "Doe", "Region__c": "N", "Mobile": "call me maybe", "Tier__c": "Platinum"}

    ack = await bot.submit_view(ALICE, view, state(view, entries))

    assert set(ack_json(ack)["errors"]) == {"lead_Mobile", "lead_Tier__c"}


async def test_without_the_orgs_fields_at_hand_such_a_value_is_refused_after_the_form_closes(bot, slack) -> None:
    bot.leads.service.org_fields = with_long_tier_picklist(acme_org())
    view = await open_form(bot, slack, "create")
    bot.leads.service.fields_stored = False  # only Zoho could tell now: the form cannot wait for it

    ack = await bot.submit_view(ALICE, view, state(view, {"Last_Name": "Doe", "Region__c": "N", "Tier__c": "Platinum"}))
    await bot.settle()

    assert ack_json(ack) == {}
    (refused,) = bot.response_urls.to(URL)
    assert "`Platinum` is not one of its values" in words(refused)
    assert any(b.get("block_id") == "lead_form_again" for b in refused["blocks"])
    assert bot.leads.service.called("create") == []


async def test_an_edit_is_checked_with_the_orgs_fields_only_for_what_changed(bot, slack) -> None:
    bot.leads.service.org_fields = with_long_tier_picklist(acme_org())

    async def get(lead_id: str) -> Lead:  # a tier the org has since removed
        return Lead(lead_id, {"Last_Name": "Doe", "Region__c": "N", "Tier__c": "Gold"})

    bot.leads.service.get = get
    view = await open_form(bot, slack, "edit 42")

    assert elements(view)["Tier__c"]["initial_value"] == "Gold"
    ack = await bot.submit_view(ALICE, view, state(view, {"Company": "Acme"}))
    await bot.settle()

    assert ack_json(ack) == {}
    assert bot.leads.service.called("update") == [("42", {"Company": "Acme"})]


# ----- more fields than a modal holds ----------------------------------------------------------------------------


async def turn(bot: InProcessBot, slack: ViewsRecorder, view: dict[str, Any], action: str, entries: dict) -> dict:
    """Press More fields / Back with `entries` typed on the page; the page Slack is asked to show next."""
    button = next(
        e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == action
    )
    before = len(slack.views("views.update"))
    await bot.click_in_view(ALICE, view, action, button["value"], state(view, entries, submitting=False))
    await bot.settle()
    (update,) = [args for method, args in slack.calls if method == "views.update"][before:]
    assert (update["view_id"], update["hash"]) == (view["id"], view["hash"])
    return {**update["view"], "id": view["id"], "hash": f"{view['hash']}+"}


async def test_a_layout_of_120_fields_comes_in_pages_required_and_most_used_first(bot, slack) -> None:
    org = big_org()
    bot.leads.service.org_fields = org
    first = await open_form(bot, slack, "create")
    pages = [first]
    while any(b["type"] == "actions" and "More fields" in words({"blocks": [b]}) for b in pages[-1]["blocks"]):
        pages.append(await turn(bot, slack, pages[-1], FORM_PAGE_MORE, {}))

    for page in pages:
        assert_valid(page)
    assert len(pages) == 3
    names = [list(inputs(page)) for page in pages]
    assert names[0][:2] == ["Last_Name", "Region__c"]
    assert set(names[0]) == {f.api_name for f in FIELDS} | {"Region__c"}
    everywhere = [name for page in names for name in page]
    assert sorted(everywhere) == sorted(f.api_name for f in org.settable())  # each field once, none dropped
    assert "Page 1 of 3" in words(first)


async def test_what_was_typed_on_each_page_is_kept_and_saved_together(bot, slack) -> None:
    bot.leads.service.org_fields = big_org()
    first = await open_form(bot, slack, "create")

    second = await turn(bot, slack, first, FORM_PAGE_MORE, {"Last_Name": "Doe", "Region__c": "North", "City": "Oslo"})
    back = await turn(bot, slack, second, FORM_PAGE_BACK, {"Extra_0__c": "zero"})

    # Back on the first page, what was typed there is shown again.
    assert elements(back)["City"]["initial_value"] == "Oslo" and elements(back)["Last_Name"]["initial_value"] == "Doe"
    second = await turn(bot, slack, back, FORM_PAGE_MORE, {"City": "Bergen"})
    assert elements(second)["Extra_0__c"]["initial_value"] == "zero"

    ack = await bot.submit_view(ALICE, second, state(second, {"Extra_1__c": "one"}))
    await bot.settle()

    assert ack_json(ack) == {}
    assert bot.leads.service.called("create") == [
        ({"Last_Name": "Doe", "Region__c": "North", "City": "Bergen", "Extra_0__c": "zero", "Extra_1__c": "one"},)
    ]


async def test_a_required_field_left_empty_on_the_first_page_is_named_when_saving_from_another(bot, slack) -> None:
    bot.leads.service.org_fields = big_org()
    first = await open_form(bot, slack, "create")
    second = await turn(bot, slack, first, FORM_PAGE_MORE, {"Last_Name": "Doe"})

    ack = await bot.submit_view(ALICE, second, state(second, {"Extra_1__c": "one"}))
    await bot.settle()

    body = ack_json(ack)
    assert body["response_action"] == "errors"
    (block_id,) = body["errors"]
    assert block_id == second["blocks"][1]["block_id"]  # the page's first field: Slack shows errors on inputs only
    assert "Region is required" in body["errors"][block_id]
    assert bot.leads.service.called("create") == []


async def test_an_edit_across_pages_writes_only_the_changes_of_every_page(bot, slack) -> None:
    bot.leads.service.org_fields = big_org()

    async def get(lead_id: str) -> Lead:
        return Lead(lead_id, {"Last_Name": "Doe", "Region__c": "South", "City": "Oslo", "Extra_3__c": "three"})

    bot.leads.service.get = get
    first = await open_form(bot, slack, "edit 42")
    second = await turn(bot, slack, first, FORM_PAGE_MORE, {"City": "Rome"})
    assert elements(second)["Extra_3__c"]["initial_value"] == "three"

    await bot.submit_view(ALICE, second, state(second, {"Extra_3__c": "", "Extra_4__c": "four"}))
    await bot.settle()

    assert bot.leads.service.called("update") == [("42", {"City": "Rome", "Extra_3__c": "", "Extra_4__c": "four"})]


async def test_a_page_turn_that_cannot_carry_what_was_typed_keeps_the_form_and_says_why(bot, slack) -> None:
    bot.leads.service.org_fields = big_org()
    first = await open_form(bot, slack, "create")
    long_text = "x" * 2990

    await bot.click_in_view(
        ALICE,
        first,
        FORM_PAGE_MORE,
        "1",
        state(first, {"Last_Name": "Doe", "Description": long_text}, submitting=False),
    )
    await bot.settle()

    assert slack.views("views.update") == []  # the form stays as it is, with what was typed
    assert any("too long for Slack to carry" in text for _, text in bot.messenger.dms)


async def test_without_the_orgs_metadata_the_form_is_the_standard_one(bot, slack) -> None:
    view = await open_form(bot, slack, "create")

    assert_valid(view)
    assert list(inputs(view)) == [f.api_name for f in FIELDS]
    assert [b["type"] for b in view["blocks"]] == ["input"] * len(FIELDS)
    assert elements(view)["Lead_Status"]["type"] == "plain_text_input"  # no picklist values known


# ----- the other ways in: the message shortcut and the Home tab ------------------------------------------------


async def test_the_message_shortcut_prefills_the_orgs_form_and_keeps_what_it_found_for_other_pages(bot, slack) -> None:
    org = big_org()  # Description moved off the first page: it is no longer one of the most used here
    bot.leads.service.org_fields = OrgFields(
        [replace(f, key=None) if f.api_name == "Description" else f for f in org.fields], org.sections
    )
    text = "From the fair: Jane Doe, jane@doe.test"
    await bot.interaction(
        {
            "type": "message_action",
            "team": {"id": "T0TEST", "domain": "test"},
            "user": {"id": ALICE, "team_id": "T0TEST"},
            "channel": {"id": "C1", "name": "general"},
            "callback_id": "lead_from_message",
            "trigger_id": "1.2.trigger",
            "response_url": URL,
            "message_ts": "1.1",
            "message": {"type": "message", "user": "U0BOB", "text": text, "ts": "1.1"},
        }
    )
    await bot.settle()
    (view,) = slack.views("views.open")
    view = {**view, "id": "V1", "hash": "h1"}

    assert_valid(view)
    assert elements(view)["Email"]["initial_value"] == "jane@doe.test"
    assert elements(view)["Last_Name"]["initial_value"] == "Doe"
    assert "Description" not in inputs(view)

    await bot.submit_view(ALICE, view, state(view, {"Region__c": "North"}))
    await bot.settle()

    ((created,),) = bot.leads.service.called("create")
    assert (created["Last_Name"], created["Email"], created["Region__c"]) == ("Doe", "jane@doe.test", "North")
    assert created["Description"] == text  # found in the message, carried to its page, saved


async def test_the_home_tabs_new_lead_button_opens_the_orgs_form(bot, slack) -> None:
    bot.leads.service.org_fields = acme_org()

    await bot.interaction(
        {
            "type": "block_actions",
            "team": {"id": "T0TEST", "domain": "test"},
            "user": {"id": ALICE, "team_id": "T0TEST"},
            "trigger_id": "1.2.trigger",
            "container": {"type": "view", "view_id": "VHOME"},
            "view": {"id": "VHOME", "type": "home", "blocks": [], "state": {"values": {}}},
            "actions": [{"type": "button", "action_id": "home_new_lead", "block_id": "b", "action_ts": "1.3"}],
        }
    )
    await bot.settle()

    (view,) = slack.views("views.open")
    assert_valid(view)
    assert elements(view)["Tier__c"]["type"] == "static_select"
    assert bot.leads.service.called("fields") == [()]


async def test_line_breaks_in_a_custom_long_text_field_are_kept(bot, slack) -> None:
    org = acme_org()
    notes = custom("Notes__c", "Notes", K.TEXTAREA, max_length=32000)
    bot.leads.service.org_fields = OrgFields((*org.fields, notes), org.sections)
    view = await open_form(bot, slack, "create")
    assert elements(view)["Notes__c"]["multiline"] is True

    ack = await bot.submit_view(ALICE, view, state(view, {"Last_Name": "Doe", "Region__c": "N", "Notes__c": "a\nb"}))
    await bot.settle()

    assert ack_json(ack) == {}
    assert bot.leads.service.called("create") == [({"Last_Name": "Doe", "Region__c": "N", "Notes__c": "a\nb"},)]
