"""The terminal console, fed by a pipe, against a real bolt app on loopback: what the person reads."""

from __future__ import annotations

import io
from typing import Any

import pytest

from playground.slack import SlackEmulator
from playground.slack.console import run_console
from playground.slack.console_form import _parse_date, _parse_date_time
from tests.playground.slack_fixtures import *  # noqa: F403 (pytest fixtures)
from tests.playground.slack_fixtures import ANN, ServeBolt, bolt_app, new_emulator, wire_lead_app


async def _session(slack: SlackEmulator, lines: list[str], user_id: str = ANN) -> str:
    out = io.StringIO()
    await run_console(slack, user_id=user_id, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out, quiet=0.15)
    return out.getvalue()


@pytest.fixture
async def lead_app(slack: SlackEmulator, serve_bolt: ServeBolt) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    slack.bot_events_url = await serve_bolt(wire_lead_app(bolt_app(slack), seen))
    return seen


async def test_command_reply_and_a_click(slack: SlackEmulator, lead_app: dict) -> None:
    output = await _session(slack, ["/lead list acme", "click 2", "quit", "/lead never read"])

    assert "ann@Local Workspace> /lead list acme\n" in output
    assert "Looking for list acme…" in output
    assert "◆ bot · only visible to you\nLeads matching `list acme`\n[1] Edit\n[2] Edit\n" in output
    assert "ann@Local Workspace> click 2\n" in output
    assert "◆ bot · only visible to you · replaced the message above\nEditing lead 43\n" in output
    assert lead_app["action_body"]["actions"][0]["value"] == "43"
    assert "never read" not in output


async def test_a_modal_is_filled_field_by_field_and_errors_are_asked_again(
    slack: SlackEmulator, lead_app: dict
) -> None:
    # first pass: Slack's client refuses the email; second: the app refuses the name; third: accepted
    lines = ["/lead create", "Nobody", "not-an-email", "", "2", "jo@acme.test", "Smith"]
    output = await _session(slack, lines)

    assert "┌─ New lead" in output and "│ (1) Last name*: Doe" in output
    assert "  (1) Last name* [Doe]: Nobody\n" in output and "  (4) Status: 2\n" in output
    assert "⚠ Please enter a valid email address." in output  # Slack's own client check
    assert "⚠ No such person" in output  # the app's response_action errors
    assert "(form submitted)" in output and "◆ bot · DM\nCreated Smith" in output
    values = lead_app["values"]
    assert values["email"]["value"]["value"] == "jo@acme.test"
    assert values["status"]["value"]["selected_option"]["value"] == "contacted"
    assert slack.open_views(ANN) == []


async def test_cancel_closes_the_form_and_end_of_input_ends_the_session(slack: SlackEmulator, lead_app: dict) -> None:
    output = await _session(slack, ["/lead create", ":cancel", "as bob", "users"])
    assert "(form closed)" in output and slack.open_views(ANN) == []
    assert "you are now bob (Bob Jones)" in output
    assert "carol      U0CAROL        Carol King (admin, owner)" in output
    assert "values" not in lead_app


async def test_confirm_dialogs_link_buttons_and_other_peoples_news(slack: SlackEmulator, serve_bolt: ServeBolt) -> None:
    app = bolt_app(slack)
    clicks: list[str] = []
    confirm = {
        "title": {"type": "plain_text", "text": "Delete this Lead?"},
        "text": {"type": "mrkdwn", "text": "*Jane Doe* will be deleted."},
        "confirm": {"type": "plain_text", "text": "Delete"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }

    @app.command("/lead")
    async def lead(ack, client) -> None:
        await ack(
            blocks=[
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Delete"},
                            "action_id": "delete",
                            "value": "1",
                            "style": "danger",
                            "confirm": confirm,
                        },
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Login with Zoho"},
                            "action_id": "login",
                            "url": "http://127.0.0.1:1/zoho/login?state=s",
                        },
                    ],
                }
            ]
        )
        await client.chat_postMessage(channel="U0BOB", text="ann did something")

    @app.action("delete")
    @app.action("login")
    async def clicked(ack, action) -> None:
        await ack()
        clicks.append(action["action_id"])

    slack.bot_events_url = await serve_bolt(app)
    output = await _session(slack, ["/lead x", "click 1", "n", "click 1", "y", "/lead x", "click 2"])

    assert "[1] Delete (!)  [2] Login with Zoho ↗ http://127.0.0.1:1/zoho/login?state=s" in output
    assert (
        "Delete this Lead?\nJane Doe will be deleted.\nDelete? [y = Delete, anything else = Cancel] n\n(Cancel)"
        in output
    )
    assert "open in your browser: http://127.0.0.1:1/zoho/login?state=s" in output
    assert clicks == ["delete", "login"]
    assert "(bob has 1 new message(s): type `as bob` to see)" in output


async def test_each_button_asks_its_own_confirmation(slack: SlackEmulator, serve_bolt: ServeBolt) -> None:
    app = bolt_app(slack)
    deleted: list[str] = []

    def delete_button(name: str, value: str) -> dict:
        confirm = {
            "title": {"type": "plain_text", "text": "Delete this Lead?"},
            "text": {"type": "mrkdwn", "text": f"*{name}* will be deleted."},
            "confirm": {"type": "plain_text", "text": "Delete"},
            "deny": {"type": "plain_text", "text": "Cancel"},
        }
        text = {"type": "plain_text", "text": "Delete"}
        return {"type": "button", "text": text, "action_id": "delete", "value": value, "confirm": confirm}

    @app.command("/lead")
    async def lead(ack) -> None:
        rows = [delete_button("Roe", "2"), delete_button("Doe", "1")]
        await ack(blocks=[{"type": "actions", "elements": [row]} for row in rows])

    @app.action("delete")
    async def clicked(ack, action) -> None:
        await ack()
        deleted.append(action["value"])

    slack.bot_events_url = await serve_bolt(app)
    output = await _session(slack, ["/lead list", "click 2", "y"])

    assert "Doe will be deleted." in output and "Roe will be deleted." not in output
    assert deleted == ["1"]


async def test_home_prints_the_home_tab_and_its_buttons_click_through_bolt(
    slack: SlackEmulator, serve_bolt: ServeBolt
) -> None:
    app = bolt_app(slack)
    clicks: list[dict[str, Any]] = []

    def home(count: int) -> dict[str, Any]:
        button = {"type": "button", "text": {"type": "plain_text", "text": "Count"}, "action_id": "count", "value": "1"}
        return {
            "type": "home",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*Clicked {count} times*"}},
                {"type": "actions", "elements": [button]},
            ],
        }

    @app.event("app_home_opened")
    async def opened(event, client) -> None:
        assert event["tab"] == "home"
        await client.views_publish(user_id=event["user"], view=home(len(clicks)))

    @app.action("count")
    async def counted(ack, body, client) -> None:
        await ack()
        clicks.append(body)
        await client.views_publish(user_id=body["user"]["id"], view=home(len(clicks)))

    slack.bot_events_url = await serve_bolt(app)
    output = await _session(slack, ["home", "click 1"])

    assert "◆ Home tab\nClicked 0 times\n[1] Count\n" in output
    assert "◆ Home tab\nClicked 1 times\n[1] Count\n" in output
    body = clicks[0]
    assert body["container"] == {"type": "view", "view_id": body["view"]["id"]} and "response_url" not in body
    assert body["view"]["type"] == "home" and body["actions"][0]["value"] == "1"


def test_a_date_time_is_typed_as_text_and_sent_as_unix_seconds_like_slacks_picker() -> None:
    assert _parse_date_time("2026-12-24 15:00") == (1798124400, None)
    assert _parse_date_time("2026-12-24T16:00+01:00") == (1798124400, None)
    moment, problem = _parse_date_time("tomorrow")
    assert moment is None and problem and "2026-12-24 15:00" in problem


def test_a_date_is_typed_as_slacks_picker_sends_it_and_nothing_a_picker_could_not_send_is_taken() -> None:
    assert _parse_date(" 2026-12-24 ") == ("2026-12-24", None)
    for typed in ("32/13/2026", "2026-13-01", "tomorrow", "24 Dec"):
        day, problem = _parse_date(typed)
        assert day is None and problem and "2026-12-24" in problem, typed


async def test_say_with_a_link_of_the_unfurl_domains_prints_the_apps_preview_under_it(serve_bolt: ServeBolt) -> None:
    slack = new_emulator(unfurl_domains=("crm.zoho.com",))
    await slack.start()
    app = bolt_app(slack)
    shared: list[dict[str, Any]] = []

    @app.event("link_shared")
    async def unfurl(event, client) -> None:
        shared.append(event)
        card = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Jane Doe* (Acme)"}}]}
        await client.chat_unfurl(
            unfurl_id=event["unfurl_id"], source=event["source"], unfurls={link["url"]: card for link in event["links"]}
        )

    slack.bot_events_url = await serve_bolt(app)
    try:
        output = await _session(slack, ["say see https://crm.zoho.com/crm/org1/tab/Leads/2 and https://example.test/"])
    finally:
        await slack.stop()

    [event] = shared
    assert [link["url"] for link in event["links"]] == ["https://crm.zoho.com/crm/org1/tab/Leads/2"]
    assert "  ┃ Jane Doe (Acme)" in output
