"""Two people in two Zoho orgs typing `/lead` at the same time: every CRM request leaves with the token of the
person who typed the command, and each sees and changes only their own org's Leads."""

from __future__ import annotations

import asyncio
import random

from tests.e2e.test_leads import ANN_EMAIL, BOB_EMAIL, ask, leads_in, org_of, shown_text
from tests.stack import ANN, BOB


async def test_fifty_mixed_commands_from_two_orgs_never_cross(stack):
    await stack.connect(ANN, ANN_EMAIL)
    await stack.connect(BOB, BOB_EMAIL)
    seeded = {
        ANN: stack.zoho.seed_leads(ANN_EMAIL, [{"Last_Name": f"Annseed {i}"} for i in range(6)]),
        BOB: stack.zoho.seed_leads(BOB_EMAIL, [{"Last_Name": f"Bobseed {i}"} for i in range(6)]),
    }
    stack.zoho.reset_counters()
    stack.zoho.latency = 0.05  # requests overlap in the SDK's worker threads
    mark = {ANN: "annmark", BOB: "bobmark"}
    commands: list[tuple[str, str]] = []
    for user in (ANN, BOB):
        ids = seeded[user]
        commands += [(user, f"create last={mark[user]}{i} company={mark[user]}co") for i in range(8)]
        commands += [(user, "list") for _ in range(6)]
        commands += [(user, f"list {mark[user]}") for _ in range(4)]
        commands += [(user, f"edit {ids[i]} company={mark[user]}edited") for i in range(4)]
        commands += [(user, f"delete {ids[4]}"), (user, f"edit {seeded[BOB if user == ANN else ANN][5]} last=Hijack")]
        commands += [(user, "list annmark0" if user == BOB else "list bobmark0")]  # the other's Lead
    assert len(commands) == 50
    random.Random(4).shuffle(commands)

    answers = await asyncio.gather(*(ask(stack, user, text, timeout=60) for user, text in commands))

    # every CRM request carried a live token of one of the two, and it was the typist's for marked searches
    calls = stack.zoho.crm_calls
    assert calls and all(call.status != 401 and call.email in (ANN_EMAIL, BOB_EMAIL) for call in calls)
    owner_of_mark = {"annmark": ANN_EMAIL, "bobmark": BOB_EMAIL, "bobmark0": ANN_EMAIL, "annmark0": BOB_EMAIL}
    searches = [call for call in calls if call.path.endswith("/search") and "word" in call.query]
    assert len(searches) == 10
    for call in searches:
        assert call.email == owner_of_mark[call.query["word"]]
        assert call.org_id == org_of(stack, call.email)
    # "list" asks for the typist's own Leads: by their own Zoho user id
    owned = [call for call in calls if call.path.endswith("/search") and "criteria" in call.query]
    assert len(owned) == 12
    for call in owned:
        assert call.query["criteria"] == f"(Owner:equals:{stack.zoho.user(call.email).crm_user_id})"

    # each org holds only its own person's work
    for user, email, own, other in ((ANN, ANN_EMAIL, "annmark", "bobmark"), (BOB, BOB_EMAIL, "bobmark", "annmark")):
        names = [lead["Last_Name"] for lead in leads_in(stack, email)]
        companies = [lead["Company"] for lead in leads_in(stack, email)]
        assert sorted(n for n in names if n.startswith(own)) == sorted(f"{own}{i}" for i in range(8))
        assert not any(other in str(value) for value in names + companies)
        assert "Hijack" not in names
        assert seeded[user][4] not in {lead["id"] for lead in leads_in(stack, email)}
        assert companies.count(f"{own}edited") == 4
        assert all(
            lead["Owner"]["email"] == email for lead in leads_in(stack, email) if lead["Last_Name"].startswith(own)
        )

    # and each person's replies show only their org's Leads
    for (user, text), answer in zip(commands, answers, strict=True):
        shown = shown_text(answer)
        other = "bobmark" if user == ANN else "annmark"
        other_seed = "Bobseed" if user == ANN else "Annseed"
        if text == f"list {other}0":
            assert "No Leads match" in shown, (user, text, shown)
        else:
            assert other not in shown, (user, text, shown)
        assert other_seed not in shown, (user, text)
        if text.startswith("edit") and "Hijack" in text:
            assert "no Lead" in answer.text
