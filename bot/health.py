"""`GET /healthz`: 200 when the database answers, 503 otherwise."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiohttp import web

log = logging.getLogger(__name__)


def health_handler(problem: Callable[[], str | None], *, timeout: float = 3.0):
    """A handler that runs the blocking `problem` (None: the database answers; else why not) in a thread, bounded
    by `timeout`. An outage is logged once when it is first seen, with its reason, and once when it ends: a load
    balancer asks every few seconds, and a line per probe would drown the log."""
    down_since: float | None = None

    async def health(_request: web.Request) -> web.Response:
        nonlocal down_since
        try:
            why = await asyncio.wait_for(asyncio.to_thread(problem), timeout)
        except TimeoutError:
            why = f"no answer within {timeout:g} s"
        except Exception as exc:  # noqa: BLE001 - a health check answers 503, never a traceback
            why = type(exc).__name__
        if why is None:
            if down_since is not None:
                log.info("health check: the database answers again (after %.0f s)", time.monotonic() - down_since)
                down_since = None
            return web.json_response({"status": "ok"})
        if down_since is None:
            down_since = time.monotonic()
            log.warning("health check: database did not answer: %s", why)
        return web.json_response({"status": "unavailable", "database": "not answering"}, status=503)

    return health
