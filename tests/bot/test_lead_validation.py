"""What a salesperson is told before anything reaches Zoho."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.leads.fields import FIELDS, OTHER_FIELDS, FieldKind
from bot.leads.validation import check_lead_values, check_value


def test_a_new_lead_needs_a_last_name() -> None:
    errors = check_lead_values({"First_Name": "Jane", "Company": "Acme"}, creating=True)
    assert list(errors) == ["Last_Name"]
    assert "last=" in errors["Last_Name"]


def test_an_edit_may_leave_the_last_name_out_but_not_empty_it() -> None:
    assert check_lead_values({"Company": "Acme"}, creating=False) == {}
    assert "cannot be emptied" in check_lead_values({"Last_Name": ""}, creating=False)["Last_Name"]


def test_a_good_lead_has_no_problems() -> None:
    values = {
        "Last_Name": "Doe",
        "First_Name": "Jane",
        "Company": "Acme & Sons",
        "Email": "jane.doe+crm@acme.test",
        "Phone": "+1 (555) 010-0100 ext 12",
        "Mobile": "555.010.0101",
        "Designation": "CTO",
        "Website": "https://acme.test/about?x=1",
        "Lead_Source": "Trade Show",
        "Lead_Status": "Contacted",
        "City": "Zürich",
        "Country": "Switzerland",
        "Description": "Met at the fair.\nWants a demo.\tSoon.",
        "No_of_Employees": "250",
        "Annual_Revenue": "1250000.50",
        "Email_Opt_Out": "yes",
    }
    assert check_lead_values(values, creating=True) == {}


@pytest.mark.parametrize(
    "email",
    ["jane@acme", "jane", "jane@@acme.test", "@acme.test", "jane@acme..test", "j ane@acme.test", ".j@acme.test"],
)
def test_a_bad_email_is_named_and_echoed(email: str) -> None:
    message = check_lead_values({"Last_Name": "Doe", "Email": email}, creating=True)["Email"]
    assert message.startswith("Email ")
    assert email in message


@pytest.mark.parametrize("phone", ["call me", "+", "555-CALL", "12;34"])
def test_a_bad_phone_is_named_and_echoed(phone: str) -> None:
    message = check_value("Phone", phone)
    assert message is not None and phone in message and "phone number" in message


@pytest.mark.parametrize(
    "site", ["acme", "javascript://acme.test", "ftp://acme.test", "http://", "acme .test", "https://-x.test"]
)
def test_a_bad_website_is_named_and_echoed(site: str) -> None:
    message = check_value("Website", site)
    assert message is not None and "web address" in message


@pytest.mark.parametrize("site", ["acme.test", "www.acme.co.uk", "http://acme.test:8080/x", "HTTPS://ACME.TEST"])
def test_plain_and_full_web_addresses_are_fine(site: str) -> None:
    assert check_value("Website", site) is None


@pytest.mark.parametrize("field", FIELDS + OTHER_FIELDS, ids=lambda f: f.api_name)
def test_each_field_takes_exactly_its_zoho_length(field) -> None:  # type: ignore[no-untyped-def]
    ok = {
        FieldKind.EMAIL: lambda n: "a" * 60 + "@" + "b" * (n - 66) + ".test",
        FieldKind.PHONE: lambda n: "5" * n,
        FieldKind.URL: lambda n: "acme.test/" + "x" * (n - 10),
        FieldKind.INTEGER: lambda n: "9" * n,
        FieldKind.CURRENCY: lambda n: "9" * n,
    }.get(field.kind, lambda n: "x" * n)
    if field.kind is FieldKind.BOOLEAN:
        return
    assert check_value(field.api_name, ok(field.max_length)) is None
    too_long = check_value(field.api_name, ok(field.max_length + 1))
    assert too_long is not None
    assert f"at most {field.max_length:,}" in too_long
    assert field.label in too_long


def test_a_huge_value_gets_a_short_message() -> None:
    message = check_value("Company", "A" * 100_000)
    assert message is not None
    assert "100,000 characters" in message
    assert len(message) < 200


def test_control_characters_are_refused_except_line_breaks_in_the_description() -> None:
    assert "control character U+0007" in (check_value("Company", "Acme\x07") or "")
    assert "line break" in (check_value("City", "Paris\nFrance") or "")
    assert check_value("Description", "line one\nline two\r\n\tindented") is None
    assert "U+0000" in (check_value("Description", "a\x00b") or "")


def test_a_custom_field_is_only_checked_for_length_and_control_characters() -> None:
    assert check_value("Customer_Tier", "anything at all") is None
    assert check_value("Customer_Tier", "x" * 32001) is not None


@settings(max_examples=300)
@given(
    st.dictionaries(st.sampled_from([f.api_name for f in FIELDS + OTHER_FIELDS] + ["X_Custom"]), st.text()),
    st.booleans(),
)
def test_any_values_give_messages_keyed_by_the_fields_given(values: dict[str, str], creating: bool) -> None:
    errors = check_lead_values(values, creating=creating)
    assert set(errors) <= set(values) | {"Last_Name"}
    assert all(isinstance(m, str) and m and len(m) < 400 for m in errors.values())
