"""`GET /metrics` in the Prometheus text format, on HOST:METRICS_PORT only: its own aiohttp runner and site,
started after the public port is listening and stopped with it (bot.server). The public port has no such route.

The figures are those of this process (bot.metrics).
"""

from __future__ import annotations

import errno
import logging

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
