"""The tokens Zoho issued during a login never show: not in the database file (nor its WAL), not in any log line
at DEBUG, not in the pages the browser got. Neither do the grant code and the client secret."""

from __future__ import annotations

import logging
from pathlib import Path

from store import ChatIdentity
from tests.oauth.http_browser import HttpBrowser
from tests.stack import ANN, CLIENT_SECRET, TEAM_ID

SUCCESS = "You can close this tab and go back to Slack."


def database_bytes(tmp_path: Path) -> bytes:
    files = [tmp_path / name for name in ("bot.db", "bot.db-wal", "bot.db-journal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


async def test_issued_tokens_appear_nowhere(stack, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    stack.zoho.auto_approve_as = "ann@acme.test"
    pages: list[str] = []
    async with HttpBrowser() as browser:
        link = await stack.login_link(ANN)
        pages.append((await browser.log_in(link)).html)
        pages.append((await browser.get(link)).html)  # replayed: "already used"
        # Ann logs in again as Ada: the first refresh token is revoked (one more request carrying a token).
        stack.zoho.auto_approve_as = "ada@acme.test"
        pages.append((await browser.log_in(await stack.login_link(ANN))).html)
        await stack.command(ANN, "whoami")
        await stack.slack.wait_for_message(lambda m: m.user == ANN and "Connected to Zoho CRM as" in m.text)

    assert SUCCESS in pages[0] and "already used" in pages[1] and SUCCESS in pages[2]
    assert len(stack.zoho.revoked_refresh_tokens) == 1
    identity = ChatIdentity(TEAM_ID, ANN)
    connection = stack.store.connections.get(identity)
    assert connection is not None
    # The store hands the tokens back decrypted: they are really in there, only never in clear.
    secrets = stack.store.connections.secrets(connection.id)
    tokens = stack.zoho.issued_tokens()
    assert secrets.refresh_token in tokens and secrets.access_token in tokens

    never_shown = [*tokens, *stack.zoho.issued_codes(), CLIENT_SECRET]
    assert len(never_shown) >= 7
    stored = database_bytes(tmp_path)
    assert len(stored) > 10_000
    ours = [r for r in caplog.records if not r.name.startswith("playground")]
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in ours)
    assert "connected identity=" in logged
    assert any(r.levelno == logging.DEBUG for r in ours), "DEBUG records were captured"
    for secret in never_shown:
        assert secret.encode() not in stored, "a secret is stored in clear"
        assert secret not in logged, "a secret was logged"
        assert all(secret not in page for page in pages), "a secret is in a page"
    # Slack saw none of them either (DMs, replies).
    shown_in_slack = " ".join(m.text + str(m.blocks) for m in stack.slack.messages())
    assert all(secret not in shown_in_slack for secret in never_shown)
