"""A connection Zoho refuses for good (its refresh token revoked at Zoho) goes like any other: forgotten through
the revocation service, audited, and the person's Home tab republished without it."""

from __future__ import annotations

from bot.slack.front_door import ZOHO_REFUSED_ACTOR
from tests.e2e.test_home import words
from tests.e2e.test_leads import ANN_EMAIL, ask
from tests.stack import ANN, TEAM_ID


async def test_a_connection_zoho_refused_is_forgotten_audited_and_gone_from_the_home_tab(stack):
    await stack.connect(ANN, ANN_EMAIL)
    home = await stack.slack.open_home(ANN)
    assert "Connected to Zoho CRM as ann@acme.test" in words(home.view)
    [connection] = stack.store.connections.list(TEAM_ID)
    assert stack.zoho.ledger.revoke(stack.store.connections.secrets(connection.id).refresh_token)
    stack.zoho.expire_access_tokens(ANN_EMAIL)
    before = stack.slack.seq

    answer = await ask(stack, ANN, "list")

    assert "disconnected" in answer.text
    home = await stack.slack.wait_for_home(ANN, after=before)
    assert "You're not connected to Zoho CRM" in words(home.view)
    [entry, *_] = stack.store.audit.list(TEAM_ID)
    assert (entry.actor_user_id, entry.action, entry.subject_user_id) == (ZOHO_REFUSED_ACTOR, "revoke", ANN)
