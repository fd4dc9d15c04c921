"""Running the aiohttp application until SIGTERM/SIGINT, then stopping cleanly, and keeping it reachable.

On a stop signal the listening socket closes first, commands in flight are finished (or answered) within the
grace period, clients and the database are closed, and the process exits 0.

No client can hold the process's file descriptors: idle connections close after KEEPALIVE_SECONDS, a request's
headers must arrive within HEADER_SECONDS and its body within BODY_SECONDS, and connections beyond
MAX_CONNECTIONS_PER_CLIENT from one address, or MAX_CONNECTIONS in all, are closed as they arrive (counted in
one log line per REFUSALS_REPORT_SECONDS, never one per connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot.app import COMPONENTS

log = logging.getLogger(__name__)

# Allocations between two young-generation collections (CPython's default is 700). Under a burst every request
# allocates hundreds of short-lived objects while the commands waiting their turn live for seconds; at 700 the
# collector ran ~60 times per 2,000 commands, re-walking those waiting ones each time (~40 ms of CPU per 2,000
# acks in bench/ack_bench.py). At 10,000 it runs a few times, each collection pausing the loop for a few ms.
GC_YOUNG_THRESHOLD = 10_000

# Slack reuses a connection within seconds or not at all, and a browser on the login pages does the same; an idle
# connection held longer only costs a file descriptor (aiohttp's default is 3,630 s). A reverse proxy in front
# should close its idle connections sooner than this (most default to 60 s: set it below 15 s).
KEEPALIVE_SECONDS = 15.0
# Slack sends a whole request at once and a browser's login-page request is a few hundred bytes: 10 s is room for
# a very slow mobile link, and short enough that a slowloris client holds a descriptor for 10 s, not for ever.
HEADER_SECONDS = 10.0
# Bodies are small (Slack's largest, a view submission, is a few kB; MAX_BODY_BYTES in bot/slack_http.py).
BODY_SECONDS = 10.0
# One address holding more than this is a flood, not Slack (whose requests come from many addresses and, at a
# team's pace, a few at a time) nor a reverse proxy (whose pool for this bot stays far below it).
MAX_CONNECTIONS_PER_CLIENT = 200
# In all: far above a team's traffic, and far below the open-files limit the process raises at start (kept below
# it by OPEN_FILES_RESERVE, so the cap, not EMFILE, is what turns a flood away).
MAX_CONNECTIONS = 2_000
# Descriptors kept for everything else: database connections, calls to Slack and Zoho, log and SQLite files.
OPEN_FILES_RESERVE = 256
REFUSALS_REPORT_SECONDS = 5.0


@dataclass(frozen=True)
class ConnectionLimits:
    """How many connections the server keeps open, and for how long it waits for a request."""

    total: int = MAX_CONNECTIONS
    per_client: int = MAX_CONNECTIONS_PER_CLIENT
    header_seconds: float = HEADER_SECONDS
    body_seconds: float = BODY_SECONDS
    keepalive_seconds: float = KEEPALIVE_SECONDS


def raise_open_files_limit() -> int | None:
    """Raise the soft limit on open files to the hard limit; the soft limit now in force (None: no such limit)."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to raise
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:  # e.g. macOS refuses RLIM_INFINITY: keep what we have
            log.warning("could not raise the open-files limit from %d: %s", soft, exc)
    return None if soft == resource.RLIM_INFINITY else soft


def limits_for(open_files: int | None, limits: ConnectionLimits) -> ConnectionLimits:
    """`limits` with the total lowered to fit under `open_files` (minus OPEN_FILES_RESERVE)."""
    if open_files is None or open_files - OPEN_FILES_RESERVE >= limits.total:
        return limits
    total = max(open_files - OPEN_FILES_RESERVE, 16)
    return replace(limits, total=total, per_client=min(limits.per_client, total))


class ConnectionGuard:
    """Counts open connections per client address; turns away those beyond the caps and reports them in summary."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.open: Counter[str] = Counter()
        self.total = 0
        self.refused: Counter[str] = Counter()
        self._report: asyncio.TimerHandle | None = None

    def admit(self, client: str) -> bool:
        """Count a new connection from `client`; False (and counted as refused) when it is beyond a cap."""
        if self.total >= self.limits.total or self.open[client] >= self.limits.per_client:
            self.refused[client] += 1
            if self._report is None:
                self._report = asyncio.get_running_loop().call_later(REFUSALS_REPORT_SECONDS, self.report)
            return False
        self.open[client] += 1
        self.total += 1
        return True

    def release(self, client: str) -> None:
        self.total -= 1
        self.open[client] -= 1
        if not self.open[client]:
            del self.open[client]

    def report(self) -> None:
        """Log the connections turned away since the last report, in one line."""
        self._report = None
        if not self.refused:
            return
        busiest, most = self.refused.most_common(1)[0]
        log.warning(
            "connections: closed %d beyond the caps in the last %.0f s from %d clients (most from %s: %d); "
            "caps: %d per client, %d in all; open now: %d",
            sum(self.refused.values()),
            REFUSALS_REPORT_SECONDS,
            len(self.refused),
            busiest,
            most,
            self.limits.per_client,
            self.limits.total,
            self.total,
        )
        self.refused.clear()

    def close(self) -> None:
        if self._report is not None:
            self._report.cancel()
        self.report()


class GuardedConnection(asyncio.Protocol):
    """One TCP connection: admitted by the guard, then handed to aiohttp's protocol, with a deadline for the first
    request's headers (aiohttp's keep-alive timer bounds the later ones: it closes a connection whose next request
    is still incomplete when the timer fires)."""

    def __init__(self, guard: ConnectionGuard, make_handler: Callable[[], asyncio.Protocol]) -> None:
        self._guard = guard
        self._make_handler = make_handler
        self._handler: asyncio.Protocol | None = None
        self._client = ""
        self._transport: asyncio.Transport | None = None
        self._header_deadline: asyncio.TimerHandle | None = None
        self._tail = b""  # the last bytes seen, for a header end split between two reads

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self._client = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        if not self._guard.admit(self._client):
            transport.abort()  # RST: the descriptor is free at once, without a lingering close
            return
        self._transport = transport  # type: ignore[assignment]
        self._header_deadline = asyncio.get_running_loop().call_later(self._guard.limits.header_seconds, self._late)
        self._handler = self._make_handler()
        self._handler.connection_made(transport)

    def _late(self) -> None:
        self._header_deadline = None
        if self._transport is not None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._handler is None:
            return
        if self._header_deadline is not None:
            seen = self._tail + data
            if b"\r\n\r\n" in seen:
                self._header_deadline.cancel()
                self._header_deadline = None
            self._tail = seen[-3:]
        self._handler.data_received(data)

    def eof_received(self) -> bool | None:
        return self._handler.eof_received() if self._handler is not None else None

    def pause_writing(self) -> None:
        if self._handler is not None:
            self._handler.pause_writing()

    def resume_writing(self) -> None:
        if self._handler is not None:
            self._handler.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._handler is None:
            return
        if self._header_deadline is not None:
            self._header_deadline.cancel()
        self._guard.release(self._client)
        self._transport = None
        self._handler.connection_lost(exc)


def body_deadline(seconds: float) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A middleware that reads a request's body within `seconds` (handlers then get it from aiohttp's cache)."""

    @web.middleware
    async def read_body_in_time(request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]):
        if request.body_exists:
            try:
                await asyncio.wait_for(request.read(), seconds)
            except TimeoutError:
                too_slow = web.HTTPRequestTimeout(text="the request body did not arrive in time")
                too_slow.force_close()
                raise too_slow from None
        return await handler(request)

    return read_body_in_time


async def listen(runner: web.AppRunner, host: str, port: int, guard: ConnectionGuard) -> asyncio.AbstractServer:
    """Listen on host:port, every connection going through `guard` to the runner's aiohttp server."""
    make_handler = runner.server
    assert make_handler is not None, "runner.setup() first"
    return await asyncio.get_running_loop().create_server(
        lambda: GuardedConnection(guard, make_handler), host, port, backlog=128
    )


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[int], None] | None = None,
    limits: ConnectionLimits = ConnectionLimits(),
) -> None:
    """Serve `app` on host:port until `stop` is set or a stop signal arrives."""
    limits = limits_for(raise_open_files_limit(), limits)
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
    listener = await listen(runner, host, port, guard)
    bound_port = listener.sockets[0].getsockname()[1] if listener.sockets else port
    components = app[COMPONENTS]
    socket_mode: AsyncSocketModeHandler | None = None
    try:
        if components.settings.socket_mode:
            socket_mode = AsyncSocketModeHandler(components.bolt, components.settings.slack_app_token)
            await socket_mode.connect_async()
            log.info("Slack: Socket Mode connected")
        log.info(
            "listening on http://%s:%d (Slack events at /slack/events, login at /zoho/login)",
            host,
            bound_port,
        )
        if on_ready is not None:
            on_ready(bound_port)
        await stop.wait()
        log.info("stop requested: finishing work in flight")
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()
        listener.close()  # no new connections; those open finish their requests in runner.cleanup()
        await runner.cleanup()
        guard.close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        log.info("stopped")
