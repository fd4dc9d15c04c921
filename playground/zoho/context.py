"""The aiohttp application key under which the routes find their emulator."""

from __future__ import annotations

from typing import Any

from aiohttp import web

EMULATOR: web.AppKey[Any] = web.AppKey("zoho_emulator")
