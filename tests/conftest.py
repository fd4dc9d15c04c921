"""Fixtures shared by every test folder: the whole product on loopback."""

from __future__ import annotations

import time

import pytest

from bot.zoho import sdk_runtime
from tests.stack import Stack, start_stack


@pytest.fixture(autouse=True)
def no_field_period_ends_during_a_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each org's field-metadata period ends at a second of the hour set by its key, and the key holds the Zoho
    emulator's random port: any test could see a period end between two of its calls, and the fetch of the new
    period's fields behind them (bot.zoho.sdk_runtime) adds Zoho calls, org slots and log lines the test did not
    ask for. Here every org's periods end half a period after the test starts, so a test crosses one only by
    moving its clock a period on, as the tests of that fetch do. (A bot started as a process of its own keeps the
    real boundaries: tests/stack.py starts the Zoho emulator on a port that has none in the next minutes.)"""
    period = sdk_runtime.FIELD_CACHE_SECONDS
    shift = (period / 2 - time.time()) % period

    def field_period(_key: str, now: float) -> int:
        return int((now + shift) // period)

    monkeypatch.setattr(sdk_runtime, "field_period", field_period)


@pytest.fixture
async def stack(tmp_path) -> Stack:
    """Zoho emulator + Slack emulator + the bot server on a fresh SQLite database."""
    running = await start_stack(tmp_path)
    yield running
    await running.stop()
    await running.slack.stop()
    await running.zoho.stop()
