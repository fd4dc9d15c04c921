"""What a salesperson sees when typing `/lead create …` / `/lead edit <id> …` / `/lead delete <id>`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.leads.fields import FIELDS
from bot.slack.commands.lead_syntax import (
    ArgumentError,
    parse_edit_arguments,
    parse_lead_id,
    parse_lead_values,
)


def problems_of(text: str) -> list[tuple[str, str, str]]:
    with pytest.raises(ArgumentError) as caught:
        parse_lead_values(text)
    return [(p.kind, p.typed, p.message) for p in caught.value.problems]


def test_the_contract_example_becomes_zoho_fields_in_the_order_typed() -> None:
    values = parse_lead_values("last=Doe first=Jane company=Acme email=jane@acme.test phone=+15550100")
    assert list(values.items()) == [
        ("Last_Name", "Doe"),
        ("First_Name", "Jane"),
        ("Company", "Acme"),
        ("Email", "jane@acme.test"),
        ("Phone", "+15550100"),
    ]


@pytest.mark.parametrize(
    ("key", "api_name"),
    [
        ("first", "First_Name"),
        ("last", "Last_Name"),
        ("company", "Company"),
        ("email", "Email"),
        ("phone", "Phone"),
        ("mobile", "Mobile"),
        ("title", "Designation"),
        ("website", "Website"),
        ("source", "Lead_Source"),
        ("status", "Lead_Status"),
        ("city", "City"),
        ("country", "Country"),
        ("description", "Description"),
        ("LAST", "Last_Name"),
        ("Company", "Company"),
        ("surname", "Last_Name"),
        ("first_name", "First_Name"),
        ("Last_Name", "Last_Name"),
        ("last_name", "Last_Name"),
        ("industry", "Industry"),
        ("Secondary_Email", "Secondary_Email"),
    ],
)
def test_every_contract_key_and_api_name_is_understood_in_any_case(key: str, api_name: str) -> None:
    assert parse_lead_values(f"{key}=x") == {api_name: "x"}


def test_a_custom_zoho_field_api_name_is_passed_through_as_typed() -> None:
    assert parse_lead_values("last=Doe Customer_Tier=Gold Region2__c=EMEA") == {
        "Last_Name": "Doe",
        "Customer_Tier": "Gold",
        "Region2__c": "EMEA",
    }


@pytest.mark.parametrize(
    ("text", "company"),
    [
        ('company="Acme Inc"', "Acme Inc"),
        ("company='Acme Inc'", "Acme Inc"),
        ("company=“Acme Inc”", "Acme Inc"),
        ("company=‘Acme Inc’", "Acme Inc"),
        ("company=”Acme Inc”", "Acme Inc"),
        ('company="The \\"Best\\" Inc"', 'The "Best" Inc'),
        ('company="Back\\\\slash"', "Back\\slash"),
        ('company="  Acme Inc  "', "Acme Inc"),
        ("company = Acme", "Acme"),
        ("company= 'Acme Inc'", "Acme Inc"),
        ("company=O'Reilly", "O'Reilly"),
        ("company='O'Reilly Media'", "O'Reilly Media"),
        ("company=O’Reilly", "O’Reilly"),
        ('company="A=B"', "A=B"),
    ],
)
def test_values_with_spaces_take_any_kind_of_quotes(text: str, company: str) -> None:
    assert parse_lead_values(text + " last=Doe") == {"Company": company, "Last_Name": "Doe"}


def test_slack_escapes_are_undone_exactly_once() -> None:
    # The user typed: company="A&B <Intl>" description=&lt;
    values = parse_lead_values('company="A&amp;B &lt;Intl&gt;" description=&amp;lt;')
    assert values == {"Company": "A&B <Intl>", "Description": "&lt;"}


def test_slack_link_markup_gives_back_what_the_user_typed() -> None:
    values = parse_lead_values(
        "email=<mailto:jane@acme.test|jane@acme.test> website=<http://acme.test|acme.test> phone=<tel:+1555|+1555>"
    )
    assert values == {"Email": "jane@acme.test", "Website": "acme.test", "Phone": "+1555"}


def test_a_key_that_is_not_one_of_ours_is_passed_on_as_typed_for_the_org_to_resolve() -> None:
    # Whether `compnay` or `Customer tier` names a field only the person's org knows (bot.leads.validation).
    values = parse_lead_values('last=Doe compnay=Acme "Customer  tier"=gold')
    assert values == {"Last_Name": "Doe", "compnay": "Acme", "Customer tier": "gold"}


def test_a_quoted_label_with_spaces_is_a_key() -> None:
    assert parse_lead_values('"Lead Status"=New “Follow-up date”=tomorrow') == {
        "Lead Status": "New",
        "Follow-up date": "tomorrow",
    }
    [(kind, _, _)] = problems_of('"Lead Status" New')
    assert kind == "missing_equals"


def test_name_is_ambiguous_and_says_so() -> None:
    [(kind, _, message)] = problems_of("name=Jane")
    assert kind == "ambiguous_key"
    assert "first=" in message and "last=" in message and "name=Jane" in message


def test_fields_zoho_fills_in_cannot_be_set() -> None:
    [(kind, _, message)] = problems_of("Full_Name=Jane id=5")[:1]
    assert kind == "read_only"
    assert "Full_Name=Jane" in message


def test_every_problem_is_reported_at_once_in_the_order_typed() -> None:
    text = 'name=Acme last=Doe surname=Roe email= city=Paris Inc description="never closed'
    kinds = [p[0] for p in problems_of(text)]
    assert kinds == ["ambiguous_key", "duplicate", "empty_value", "missing_equals", "unterminated_quote"]


def test_a_duplicate_names_both_typings() -> None:
    [(kind, _, message)] = problems_of("last=Doe first=Jane surname=Roe")
    assert kind == "duplicate"
    assert "surname=Roe" in message and "last=Doe" in message and "Last Name" in message


def test_an_unquoted_value_with_spaces_suggests_the_quoted_form() -> None:
    [(kind, typed, message)] = problems_of("last=Doe company=Acme Holdings Inc")
    assert kind == "missing_equals"
    assert typed == "Holdings Inc"
    assert 'company="Acme Holdings Inc"' in message


def test_an_unterminated_quote_echoes_the_rest_of_the_line() -> None:
    [(kind, typed, message)] = problems_of('last=Doe company="Acme Inc email=a@b.test')
    assert kind == "unterminated_quote"
    assert typed == 'company="Acme Inc email=a@b.test'
    assert "never closed" in message


@pytest.mark.parametrize("text", ["email=", 'email=""', "email=''", 'email="   "', "first= last=Doe"])
def test_an_empty_value_is_a_problem(text: str) -> None:
    kind, typed, message = problems_of(text)[0]
    assert kind == "empty_value"
    assert typed.split("=")[0] in message


def test_a_pair_without_a_key_is_a_problem() -> None:
    assert problems_of("=Acme")[0][:2] == ("empty_key", "=Acme")


def test_long_input_is_echoed_shortened() -> None:
    [(_, typed, message)] = problems_of("name=" + "x" * 5000)
    assert len(typed) == 5005
    assert len(message) < 300
    assert "…" in message


def test_nothing_typed_means_no_values() -> None:
    assert parse_lead_values("") == {}
    assert parse_lead_values("   \n ") == {}


def test_edit_takes_the_id_then_the_pairs() -> None:
    assert parse_edit_arguments('5725767000000524157 company="Acme Inc" last=Roe') == (
        "5725767000000524157",
        {"Company": "Acme Inc", "Last_Name": "Roe"},
    )
    assert parse_edit_arguments("  42  ") == ("42", {})


def test_edit_reports_a_bad_id_and_bad_pairs_together() -> None:
    with pytest.raises(ArgumentError) as caught:
        parse_edit_arguments("jane name=Acme")
    kinds = [p.kind for p in caught.value.problems]
    assert kinds == ["bad_id", "ambiguous_key"]
    assert "`jane` is not a Lead id" in str(caught.value)


def test_edit_without_an_id_shows_how_to_type_it() -> None:
    with pytest.raises(ArgumentError) as caught:
        parse_edit_arguments("")
    assert caught.value.problems[0].kind == "missing_id"
    assert "/lead edit" in str(caught.value)


def test_delete_takes_exactly_one_id() -> None:
    assert parse_lead_id(" 123 ") == "123"
    for text, kind in [("", "missing_id"), ("abc", "bad_id"), ("1 2", "extra_text")]:
        with pytest.raises(ArgumentError) as caught:
            parse_lead_id(text)
        assert caught.value.problems[0].kind == kind


@pytest.mark.parametrize(
    "typed",
    [
        "`5725767000000524157`",  # copied from a message, with its code marks
        "5725767000000524157.",  # at the end of a sentence
        "https://crm.zoho.eu/crm/org20071234/tab/Leads/5725767000000524157",  # the link /lead whoami shows
        "<https://crm.zoho.com/crm/org20071234/tab/Leads/5725767000000524157/edit?tab=notes>",
    ],
)
def test_a_lead_id_is_read_as_copied_or_from_its_zoho_link(typed: str) -> None:
    assert parse_lead_id(typed, "show") == "5725767000000524157"
    assert parse_edit_arguments(f"{typed} city=Oslo") == ("5725767000000524157", {"City": "Oslo"})


def test_a_link_to_another_site_or_another_module_is_no_lead_id() -> None:
    for typed in ("https://crm.zoho.com.evil.test/crm/org1/tab/Leads/57", "https://crm.zoho.com/crm/org1/tab/Deals/57"):
        with pytest.raises(ArgumentError) as caught:
            parse_lead_id(typed)
        assert caught.value.problems[0].kind == "bad_id"


# --- properties -------------------------------------------------------------------------------------------

_TRICKY = st.sampled_from(list("=\"'“”‘’„«»\\ \t\n=&;<>|") + ["&amp;", "&lt;", "&gt;", "last", "Last_Name", "<mailto:"])
_ANY_TEXT = st.lists(st.one_of(st.text(max_size=8), _TRICKY), max_size=30).map("".join)


@settings(max_examples=500)
@given(_ANY_TEXT)
def test_any_text_gives_values_or_an_argument_error(text: str) -> None:
    for parse in (parse_lead_values, lambda t: parse_edit_arguments(t)[1], parse_lead_id):
        try:
            result = parse(text)
        except ArgumentError as error:
            assert error.problems
            assert all(p.message for p in error.problems)
        else:
            assert isinstance(result, (dict, str))


_KEYS = [f.key for f in FIELDS if f.key]
_VALUE = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=40,
).filter(lambda v: v == v.strip() and v.strip() != "")


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(_KEYS), _VALUE, min_size=1, max_size=6))
def test_quoted_values_round_trip_through_slack(pairs: dict[str, str]) -> None:
    text = " ".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in pairs.items()
    )
    values = parse_lead_values(_slack_escape(text))
    by_key = {f.key: f.api_name for f in FIELDS}
    assert values == {by_key[k]: v for k, v in pairs.items()}


def test_an_edit_clears_a_field_given_as_empty_quotes_and_says_how_when_left_bare() -> None:
    assert parse_edit_arguments('5725767000000524157 phone="" city=Oslo') == (
        "5725767000000524157",
        {"Phone": "", "City": "Oslo"},
    )
    with pytest.raises(ArgumentError) as caught:
        parse_edit_arguments("5725767000000524157 phone=")
    assert 'to clear the field, type `phone=""`' in caught.value.problems[0].message
    with pytest.raises(ArgumentError):
        parse_lead_values('last=Doe phone=""')  # creating: an empty value is still a mistake
