"""Running the aiohttp application until SIGTERM/SIGINT, then stopping cleanly, and keeping it reachable.

On a stop signal the listening socket closes first, commands in flight are finished (or answered) within the
grace period, clients and the database are closed, and the process exits 0.

Every connection passes `bot.connection_guard` (caps per client and in all, header and body deadlines); idle
ones close after the keep-alive time (`bot.limits.ConnectionLimits`).

With METRICS_PORT set, `GET /metrics` is served on HOST:METRICS_PORT by a runner of its own (bot.metrics_http),
started once the public port listens and stopped with it; the public port never serves it. A worker of
`--workers N` serves none: its parent does, and the worker publishes its scrape-time gauges for it
(`publish_metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot.app import COMPONENTS
from bot.connection_guard import ConnectionGuard, body_deadline, limits_for, listen, raise_open_files_limit
from bot.limits import ConnectionLimits
from bot.metrics import PUBLISH_EVERY_S, ScrapeTimeGauges
from bot.metrics_http import start_metrics

log = logging.getLogger(__name__)

# Allocations between two young-generation collections (CPython's default is 700). Under a burst every request
# allocates hundreds of short-lived objects while the commands waiting their turn live for seconds; at 700 the
# collector ran ~60 times per 2,000 commands, re-walking those waiting ones each time (~40 ms of CPU per 2,000
# acks in bench/ack_bench.py). At 10,000 it runs a few times, each collection pausing the loop for a few ms.
GC_YOUNG_THRESHOLD = 10_000


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[int], None] | None = None,
    limits: ConnectionLimits | None = None,
    reuse_port: bool = False,
    publish_metrics: bool = False,
) -> None:
    """Serve `app` on host:port until `stop` is set or a stop signal arrives (`limits`: the app's own by default;
    `reuse_port`: share the port with the other workers of `--workers`, the kernel spreading connections;
    `publish_metrics`: publish the scrape-time gauges every PUBLISH_EVERY_S for the parent that serves them)."""
    limits = limits_for(raise_open_files_limit(), limits or app[COMPONENTS].limits.connections)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Not the main thread, or no signals on this platform: stop.set() still works.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    app.middlewares.append(body_deadline(limits.body_seconds))
    runner = web.AppRunner(
        app, handle_signals=False, access_log=None, shutdown_timeout=5, keepalive_timeout=limits.keepalive_seconds
    )
    await runner.setup()
    # Everything built so far (the Zoho SDK's modules, the app) lives as long as the process: take it out of the
    # garbage collector's reach, so a full collection under load scans only what requests create; and collect the
    # young generation less often (GC_YOUNG_THRESHOLD).
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    guard = ConnectionGuard(limits)
    components = app[COMPONENTS]
    listener: asyncio.AbstractServer | None = None
    socket_mode: AsyncSocketModeHandler | None = None
    metrics: web.AppRunner | None = None
    publishing: asyncio.Task[None] | None = None
    served = False
    try:
        # Inside the try: a port that cannot be bound still shuts the app down (its clients, the database).
        listener = await listen(runner, host, port, guard, reuse_port=reuse_port)
        bound_port = listener.sockets[0].getsockname()[1] if listener.sockets else port
        metrics_port = components.settings.metrics_port
        if metrics_port is not None:
            metrics = await start_metrics(components.metrics, components.gauges, host, metrics_port)
        if publish_metrics:
            publishing = asyncio.create_task(_keep_publishing(components.gauges), name="publish-metrics")
        if components.settings.socket_mode:
            logging.getLogger("slack_bolt").addFilter(_RETRY_WITHOUT_TRACEBACK)
            socket_mode = AsyncSocketModeHandler(components.bolt, components.settings.slack_app_token)
            # slack_sdk retries a connection that fails (Slack out of reach) for as long as it takes: a stop signal
            # meanwhile ends the wait, and the start.
            if not await _first_of(socket_mode.connect_async(), stop):
                log.info("stop requested before Socket Mode connected")
                return
            log.info("Slack: Socket Mode connected")
        log.info(
            "listening on http://%s:%d (Slack events at /slack/events, login at /zoho/login)",
            host,
            bound_port,
        )
        served = True
        if on_ready is not None:
            on_ready(bound_port)
        await stop.wait()
        log.info("stop requested: finishing work in flight")
    finally:
        if publishing is not None:
            publishing.cancel()
        if socket_mode is not None:
            await socket_mode.close_async()
        if listener is not None:
            listener.close()  # no new connections; those open finish their requests in runner.cleanup()
        if metrics is not None:
            await metrics.cleanup()
        await runner.cleanup()
        guard.close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
                if reuse_port and stop.is_set():
                    # A worker of `--workers`: its parent forwards the stop signal that the whole process group
                    # (Ctrl-C, a service manager) may have sent this worker too. Its work is done: the second one
                    # must not kill it on its way out, which the parent would count as an unclean stop.
                    signal.signal(sig, signal.SIG_IGN)
        log.info("stopped" if served else "not started (what was opened for it is closed again)")


class _RetryWithoutTraceback(logging.Filter):
    """slack_sdk logs each failed Socket Mode connection with its traceback, every 10 s while Slack is out of
    reach; the line itself names the error, so it goes out as that one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Failed to connect (error: ") and record.exc_info:
            if "(error: )" in str(record.msg) and record.exc_info[0] is not None:  # a timeout says nothing itself
                record.msg = str(record.msg).replace("(error: )", f"(error: {record.exc_info[0].__name__})", 1)
            record.exc_info, record.exc_text = None, None
        return True


_RETRY_WITHOUT_TRACEBACK = _RetryWithoutTraceback()


async def _first_of(work: Coroutine[Any, Any, Any], stop: asyncio.Event) -> bool:
    """Run `work` until it is done (True) or `stop` is set first (False: `work` is cancelled)."""
    doing = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({doing, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if doing.done():
        doing.result()  # its failure, if it failed
        return True
    doing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await doing
    return False


async def _keep_publishing(gauges: ScrapeTimeGauges) -> None:
    while True:
        await gauges.publish()  # a read that fails is published as NaN and logged once (ScrapeTimeGauges)
        await asyncio.sleep(PUBLISH_EVERY_S)
