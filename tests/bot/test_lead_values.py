"""Keys and values as a person types them, checked against one org's fields before anything reaches Zoho."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from bot.leads.fields import OrgFields
from bot.leads.org_fields import org_fields_of
from bot.leads.validation import InvalidLead, prepare_values
from bot.leads.values import depends_on_zone
from bot.slack.people import zone_of
from bot.zoho.metadata import LeadMetadata, ZohoField, ZohoSection

TODAY = datetime.date(2026, 12, 23)
ORG = org_fields_of(
    LeadMetadata(
        fields=(
            ZohoField("Last_Name", "Last Name", "text", 80, mandatory=True),
            ZohoField("Company", "Company", "text", 200),
            ZohoField("Email", "Email", "email", 100),
            ZohoField("Lead_Status", "Lead Status", "picklist", 120, choices=("New", "Contacted", "Junk Lead")),
            ZohoField("Region", "Sales region", "picklist", 120, custom=True, choices=("EMEA", "Americas")),
            ZohoField("Products", "Products", "multiselectpicklist", 2000, custom=True, choices=("Widgets", "Gadgets")),
            ZohoField("Seats", "Seats", "integer", 9, custom=True),
            ZohoField("Budget", "Budget", "currency", 16, custom=True),
            ZohoField("Discount", "Discount", "percent", 5, custom=True),
            ZohoField("Renewal", "Renewal date", "date", custom=True),
            ZohoField("Call_At", "Call at", "datetime", custom=True),
            ZohoField("Vip", "VIP", "boolean", custom=True),
            ZohoField("Follow_Up", "Follow-up date", "date", custom=True),
            ZohoField("No_of_Employees", "No. of Employees", "integer", 9),
            ZohoField("Created_Time", "Created Time", "datetime", read_only=True),
        ),
        sections=(ZohoSection("Lead Information", ("Company", "Last_Name", "Region"), required=("Company",)),),
    )
)


def prepared(typed: dict[str, str], creating: bool = False) -> dict[str, str]:
    return prepare_values(typed, ORG, creating=creating, today=TODAY)


def problems(typed: dict[str, str], creating: bool = False) -> dict[str, str]:
    with pytest.raises(InvalidLead) as caught:
        prepared(typed, creating)
    return caught.value.errors


def test_the_org_fields_come_in_the_layouts_order_with_our_keys_on_the_standard_ones() -> None:
    assert [f.api_name for f in ORG][:3] == ["Company", "Last_Name", "Region"]
    assert [f.api_name for f in ORG.required()] == ["Company", "Last_Name"]
    assert ORG.find("status").api_name == "Lead_Status" and ORG.find("SALES REGION").api_name == "Region"


@pytest.mark.parametrize("key", ["status", "STATUS", "lead_status", "Lead Status", "lead status", "Lead_Status"])
def test_a_key_is_a_short_key_alias_label_or_api_name_in_any_case(key: str) -> None:
    assert prepared({key: "contacted"}) == {"Lead_Status": "Contacted"}


@pytest.mark.parametrize(
    ("key", "api_name"),
    [
        ("follow up date", "Follow_Up"),
        ("FOLLOW-UP-DATE", "Follow_Up"),
        ("follow_up_date", "Follow_Up"),
        ("no of employees", "No_of_Employees"),
        ("No. of employees", "No_of_Employees"),
    ],
)
def test_a_label_matches_whatever_spaces_hyphens_dots_or_underscores_separate_words(key: str, api_name: str) -> None:
    assert ORG.find(key).api_name == api_name


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("sales", '`"Sales region"`'),  # a word of the label
        ("follow", '`"Follow-up date"`'),
        ("employees", '`"No. of Employees"`'),
        ("email address", "`email`"),  # a key, and more words: the field's short key
        ("e-mail address", "`email`"),
    ],
)
def test_an_unknown_key_that_names_a_field_by_one_of_its_words_is_pointed_to_it(typed: str, meant: str) -> None:
    assert problems({typed: "x"})[typed].endswith(f"did you mean {meant}?")


def test_an_unknown_key_gets_a_did_you_mean_across_labels_and_api_names_and_echoes_it() -> None:
    assert 'did you mean `"Sales region"`?' in problems({"sales regoin": "EMEA"})["sales regoin"]  # as typeable
    assert "Unknown key `Whatever`" in problems({"Whatever": "1"})["Whatever"]
    assert "filled in by Zoho" in problems({"Created Time": "2026-01-01"})["Created Time"]


def test_picklists_match_the_orgs_spelling_and_refuse_others_listing_the_allowed_values() -> None:
    assert prepared({"Sales region": "emea", "status": " junk  lead "}) == {
        "Region": "EMEA",
        "Lead_Status": "Junk Lead",
    }
    message = problems({"status": "Bogus"})["Lead_Status"]
    assert message == "Lead Status `Bogus` is not one of its values: New, Contacted, Junk Lead"


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("junk", "(did you mean `Junk Lead`?)"),  # every word typed is in it
        ("contacetd", "(did you mean `Contacted`?)"),  # spelled nearly so
        ("lead", "(did you mean `Junk Lead`?)"),
    ],
)
def test_a_value_not_in_the_picklist_is_answered_with_the_ones_meant_before_the_list(typed: str, offered: str) -> None:
    said = problems({"status": typed})["Lead_Status"]
    assert said == f"Lead Status `{typed}` is not one of its values {offered}: New, Contacted, Junk Lead"


def test_zohos_nothing_chosen_entry_typed_as_a_value_says_how_to_leave_the_field_empty() -> None:
    assert problems({"status": "-None-"})["Lead_Status"] == (
        'Lead Status `-None-` is not one of its values: to leave it empty, give it "" instead'
    )
    assert prepared({"status": ""}) == {"Lead_Status": ""}


def test_a_multi_select_takes_commas_or_semicolons() -> None:
    assert prepared({"products": "gadgets, widgets;gadgets"}) == {"Products": "Gadgets; Widgets"}
    assert (
        "`Sprockets` is not one of its values: Widgets, Gadgets"
        in problems({"products": "Widgets,Sprockets"})["Products"]
    )


def test_every_wrong_value_of_a_multi_select_is_named_at_once() -> None:
    assert problems({"products": "sprockets; widgets, Cogs,  big   gears"})["Products"] == (
        "Products `sprockets`, `Cogs` and `big gears` are not among its values: Widgets, Gadgets"
    )
    assert problems({"products": " ;, "})["Products"].endswith("names no value: use Widgets, Gadgets")


@pytest.mark.parametrize(
    ("key", "typed", "saved"),
    [
        ("seats", "1,250", "1250"),
        ("budget", "$12,500.50", "12500.50"),
        ("budget", "12500", "12500"),
        ("discount", "12.5%", "12.5"),
        ("renewal date", "today", "2026-12-23"),
        ("renewal date", "tomorrow", "2026-12-24"),
        ("renewal date", "yesterday", "2026-12-22"),
        ("renewal date", "2027-01-31", "2027-01-31"),
        ("renewal date", "24 Dec 2026", "2026-12-24"),
        ("renewal date", "Dec 24", "2026-12-24"),
        ("renewal date", "5 Jan", "2027-01-05"),  # no year: the nearest such day (today is 2026-12-23)
        ("renewal date", "1 Dec", "2026-12-01"),
        ("renewal date", "29 feb", "2028-02-29"),  # the nearest leap day
        ("renewal date", "march 3, 2027", "2027-03-03"),
        ("call at", "2026-12-24 15:00", "2026-12-24T15:00:00+00:00"),
        ("call at", "tomorrow 9:30 +01:00", "2026-12-24T09:30:00+01:00"),
        ("call at", "2026-12-24T15:00:00-05:00", "2026-12-24T15:00:00-05:00"),
        ("vip", "Yes", "true"),
        ("vip", "false", "false"),
    ],
)
def test_values_are_saved_in_their_canonical_form(key: str, typed: str, saved: str) -> None:
    assert list(prepared({key: typed}).values()) == [saved]


@pytest.mark.parametrize(
    ("key", "typed", "said"),
    [
        ("seats", "many", "Seats `many` is not a whole number"),
        ("seats", "1234567890", "Seats has 10 digits; Zoho accepts at most 9"),
        ("budget", "12,50", "Budget `12,50` is not a number"),
        ("renewal date", "someday", "Renewal date `someday` is not a date"),
        ("renewal date", "2026-02-30", "Renewal date `2026-02-30` is not a date"),
        ("call at", "tomorrow noon", "Call at `tomorrow noon` is not a date and time"),
        ("vip", "maybe", "VIP `maybe` must be true or false"),
        ("email", "jane@", "Email `jane@` is not an e-mail address"),
    ],
)
def test_a_wrong_value_names_the_field_and_echoes_the_input(key: str, typed: str, said: str) -> None:
    [message] = problems({key: typed}).values()
    assert said in message


def test_creating_needs_every_field_the_layout_requires_and_editing_cannot_empty_one() -> None:
    errors = problems({"email": "jane@acme.test"}, creating=True)
    assert errors == {
        "Company": "Company is required: add `company=…`",
        "Last_Name": "Last Name is required: add `last=…`",
    }
    assert "cannot be emptied" in problems({"company": ""})["Company"]
    assert prepared({"email": ""}) == {"Email": ""}  # clearing a field the layout does not require


def test_two_keys_for_one_field_are_refused() -> None:
    assert "sets Lead Status again" in problems({"status": "New", "Lead Status": "New"})["Lead Status"]


def test_without_the_orgs_metadata_the_standard_fields_still_work() -> None:
    assert prepare_values({"last": "Doe", "status": "anything"}, OrgFields.standard(), creating=True) == {
        "Last_Name": "Doe",
        "Lead_Status": "anything",
    }


def test_a_time_without_an_offset_is_the_persons_own_and_keeps_its_summer_time() -> None:
    new_york = zoneinfo.ZoneInfo("America/New_York")
    assert prepare_values({"call at": "2026-12-24 15:00"}, ORG, creating=False, today=TODAY, zone=new_york) == {
        "Call_At": "2026-12-24T15:00:00-05:00"
    }
    assert prepare_values({"call at": "2027-07-01 15:00"}, ORG, creating=False, today=TODAY, zone=new_york) == {
        "Call_At": "2027-07-01T15:00:00-04:00"
    }
    assert prepared({"call at": "2026-12-24 15:00"}) == {"Call_At": "2026-12-24T15:00:00+00:00"}  # not known: UTC


@pytest.mark.parametrize(
    ("typed", "depends"),
    [("tomorrow", True), ("Today 9:30", True), ("2026-12-24 15:00", True), ("2026-12-24", False), ("Acme", False)],
)
def test_only_a_relative_day_or_a_time_of_day_needs_the_persons_time_zone(typed: str, depends: bool) -> None:
    assert depends_on_zone(typed) is depends


def test_a_slack_users_time_zone_is_its_iana_name_else_its_offset() -> None:
    assert zone_of({"tz": "Pacific/Auckland", "tz_offset": 46800}) == zoneinfo.ZoneInfo("Pacific/Auckland")
    fixed = zone_of({"tz": "Not/AZone", "tz_offset": -18000})
    assert fixed is not None and fixed.utcoffset(None) == datetime.timedelta(hours=-5)
    assert zone_of({}) is None
