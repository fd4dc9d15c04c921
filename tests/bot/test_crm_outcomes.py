"""The adapter's conversions, with the SDK's own value classes: what Zoho says becomes what the user reads."""

from __future__ import annotations

import datetime
import logging

import pytest
from zohocrmsdk.src.com.zoho.crm.api.record import APIException, Record
from zohocrmsdk.src.com.zoho.crm.api.users.minified_user import MinifiedUser
from zohocrmsdk.src.com.zoho.crm.api.util.choice import Choice

from bot.slack.views.errors import describe
from bot.zoho import FieldRejected, LeadNotFound, NoPermission, RateLimited, ReconnectNeeded, ZohoUnavailable
from bot.zoho.outcomes import raise_api_exception, retry_after_seconds
from bot.zoho.records import from_record, text_of, to_record, zoho_value
from bot.zoho.sdk_logging import SdkLogScrubber, scrub


def api_exception(code: str, message: str = "", **details: object) -> APIException:
    error = APIException()
    error.set_status(Choice("error"))
    error.set_code(Choice(code))
    error.set_message(Choice(message))
    error.set_details(details)
    return error


def test_a_duplicate_names_the_field_and_echoes_the_value() -> None:
    with pytest.raises(FieldRejected) as caught:
        raise_api_exception(
            api_exception("DUPLICATE_DATA", "duplicate data", api_name="Email"),
            400,
            {},
            operation="create",
            values={"Last_Name": "Doe", "Email": "jane@acme.test"},
        )
    assert describe(caught.value) == (
        "Zoho already has a Lead with Email `jane@acme.test`, and it must be unique. Nothing was saved."
    )


def test_an_invalid_id_is_a_missing_lead_not_a_field_problem() -> None:
    with pytest.raises(LeadNotFound):
        raise_api_exception(
            api_exception("INVALID_DATA", "the id given seems to be invalid", api_name="id"),
            400,
            {},
            operation="update",
            values={"Company": "X"},
            lead_id="42",
        )


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("INVALID_TOKEN", 401, ReconnectNeeded),
        ("OAUTH_SCOPE_MISMATCH", 401, ReconnectNeeded),
        ("AUTHENTICATION_FAILURE", 401, ReconnectNeeded),
        ("NO_PERMISSION", 403, NoPermission),
        ("TOO_MANY_REQUESTS", 429, RateLimited),
        ("INTERNAL_ERROR", 500, ZohoUnavailable),
        ("SOMETHING_NEW", 503, ZohoUnavailable),
    ],
)
def test_request_level_refusals(code: str, status: int, expected: type) -> None:
    with pytest.raises(expected):
        raise_api_exception(api_exception(code), status, {"Retry-After": "3"}, operation="read")


@pytest.mark.parametrize(("header", "seconds"), [("7", 7.0), (" 2.5 ", 2.5), ("", None), (None, None), ("soon", None)])
def test_retry_after(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds


def test_error_messages_read_well() -> None:
    assert describe(RateLimited(None)).endswith("Try again in a minute.")
    assert "in 30 seconds" in describe(RateLimited(30))
    assert describe(NoPermission("delete")).startswith("Your Zoho CRM profile does not allow you to delete Leads")
    assert "Title" in describe(FieldRejected("Designation", "x" * 500, "INVALID_DATA", "invalid data"))
    assert len(describe(FieldRejected("Company", "x" * 5000, "INVALID_DATA"))) < 200


def test_values_go_out_with_the_json_type_of_their_field() -> None:
    assert zoho_value("250", "integer") == 250
    assert zoho_value("12.5", "currency") == 12.5
    assert zoho_value("Yes", "boolean") is True
    assert zoho_value("250", "text") == "250"
    assert zoho_value("lots", "integer") == "lots"  # Zoho judges what does not convert
    created = to_record({"Last_Name": "Doe", "City": ""}, {}, creating=True)
    assert created.get_key_values() == {"Last_Name": "Doe"}
    updated = to_record({"City": "", "Company": "Acme"}, {}, creating=False)
    assert updated.get_key_values() == {"City": None, "Company": "Acme"}


def test_values_come_back_as_text() -> None:
    owner = MinifiedUser()
    owner.set_name("Ann Alpha")
    record = Record()
    record.set_id(5725767000000400001)
    for name, value in {
        "Last_Name": "Doe",
        "Owner": owner,
        "Lead_Status": Choice("Contacted"),
        "Created_Time": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "No_of_Employees": 250,
        "Email_Opt_Out": False,
        "Tag": [],
        "City": None,
        "$approval_state": "approved",
    }.items():
        record.add_key_value(name, value)
    lead = from_record(record)
    assert lead.id == "5725767000000400001"
    assert dict(lead.values) == {
        "Last_Name": "Doe",
        "Owner": "Ann Alpha",
        "Lead_Status": "Contacted",
        "Created_Time": "2026-01-02T03:04:05+00:00",
        "No_of_Employees": "250",
        "Email_Opt_Out": "false",
    }
    assert text_of(object()) is None


def test_sdk_log_lines_lose_params_queries_and_tokens() -> None:
    token = "1000." + "a" * 32 + "." + "b" * 32
    line = (
        'GET - URL = https://www.zohoapis.com/crm/v8/Leads/search , HEADERS = {"Authorization": " ## can\'t'
        ' disclose ## "} , PARAMS = {"word": "Jane Doe", "email": "jane@acme.test"}.'
    )
    assert "Jane" not in scrub(line) and "jane@" not in scrub(line)
    assert "/crm/v8/Leads/search" in scrub(line)
    failure = "Max retries exceeded with url: /crm/v8/Leads/search?email=jane%40acme.test&page=1 (Caused by x)"
    assert "jane" not in scrub(failure)
    assert token not in scrub(f"refresh failed for {token}")
    assert "s3cr3t" not in scrub("client_secret=s3cr3t&refresh_token=abc")


def test_the_sdks_unformatted_error_calls_become_one_clean_line() -> None:
    record = logging.LogRecord(
        "SDKLogger", logging.ERROR, __file__, 1, "Exception in API call : ", (ValueError("url?word=Jane"),), None
    )
    assert SdkLogScrubber().filter(record)
    assert record.getMessage() == "Exception in API call : url?…"
