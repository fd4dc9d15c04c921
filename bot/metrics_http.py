"""`GET /metrics` in the Prometheus text format, on HOST:METRICS_PORT only: its own aiohttp runner and site,
started after the public port is listening and stopped with it (bot.server). The public port has no such route.

One process serves its own figures (bot.metrics). The parent of `--workers N` serves the sum of its workers'
(`WorkersMetrics`): the same handler, on an event loop in a thread of its own, since the parent has none.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import threading

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from bot.metrics import ScrapeTimeGauges

log = logging.getLogger(__name__)


class MetricsPortUnavailable(Exception):
    """METRICS_PORT cannot be listened on (in use, or not allowed); `str()` is one line naming the setting."""


def metrics_handler(registry: CollectorRegistry, gauges: ScrapeTimeGauges):
    """The handler: reads the scrape-time gauges, then writes every series of `registry`."""

    async def metrics(_request: web.Request) -> web.Response:
        await gauges.refresh()
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics


async def start_metrics(registry: CollectorRegistry, gauges: ScrapeTimeGauges, host: str, port: int) -> web.AppRunner:
    """Serve `GET /metrics` on host:port; the runner's `cleanup()` stops it. Raises MetricsPortUnavailable."""
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(registry, gauges))
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise MetricsPortUnavailable(
                f"METRICS_PORT {port} is in use; set METRICS_PORT=… to another port (or unset it: no metrics)"
            ) from None
        raise MetricsPortUnavailable(f"METRICS_PORT {port} cannot be listened on at {host}: {exc}") from None
    log.info("metrics at http://%s:%d/metrics", host, port)
    return runner


class WorkersMetrics:
    """The workers' parent's METRICS_PORT: `start()` listens (or raises MetricsPortUnavailable) before any worker
    starts, a thread of its own serves the scrapes, `stop()` ends it."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self._registry, self._host, self._port = registry, host, port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="metrics", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._failure is not None:
            self._thread.join()
            raise self._failure

    def stop(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            runner = await start_metrics(self._registry, ScrapeTimeGauges(()), self._host, self._port)
        except BaseException as exc:  # told by start(), in the parent's own thread
            self._failure = exc
            self._started.set()
            return
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()
