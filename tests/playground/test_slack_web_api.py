"""slack_sdk's real AsyncWebClient against the emulator's Web API: what a bot gets back from each method."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from playground.slack import SlackEmulator
from tests.playground.slack_fixtures import *  # noqa: F403 (pytest fixtures)
from tests.playground.slack_fixtures import ANN, BOB, BOT_TOKEN, CAROL, new_emulator

MODAL = {
    "type": "modal",
    "callback_id": "lead_form",
    "title": {"type": "plain_text", "text": "New lead"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "last",
            "label": {"type": "plain_text", "text": "Last name"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


async def _trigger(slack: SlackEmulator, user_id: str = ANN) -> str:
    """A trigger_id as an interaction of `user_id` would carry (no app needed: the delivery may fail)."""
    slack.bot_events_url = "http://127.0.0.1:9/slack/events"  # nothing listens: Slack shows dispatch_failed
    result = await slack.send_command(user_id, "/lead", "create")
    assert result.error == "dispatch_failed"
    return result.trigger_id


async def test_auth_test_names_the_workspace_and_bot(slack: SlackEmulator, client: AsyncWebClient) -> None:
    answer = await client.auth_test()
    assert answer["ok"] is True
    assert (answer["team_id"], answer["team"], answer["user_id"]) == ("T0LOCAL", "Local Workspace", "U0LOCALBOT")
    assert "chat:write" in answer.headers["x-oauth-scopes"]
    assert slack.calls[-1].method == "auth.test"


@pytest.mark.parametrize(("token", "error"), [("xoxb-wrong", "invalid_auth"), (None, "not_authed")])
async def test_wrong_or_missing_token_is_refused(slack: SlackEmulator, token: str | None, error: str) -> None:
    with pytest.raises(SlackApiError) as caught:
        await AsyncWebClient(token=token, base_url=slack.api_url).chat_postMessage(channel=ANN, text="hi")
    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == error
    assert slack.messages() == []


async def test_post_message_to_a_user_id_lands_in_their_dm(slack: SlackEmulator, client: AsyncWebClient) -> None:
    first = await client.chat_postMessage(channel=ANN, text="Connect your Zoho account")
    opened = await client.conversations_open(users=ANN)
    second = await client.chat_postMessage(channel=opened["channel"]["id"], text="again")

    assert first["channel"].startswith("D") and first["channel"] == opened["channel"]["id"] == second["channel"]
    assert (await client.conversations_open(users=BOB))["channel"]["id"] != first["channel"]
    assert [m.text for m in slack.dms(ANN)] == ["Connect your Zoho account", "again"]
    assert slack.dms(BOB) == [] and slack.dms(ANN)[0].kind == "dm"
    assert first["message"]["text"] == "Connect your Zoho account"


async def test_post_message_channel_rules(slack: SlackEmulator, client: AsyncWebClient) -> None:
    slack.add_channel("C0SALES", "sales", bot_member=True)
    posted = await client.chat_postMessage(channel="C0SALES", text="hello sales")
    assert slack.messages(channel="C0SALES")[0].kind == "channel" and posted["channel"] == "C0SALES"
    for channel, error in [
        ("C0GENERAL", "not_in_channel"),
        ("C0NOPE", "channel_not_found"),
        ("U0NOBODY", "channel_not_found"),
    ]:
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel=channel, text="x")
        assert caught.value.response["error"] == error
    with pytest.raises(SlackApiError) as caught, pytest.warns(UserWarning, match="text"):
        await client.chat_postMessage(channel=ANN)
    assert caught.value.response["error"] == "no_text"


async def test_blocks_over_slack_limits_are_invalid_blocks(slack: SlackEmulator, client: AsyncWebClient) -> None:
    too_many = [{"type": "section", "text": {"type": "mrkdwn", "text": f"row {i}"}} for i in range(51)]
    long_button = [
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x" * 76}, "action_id": "a"}],
        }
    ]
    long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}]
    for blocks in (too_many, long_button, long_section):
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel=ANN, text="fallback", blocks=blocks)
        assert caught.value.response["error"] == "invalid_blocks"
        assert caught.value.response["response_metadata"]["messages"]
    ok = await client.chat_postMessage(channel=ANN, text="fallback", blocks=too_many[:50])
    assert ok["ok"] and len(slack.dms(ANN)) == 1


async def test_ephemeral_and_update(slack: SlackEmulator, client: AsyncWebClient) -> None:
    dm = (await client.conversations_open(users=ANN))["channel"]["id"]
    eph = await client.chat_postEphemeral(channel=dm, user=ANN, text="only you")
    assert eph["message_ts"] and slack.messages(user_id=ANN)[0].kind == "ephemeral"
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postEphemeral(channel=dm, user=BOB, text="not your DM")
    assert caught.value.response["error"] == "user_not_in_channel"

    posted = await client.chat_postMessage(channel=ANN, text="working…")
    updated = await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="done")
    assert updated["ts"] == posted["ts"]
    assert [(m.text, m.edited) for m in slack.dms(ANN)] == [("done", True)]
    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel=posted["channel"], ts="1.000000", text="x")
    assert caught.value.response["error"] == "message_not_found"


async def test_users_info_reports_admin_flags_and_email(client: AsyncWebClient) -> None:
    carol = (await client.users_info(user=CAROL))["user"]
    ann = (await client.users_info(user=ANN))["user"]
    assert (carol["is_admin"], carol["is_owner"], carol["is_primary_owner"]) == (True, True, False)
    assert (ann["is_admin"], ann["is_owner"]) == (False, False)
    assert ann["profile"]["email"] == "ann@acme.test" and ann["real_name"] == "Ann Smith"
    with pytest.raises(SlackApiError) as caught:
        await client.users_info(user="U0NOBODY")
    assert caught.value.response["error"] == "user_not_found"


async def test_views_open_needs_a_fresh_unused_trigger(slack: SlackEmulator, client: AsyncWebClient) -> None:
    trigger = await _trigger(slack)
    opened = await client.views_open(trigger_id=trigger, view=MODAL)
    view = opened["view"]
    assert view["id"].startswith("V") and view["hash"] and view["callback_id"] == "lead_form"
    assert [v.view_id for v in slack.open_views(ANN)] == [view["id"]]

    for bad, error in [(trigger, "exchanged_trigger_id"), ("123.456.abcdef", "invalid_trigger_id")]:
        with pytest.raises(SlackApiError) as caught:
            await client.views_open(trigger_id=bad, view=MODAL)
        assert caught.value.response["error"] == error


async def test_trigger_expires_after_three_seconds() -> None:
    now = [1000.0]
    emu = new_emulator(clock=lambda: now[0])
    await emu.start()
    try:
        trigger = await _trigger(emu)
        now[0] += 3.5
        with pytest.raises(SlackApiError) as caught:
            await AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url).views_open(trigger_id=trigger, view=MODAL)
        assert caught.value.response["error"] == "expired_trigger_id"
    finally:
        await emu.stop()


@pytest.mark.parametrize(
    "change",
    [
        {"title": {"type": "plain_text", "text": "A title that is far too long"}},
        {"private_metadata": "m" * 3001},
        {"blocks": [{"type": "divider"}] * 101},
        {"submit": None},
    ],
)
async def test_views_open_checks_modal_limits(slack: SlackEmulator, client: AsyncWebClient, change: dict) -> None:
    view = {k: v for k, v in {**MODAL, **change}.items() if v is not None}
    trigger = await _trigger(slack)
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=trigger, view=view)
    assert caught.value.response["error"] == "invalid_arguments"
    assert slack.views == {}
    assert (await client.views_open(trigger_id=trigger, view=MODAL))["ok"]  # the trigger was not used up


async def test_views_update_and_push(slack: SlackEmulator, client: AsyncWebClient) -> None:
    view = (await client.views_open(trigger_id=await _trigger(slack), view=MODAL))["view"]
    updated = (
        await client.views_update(view_id=view["id"], hash=view["hash"], view={**MODAL, "private_metadata": "p"})
    )["view"]
    assert updated["id"] == view["id"] and updated["hash"] != view["hash"]
    assert slack.views[view["id"]].view["private_metadata"] == "p"
    with pytest.raises(SlackApiError) as caught:
        await client.views_update(view_id=view["id"], hash=view["hash"], view=MODAL)
    assert caught.value.response["error"] == "hash_conflict"
    with pytest.raises(SlackApiError) as caught:
        await client.views_update(view_id="V0NOPE", view=MODAL)
    assert caught.value.response["error"] == "not_found"

    pushed = [(await client.views_push(trigger_id=await _trigger(slack), view=MODAL))["view"] for _ in range(2)]
    assert [v.view_id for v in slack.open_views(ANN)] == [view["id"], pushed[0]["id"], pushed[1]["id"]]
    assert pushed[1]["previous_view_id"] == pushed[0]["id"] and pushed[1]["root_view_id"] == view["id"]
    with pytest.raises(SlackApiError) as caught:
        await client.views_push(trigger_id=await _trigger(slack), view=MODAL)
    assert caught.value.response["error"] == "push_limit_reached"


async def test_views_publish_sets_the_home_tab(slack: SlackEmulator, client: AsyncWebClient) -> None:
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}]}
    answer = await client.views_publish(user_id=ANN, view=home)
    assert answer["view"]["type"] == "home" and slack.home_tabs[ANN].view["blocks"][0]["text"]["text"] == "Hi"


async def test_rate_limit_is_a_429_that_the_retry_handler_rides_out(slack: SlackEmulator) -> None:
    plain = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    with pytest.raises(SlackApiError) as caught:
        await plain.chat_postMessage(channel=ANN, text="first")
    assert caught.value.response.status_code == 429
    assert caught.value.response["error"] == "ratelimited"
    assert caught.value.response.headers["retry-after"] == "0"

    retrying = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    answer = await retrying.chat_postMessage(channel=ANN, text="second")
    assert answer["ok"] and [m.text for m in slack.dms(ANN)] == ["second"]
    assert [c.status for c in slack.calls] == [429, 429, 200]


async def test_fail_method_answers_a_server_error(slack: SlackEmulator, client: AsyncWebClient) -> None:
    slack.fail_method("users.info", status=503)
    with pytest.raises(SlackApiError) as caught:
        await client.users_info(user=ANN)
    assert caught.value.response.status_code == 503
    assert (await client.users_info(user=ANN))["ok"]


async def test_args_are_read_from_form_bodies_too(slack: SlackEmulator, client: AsyncWebClient) -> None:
    answer = await client.api_call("chat.postMessage", data={"channel": ANN, "text": "from a form"})
    assert answer["ok"] and slack.dms(ANN)[0].text == "from a form"
    assert slack.calls[-1].args == {"channel": ANN, "text": "from a form"}


async def test_reset_forgets_activity_but_keeps_members(slack: SlackEmulator, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel=ANN, text="x")
    slack.reset()
    assert slack.messages() == [] and slack.calls == [] and ANN in slack.users


async def test_chat_unfurl_shows_a_card_under_a_shared_link_and_refuses_what_slack_refuses() -> None:
    slack = new_emulator(unfurl_domains=("crm.zoho.com",))
    await slack.start()
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    slack.bot_events_url = "http://127.0.0.1:9/slack/events"  # nothing listens; the link is shared all the same
    url = "https://crm.zoho.com/crm/org1/tab/Leads/2"
    card = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Jane Doe*"}}]}
    try:
        message, _ = await slack.post_link(ANN, "C0GENERAL", f"see {url}")
        assert message.links == (url,)

        await client.chat_unfurl(channel="C0GENERAL", ts=message.ts, unfurls={url: card})

        [shown] = [m for m in slack.messages(channel="C0GENERAL") if m.ts == message.ts]
        assert shown.unfurls == {url: card}
        refused = [
            ({"channel": "C0GENERAL", "ts": "1.000001", "unfurls": {url: card}}, "cannot_find_message"),
            ({"channel": "C0NOWHERE", "ts": message.ts, "unfurls": {url: card}}, "channel_not_found"),
            ({"unfurl_id": "x.1", "source": "conversations_history", "unfurls": {url: card}}, "cannot_find_message"),
            ({"channel": "C0GENERAL", "ts": message.ts, "unfurls": {"https://x.test/": card}}, "cannot_unfurl_url"),
            ({"channel": "C0GENERAL", "ts": message.ts, "unfurls": {url: {"blocks": [{}]}}}, "invalid_blocks"),
        ]
        for args, error in refused:
            with pytest.raises(SlackApiError) as caught:
                await client.chat_unfurl(**args)
            assert caught.value.response["error"] == error, args
    finally:
        await slack.stop()


async def test_chat_delete_removes_the_apps_own_message_only(slack: SlackEmulator, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=ANN, text="Login with Zoho")
    slack.add_channel("C0TEAM", "team", bot_member=True)
    written = slack.post_as(BOB, "C0TEAM", "mine")

    await client.chat_delete(channel=posted["channel"], ts=posted["ts"])

    [gone] = slack.dms(ANN)
    assert gone.deleted and not gone.shown
    for channel, ts, error in [
        (posted["channel"], posted["ts"], "message_not_found"),
        ("C0TEAM", written.ts, "cant_delete_message"),
    ]:
        with pytest.raises(SlackApiError) as caught:
            await client.chat_delete(channel=channel, ts=ts)
        assert caught.value.response["error"] == error
