"""`/lead` through the real bolt app and front door: what the person sees in the ack and on the response_url."""

from __future__ import annotations

import pytest

from bot.leads.model import Lead, LeadQuery, ListScope
from bot.leads.service import LeadServices
from bot.zoho import LeadNotFound
from tests.bot.slack.in_process import InProcessBot, ack_json, me, words

URL = "https://hooks.slack.com/commands/T0TEST/1/lead"
ALICE = "U0ALICE"


@pytest.fixture
def bot() -> InProcessBot:
    return InProcessBot()


async def test_list_answers_at_once_then_posts_the_leads_once(bot: InProcessBot) -> None:
    bot.store.connect(me(ALICE))
    bot.leads.service.leads = [Lead("1", {"First_Name": "Jane", "Last_Name": "Doe"}), Lead("2", {"Last_Name": "Roe"})]

    ack = await bot.command(ALICE, "/lead", "list", URL)

    assert ack.status == 200
    assert ack_json(ack) == {}  # an empty ack: the answer comes on the response_url
    await bot.settle()
    assert bot.leads.service.calls == [("list", (1, LeadQuery(ListScope.MINE)))]  # the person's own Leads
    assert bot.leads.asked_for[0].identity == me(ALICE)
    answers = bot.response_urls.to(URL)
    assert len(answers) == 1
    assert answers[0]["response_type"] == "ephemeral"
    shown = words(answers[0])
    assert "Jane Doe" in shown and "Roe" in shown


async def test_list_without_a_connection_sends_the_login_link_and_offers_to_run_it_after(bot: InProcessBot) -> None:
    ack = await bot.command(ALICE, "/lead", "list", URL)

    assert ack.status == 200
    await bot.settle()
    assert bot.leads.service.calls == []
    assert bot.leads.asked_for == []
    assert [identity for identity, _, _ in bot.messenger.login_links] == [me(ALICE)]
    (answer,) = bot.response_urls.to(URL)
    text = answer["text"]
    assert "not connected to Zoho CRM" in text
    assert "I've sent you a login link in a direct message" in text
    assert "offers to run your `/lead list`" in text


async def test_the_login_link_reply_says_the_command_will_be_offered_as_typed_not_cut_short(bot: InProcessBot) -> None:
    await bot.command(ALICE, "/lead", 'create last=Doe company="Acme"', URL)
    await bot.settle()

    (answer,) = bot.response_urls.to(URL)
    assert "offers to run your `/lead create …` as you typed it." in answer["text"]
    assert "Acme" not in answer["text"]  # what was typed stays with the bot


async def test_delete_of_a_lead_zoho_does_not_have_says_so_and_echoes_the_command(bot: InProcessBot) -> None:
    bot.store.connect(me(ALICE))
    bot.leads.service.error = LeadNotFound("42")

    await bot.command(ALICE, "/lead", "delete 42", URL)
    await bot.settle()

    assert bot.leads.service.called("delete") == [("42",)]
    (answer,) = bot.response_urls.to(URL)
    shown = words(answer)
    assert "The Lead was not deleted" in shown
    assert "There is no Lead with id `42`" in shown
    assert "/lead delete 42" in shown


async def test_edit_with_a_bad_email_is_refused_before_zoho_is_asked() -> None:
    """The real LeadService (over a CRM that records every call) checks the values before any Zoho call."""
    crm = RecordingCrm()
    bot = InProcessBot(leads=LeadServices(crm, None))  # type: ignore[arg-type]
    bot.store.connect(me(ALICE))

    await bot.command(ALICE, "/lead", "edit 42 email=nope", URL)
    await bot.settle()

    assert crm.calls == []
    (answer,) = bot.response_urls.to(URL)
    shown = words(answer)
    assert "Nothing was saved: one field needs fixing" in shown
    assert "nope" in shown
    assert "/lead edit 42 email=nope" in shown


async def test_edit_with_an_unknown_key_is_refused_with_a_did_you_mean_and_nothing_written(bot: InProcessBot) -> None:
    bot.store.connect(me(ALICE))

    await bot.command(ALICE, "/lead", "edit 42 emial=jane@acme.test", URL)
    await bot.settle()

    assert bot.leads.service.called("update") == []
    (answer,) = bot.response_urls.to(URL)
    shown = words(answer)
    assert "Nothing was saved: one field needs fixing" in shown
    assert "Unknown key `emial`" in shown and "did you mean `email`" in shown
    assert "/lead edit 42 emial=jane@acme.test" in shown


async def test_an_unknown_subcommand_is_answered_in_the_ack_and_never_admitted(bot: InProcessBot) -> None:
    bot.store.connect(me(ALICE))

    ack = await bot.command(ALICE, "/lead", "lsit", URL)

    body = ack_json(ack)
    assert ack.status == 200
    assert body["response_type"] == "ephemeral"
    assert "I don't know `/lead lsit`" in body["text"]
    assert "Did you mean `/lead list`?" in body["text"]
    await bot.settle()
    assert bot.door.admitted == 0
    assert bot.response_urls.posted == []
    assert bot.leads.service.calls == []


async def test_foo_gets_the_list_of_subcommands_in_the_ack(bot: InProcessBot) -> None:
    ack = await bot.command(ALICE, "/lead", "foo", URL)

    text = ack_json(ack)["text"]
    assert "I don't know `/lead foo`" in text
    assert "`list`" in text and "`/lead help`" in text
    assert bot.door.admitted == 0


async def test_logout_with_someone_named_after_it_is_refused_and_the_person_stays_connected(bot: InProcessBot) -> None:
    bot.store.connect(me(ALICE))

    ack = await bot.command(ALICE, "/lead", "logout <@U0BOB>", URL)

    shown = words(ack_json(ack))
    assert "`/lead logout` takes nothing after it: remove `@U0BOB`" in shown  # shown, not pinged
    assert "`/zoho-revoke @someone`" in shown and shown.startswith("Nothing was changed")
    await bot.settle()
    assert bot.door.admitted == 0 and bot.revocation.calls == []


@pytest.mark.parametrize("typed", ["whoami please", "login again now"])
async def test_whoami_and_login_with_words_after_them_say_what_to_remove(bot: InProcessBot, typed: str) -> None:
    ack = await bot.command(ALICE, "/lead", typed, URL)

    subcommand, rest = typed.split(" ", 1)
    said = words(ack_json(ack))
    assert f"`/lead {subcommand}` takes nothing after it: remove `{rest}`" in said
    assert "Nothing was saved" not in said  # nothing is saved by these: said in their own words
    await bot.settle()
    assert bot.door.admitted == 0 and bot.messenger.login_links == []


class RecordingCrm:
    """A ZohoCrm that must not be reached: every method called is recorded."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str):  # noqa: ANN204
        async def called(*args: object, **kwargs: object) -> None:
            self.calls.append(name)
            raise AssertionError(f"Zoho was asked to {name}")

        return called
