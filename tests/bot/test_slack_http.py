"""Parsing Slack bodies by field, so a command that contains the word "payload" still arrives."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from bot.slack.http import MalformedSlackBody, SlackFormRequest, parse_slack_body

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
