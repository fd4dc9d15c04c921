"""Parsing Slack bodies by field, so a command that contains the word "payload" still arrives; and checking
Slack's signature over the raw bytes of a body before anything reads it."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from bot.slack.http import MalformedSlackBody, SlackFormRequest, is_signed_by_slack, parse_slack_body, signature_problem
from playground.slack import sign_slack_request

FORM = "application/x-www-form-urlencoded"


def test_a_command_mentioning_payload_keeps_its_fields():
    body = urlencode({"command": "/lead", "text": "list payload", "user_id": "U1", "team_id": "T1"})
    assert parse_slack_body(body, FORM)["text"] == "list payload"
    request = SlackFormRequest(body=body, headers={"content-type": FORM})
    assert request.body["command"] == "/lead"
    assert request.context.user_id == "U1"
    assert request.to_copyable().body["text"] == "list payload"


def test_interactivity_payload_is_decoded():
    payload = {"type": "block_actions", "user": {"id": "U1"}, "actions": []}
    body = urlencode({"payload": json.dumps(payload)})
    assert parse_slack_body(body, FORM) == payload


@pytest.mark.parametrize("body", [urlencode({"payload": "{not json"}), urlencode({"payload": "[1, 2]"})])
def test_malformed_payload_is_refused_clearly(body):
    with pytest.raises(MalformedSlackBody):
        parse_slack_body(body, FORM)


def test_events_json_is_parsed():
    assert parse_slack_body('{"type": "url_verification", "challenge": "c"}', "application/json")["challenge"] == "c"


# --- Slack's signature over the raw bytes ---------------------------------------------------------------------

SECRET = "unit-signing-secret"
NOW = 1_760_000_000


def headers_for(body: bytes, secret: str = SECRET, at: int = NOW) -> dict[str, str]:
    return sign_slack_request(secret, body, timestamp=at)


def test_a_body_signed_with_the_secret_is_slacks():
    body = b"command=%2Flead&text=help"
    assert is_signed_by_slack(body, headers_for(body), SECRET, now=NOW)


def test_a_body_signed_with_another_secret_is_not():
    body = b"command=%2Flead&text=help"
    assert not is_signed_by_slack(body, headers_for(body, "another-secret"), SECRET, now=NOW)
    assert signature_problem(body, headers_for(body, "another-secret"), SECRET, now=NOW) == "bad signature"


def test_the_signature_of_another_body_does_not_carry_over():
    assert signature_problem(b"text=list", headers_for(b"text=help"), SECRET, now=NOW) == "bad signature"


@pytest.mark.parametrize("age", [-300, 300, 0])
def test_a_request_up_to_five_minutes_off_is_accepted(age):
    body = b"text=help"
    assert is_signed_by_slack(body, headers_for(body, at=NOW - age), SECRET, now=NOW)


@pytest.mark.parametrize("age", [-301, 301, 86_400])
def test_a_request_more_than_five_minutes_off_is_stale(age):
    body = b"text=help"
    assert signature_problem(body, headers_for(body, at=NOW - age), SECRET, now=NOW) == "stale timestamp"


def test_a_body_that_is_not_utf8_can_still_be_signed():
    body = b"text=\xff\xfe\x80"
    assert is_signed_by_slack(body, headers_for(body), SECRET, now=NOW)
    assert not is_signed_by_slack(body + b"!", headers_for(body), SECRET, now=NOW)


@pytest.mark.parametrize("missing", ["X-Slack-Request-Timestamp", "X-Slack-Signature"])
def test_a_request_missing_a_signature_header_is_not_slacks(missing):
    body = b"text=help"
    headers = {k: v for k, v in headers_for(body).items() if k != missing}
    assert signature_problem(body, headers, SECRET, now=NOW) == "missing headers"
    assert signature_problem(body, {}, SECRET, now=NOW) == "missing headers"


@pytest.mark.parametrize("timestamp", ["soon", "9" * 5000, " 1760000000", "1760000000.5", "-1760000000", "١٢٣"])
def test_an_unreadable_timestamp_is_refused_without_an_error(timestamp):
    body = b"text=help"
    headers = {**headers_for(body), "X-Slack-Request-Timestamp": timestamp}
    assert signature_problem(body, headers, SECRET, now=NOW) == "unreadable timestamp"


def test_a_signature_with_characters_outside_ascii_is_refused_without_an_error():
    body = b"text=help"
    headers = {**headers_for(body), "X-Slack-Signature": "v0=\udcff\u00e9"}
    assert signature_problem(body, headers, SECRET, now=NOW) == "bad signature"


def test_deeply_nested_json_is_malformed_not_a_crash():
    with pytest.raises(MalformedSlackBody):
        parse_slack_body("[" * 100_000, "application/json")
    with pytest.raises(MalformedSlackBody):
        parse_slack_body(urlencode({"payload": "[" * 100_000}), FORM)
