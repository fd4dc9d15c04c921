"""`GET /healthz`: 200 when the database answers, 503 otherwise."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web

log = logging.getLogger(__name__)


def health_handler(ping: Callable[[], bool], *, timeout: float = 3.0):
    """A handler that runs the blocking `ping` in a thread, bounded by `timeout`."""

    async def health(_request: web.Request) -> web.Response:
        try:
            ok = await asyncio.wait_for(asyncio.to_thread(ping), timeout)
        except Exception as exc:
            log.warning("health check: database did not answer: %s", type(exc).__name__)
            ok = False
        if ok:
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unavailable", "database": "not answering"}, status=503)

    return health
