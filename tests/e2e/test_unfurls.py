"""Link unfurls end to end: a Zoho CRM Lead link posted in a channel unfurls into a card read as the person who
posted it, and into nothing at all for someone who is not connected, for another org's Lead, or for a Lead Zoho
does not give them. What Slack received (`chat.unfurl`, checked by the emulator as Slack checks it) and what Zoho
received (no read where nothing may be shown)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.e2e.test_leads import ask, org_of
from tests.stack import ANN, BOB, Stack

ANN_EMAIL, BOB_EMAIL = "ann@acme.test", "bob@globex.test"
JANE = {"First_Name": "Jane", "Last_Name": "Doe", "Company": "Acme", "Lead_Status": "Contacted"}


def lead_url(org_id: str, lead_id: str, host: str = "crm.zoho.com", tail: str = "") -> str:
    return f"https://{host}/crm/org{org_id}/tab/Leads/{lead_id}{tail}"


async def settled(stack: Stack, admitted: int, timeout: float = 10.0) -> None:
    """Until the bot took the event in and finished all it started."""
    door, tasks = stack.components.door, stack.components.tasks
    deadline = asyncio.get_running_loop().time() + timeout
    while door.admitted <= admitted or tasks.running:
        assert asyncio.get_running_loop().time() < deadline, "the bot did not finish the event"
        await asyncio.sleep(0.02)


async def post(stack: Stack, user_id: str, text: str) -> Any:
    """`user_id` posts `text` in #general; returns the message once the bot has done what it does with it."""
    admitted = stack.components.door.admitted
    message, reply = await stack.slack.post_link(user_id, "C0GENERAL", text)
    assert reply is not None and reply.status == 200  # Slack sent link_shared, the bot acked it
    await settled(stack, admitted)
    return message


def lead_reads(stack: Stack) -> list[Any]:
    """Reads of one Lead (the Home tab's list of the person's latest Leads, a search, is not one)."""
    return [
        call
        for call in stack.zoho.crm_calls
        if call.method == "GET" and "/Leads/" in call.path and not call.path.endswith(("/search", "/count"))
    ]


def card_words(card: dict[str, Any]) -> str:
    return "\n".join(str(block.get("text", {}).get("text", "")) for block in card["blocks"])


async def test_a_connected_persons_lead_link_unfurls_into_a_card_read_as_them(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [JANE])
    url = lead_url(org_of(stack, ANN_EMAIL), lead_id, tail="?tab=notes")
    stack.zoho.reset_counters()

    await post(stack, ANN, f"have a look at {url} please")

    [call] = stack.slack.unfurls()
    assert call.error is None
    [shown] = [m for m in stack.slack.messages(channel="C0GENERAL") if m.author == ANN]
    card = shown.unfurls[url]
    said = card_words(card)
    assert "*Jane Doe* (Acme)" in said and "Status: Contacted" in said and "Owner: Ann Smith" in said
    [button] = [block["accessory"] for block in card["blocks"] if "accessory" in block]
    assert (button["text"]["text"], button["url"]) == ("Open in Zoho", url)
    [read] = lead_reads(stack)
    assert lead_id in read.path and read.email == ANN_EMAIL  # as the person who posted it


async def test_nothing_unfurls_for_someone_not_connected_and_zoho_is_not_asked(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [JANE])
    stack.zoho.reset_counters()
    dms = len(stack.slack.dms(BOB))

    await post(stack, BOB, lead_url(org_of(stack, ANN_EMAIL), lead_id))

    assert stack.slack.unfurls() == []
    assert lead_reads(stack) == []
    assert len(stack.slack.dms(BOB)) == dms  # posting a link is not asking to log in


async def test_a_link_into_another_org_unfurls_nothing_and_zoho_is_not_asked(stack):
    await stack.connect(ANN, ANN_EMAIL)
    await stack.connect(BOB, BOB_EMAIL)
    [bobs_lead] = stack.zoho.seed_leads(BOB_EMAIL, [JANE])
    stack.zoho.reset_counters()

    await post(stack, ANN, lead_url(org_of(stack, BOB_EMAIL), bobs_lead, host="crm.zoho.eu"))

    assert stack.slack.unfurls() == []
    assert lead_reads(stack) == []


async def test_a_link_with_their_org_id_in_another_data_centre_unfurls_nothing_and_zoho_is_not_asked(stack):
    await stack.connect(ANN, ANN_EMAIL)  # in the US data centre
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [JANE])
    stack.zoho.reset_counters()

    await post(stack, ANN, lead_url(org_of(stack, ANN_EMAIL), lead_id, host="crm.zoho.eu"))

    assert stack.slack.unfurls() == []
    assert lead_reads(stack) == []


async def test_a_lead_zoho_does_not_give_unfurls_nothing(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [JANE])
    org = org_of(stack, ANN_EMAIL)

    await post(stack, ANN, lead_url(org, "9" * 18))  # no such Lead
    stack.zoho.set_permissions(ANN_EMAIL, read=False)
    await post(stack, ANN, lead_url(org, lead_id))  # hers to see no more

    assert stack.slack.unfurls() == []
    assert len(lead_reads(stack)) == 2  # Zoho was asked, and said no both times


async def test_only_lead_links_of_the_manifests_domains_reach_the_bot(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [JANE])
    org = org_of(stack, ANN_EMAIL)

    elsewhere, sent = await stack.slack.post_link(ANN, "C0GENERAL", lead_url(org, lead_id, host="crm.zoho.sa"))
    assert sent is None  # Slack sends link_shared only for the manifest's unfurl_domains
    admitted = stack.components.door.admitted
    _, sent = await stack.slack.post_link(ANN, "C0GENERAL", f"https://crm.zoho.com/crm/org{org}/tab/Contacts/{lead_id}")
    assert sent is not None and sent.status == 200  # sent, acked, and nothing more: not a Lead link
    assert stack.components.door.admitted == admitted

    assert stack.slack.unfurls() == []


async def test_whoami_shows_what_a_lead_link_looks_like_and_such_a_link_unfurls(stack):
    await stack.connect(ANN, ANN_EMAIL)
    [lead_id] = stack.zoho.seed_leads(ANN_EMAIL, [JANE])

    answer = await ask(stack, ANN, "whoami")

    pattern = re.search(r"`(https://crm\.zoho\.com/crm/org\d+/tab/Leads/)&lt;id&gt;`", answer.text)
    assert pattern is not None, answer.text
    url = pattern[1] + lead_id
    await post(stack, ANN, url)
    [shown] = [m for m in stack.slack.messages(channel="C0GENERAL") if m.author == ANN]
    assert "*Jane Doe* (Acme)" in card_words(shown.unfurls[url])
