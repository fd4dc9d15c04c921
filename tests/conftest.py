"""Fixtures shared by every test folder: the whole product on loopback."""

from __future__ import annotations

import time

import pytest

from bot import app, process_folders
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


@pytest.fixture(autouse=True)
def field_files_of_this_test_only(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The bot keeps field-metadata files in a folder of the machine, named by an org's API domain and id. Here the
    domain holds the emulator's random port, which other tests and earlier runs used too: their files would pass
    for this test's orgs' (a last period's file, say, and a fetch behind it that the test did not ask for). Each
    test's bots get a folder of their own, shared by the stacks of that test."""
    parent = str(tmp_path_factory.mktemp("machine"))
    monkeypatch.setattr(app, "machine_folder", lambda prefix: process_folders.machine_folder(prefix, parent))


@pytest.fixture
async def stack(tmp_path) -> Stack:
    """Zoho emulator + Slack emulator + the bot server on a fresh SQLite database."""
    running = await start_stack(tmp_path)
    yield running
    await running.stop()
    await running.slack.stop()
    await running.zoho.stop()
