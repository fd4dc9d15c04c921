"""Bad input at the edges of the running bot: requests Slack might send that nobody planned for, and text no
one should type. Each gets a clear 4xx or an ephemeral answer that echoes what was typed; never a 500, never
silence, never a traceback; and the bot keeps answering afterwards. (Signatures, non-UTF-8 bodies, payload
JSON that is not an object and oversized bodies: tests/e2e/test_foundation.py.)
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from playground.slack import sign_slack_request
from tests.processes import ask, final_answer, health
from tests.stack import ANN, SIGNING_SECRET, TEAM_ID

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}
USER = {"id": ANN, "team_id": TEAM_ID, "username": "ann"}


def _payload(obj: object) -> bytes:
    return urlencode({"payload": json.dumps(obj)}).encode()


UNPLANNED = {
    "a button with an unknown action id": _payload(
        {
            "type": "block_actions",
            "team": {"id": TEAM_ID},
            "user": USER,
            "api_app_id": "A0LOCAL",
            "trigger_id": "1.2.3",
            "response_url": "http://127.0.0.1:9/unused",
            "actions": [{"action_id": "no_such_action", "block_id": "b", "type": "button", "value": "1"}],
        }
    ),
    "a modal submission with an unknown callback id": _payload(
        {
            "type": "view_submission",
            "team": {"id": TEAM_ID},
            "user": USER,
            "api_app_id": "A0LOCAL",
            "trigger_id": "1.2.3",
            "view": {"id": "V0NONE", "callback_id": "no_such_form", "state": {"values": {}}, "type": "modal"},
        }
    ),
    "a modal closed that the bot never opened": _payload(
        {
            "type": "view_closed",
            "team": {"id": TEAM_ID},
            "user": USER,
            "api_app_id": "A0LOCAL",
            "view": {"id": "V0NONE", "callback_id": "no_such_form", "type": "modal"},
        }
    ),
    "a payload with no type": _payload({"hello": "world"}),
    "a payload that is a string": _payload("just text"),
    "an empty body": b"",
    "a form with no command": urlencode({"team_id": TEAM_ID, "user_id": ANN, "text": "whoami"}).encode(),
    "an unknown slash command": urlencode(
        {"team_id": TEAM_ID, "user_id": ANN, "command": "/frobnicate", "text": "x", "trigger_id": "1.2.3"}
    ).encode(),
}


@pytest.mark.parametrize("what", list(UNPLANNED))
async def test_unplanned_requests_get_a_4xx_never_a_500(stack, what: str) -> None:
    body = UNPLANNED[what]

    reply = await stack.slack.send_raw(body, {**FORM, **sign_slack_request(SIGNING_SECRET, body)})

    assert 400 <= reply.status < 500, (what, reply)
    assert await health(stack.url) == 200
    assert "/lead create" in await ask(stack, ANN, "help")


async def test_events_of_unknown_types_get_a_4xx_and_url_verification_its_challenge(stack) -> None:
    unknown = await stack.slack.send_event({"type": "reaction_added", "user": ANN, "reaction": "tada"})
    assert 400 <= unknown.status < 500, unknown

    body = json.dumps({"type": "url_verification", "challenge": "ch-123", "token": "t"}).encode()
    reply = await stack.slack.send_raw(body, {**JSON, **sign_slack_request(SIGNING_SECRET, body)})
    assert reply.status == 200 and json.loads(reply.text) == {"challenge": "ch-123"}

    body = json.dumps([{"type": "event_callback"}]).encode()
    reply = await stack.slack.send_raw(body, {**JSON, **sign_slack_request(SIGNING_SECRET, body)})
    assert reply.status == 400


async def test_a_command_that_does_not_say_who_sent_it_is_refused_clearly(stack) -> None:
    body = urlencode({"team_id": TEAM_ID, "command": "/lead", "text": "whoami", "trigger_id": "1.2.3"}).encode()

    reply = await stack.slack.send_raw(body, {**FORM, **sign_slack_request(SIGNING_SECRET, body)})

    assert reply.status == 200 and "did not say who sent this command" in reply.text
    assert await health(stack.url) == 200


STRANGE_TEXT = {
    "a very long value": ("create last=" + "x" * 5000, "Last"),
    "an unterminated quote": ('create last=Doe company="Acme Inc', "Acme Inc"),
    "control characters": ("create last=Do\x00e\x07 company=Acme", "Acme"),
    "right-to-left and emoji": ("create last=\u202eeoD company=🚀🚀 email=not-an-email", "not-an-email"),
    "a bad id": ("edit 12ab34 company=X", "12ab34"),
    "two ids": ("delete 123 456", "456"),
    "only an equals sign": ("create =", "="),
    "links": ("create last=Doe email=<mailto:a@b.c|a@b.c> company=<https://x.test|X>", "Doe"),
}


@pytest.mark.parametrize("what", list(STRANGE_TEXT))
async def test_strange_text_gets_an_ephemeral_answer_that_echoes_it(stack, what: str) -> None:
    await stack.connect(ANN, "ann@acme.test")
    typed, echoed = STRANGE_TEXT[what]

    result = await stack.command(ANN, typed)
    if isinstance(result.ack_body, dict) and result.ack_body.get("text"):  # answered at once
        ephemeral = result.ack_body.get("response_type", "ephemeral") == "ephemeral"
        shown = result.ack_body["text"] + json.dumps(result.ack_body.get("blocks") or [], ensure_ascii=False)
    else:
        answer = await final_answer(stack.slack, result, timeout=15)
        ephemeral = answer.is_ephemeral
        shown = answer.text + json.dumps(answer.blocks, ensure_ascii=False)

    assert ephemeral
    assert echoed in shown, shown[:500]
    assert len(shown) < 6000  # echoes are shortened, not the whole 5000 characters
    assert "Traceback" not in shown and "Sorry, something went wrong" not in shown
    writes = [c for c in stack.zoho.crm_calls if c.method in ("POST", "PUT", "DELETE")]
    assert what == "links" or not writes, (what, writes)  # only the well-formed one was sent to Zoho


async def test_the_word_payload_in_a_command_is_just_a_word(stack) -> None:
    await stack.connect(ANN, "ann@acme.test")
    stack.zoho.seed_leads("ann@acme.test", [{"Last_Name": "Payload", "Company": "Words Inc"}])

    answer = await ask(stack, ANN, "list payload")

    assert "Payload" in answer


async def test_angle_brackets_typed_are_stored_as_typed(stack) -> None:
    await stack.connect(ANN, "ann@acme.test")

    answer = await ask(stack, ANN, "create last=<b>Doe</b> company=Acme")

    assert "Created Lead" in answer
    (lead,) = stack.zoho.leads(stack.zoho.user("ann@acme.test").org_id)
    assert lead["Last_Name"] == "<b>Doe</b>"
