"""Fixtures for the emulator tests: a started Zoho emulator with one client and three users, an HTTP session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest

from playground.zoho import ZohoEmulator

from .zoho_login import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI


@pytest.fixture
async def zoho() -> AsyncIterator[ZohoEmulator]:
    """Ann and Ada share the org Acme Ltd (us); Bob is alone in Globex (eu)."""
    emu = ZohoEmulator()
    emu.register_client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI)
    emu.add_user(email="ann@acme.test", full_name="Ann Smith", org_name="Acme Ltd")
    emu.add_user(email="ada@acme.test", full_name="Ada Admin", org_name="Acme Ltd")
    emu.add_user(email="bob@globex.test", full_name="Bob Jones", org_name="Globex", location="eu")
    await emu.start(host="127.0.0.1", port=0)
    yield emu
    await emu.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def sdk_thread() -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Runs blocking zohocrmsdk calls in one dedicated thread (so no other test's `switch_user` leaks in)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zoho-sdk-test")

    async def run(fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    yield run
    pool.shutdown(wait=True)
