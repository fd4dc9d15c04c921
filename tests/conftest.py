"""Fixtures shared by every test folder: the whole product on loopback."""

from __future__ import annotations

import pytest

from tests.stack import Stack, start_stack


@pytest.fixture
async def stack(tmp_path) -> Stack:
    """Zoho emulator + Slack emulator + the bot server on a fresh SQLite database."""
    running = await start_stack(tmp_path)
    yield running
    await running.stop()
    await running.slack.stop()
    await running.zoho.stop()
