"""Keeping the server reachable: no client can hold the process's file descriptors.

Idle connections close after `keepalive_seconds`, a request's headers must arrive within `header_seconds` and
its body within `body_seconds`, and connections beyond `per_client` from one address, or `total` in all, are
closed as they arrive, counted in one log line per REFUSALS_REPORT_SECONDS, never one per connection. The
numbers, and why, are `bot.limits.ConnectionLimits`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace

from aiohttp import web

from bot.limits import ConnectionLimits
from bot.logs import Tally

log = logging.getLogger(__name__)

REFUSALS_REPORT_SECONDS = 5.0


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
    """`limits` with the total lowered to fit under `open_files` (minus the reserve)."""
    reserve = limits.open_files_reserve
    if open_files is None or open_files - reserve >= limits.total:
        return limits
    total = max(open_files - reserve, 16)
    return replace(limits, total=total, per_client=min(limits.per_client, total))


class ConnectionGuard:
    """Counts open connections per client address; turns away those beyond the caps and reports them in summary."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.open: Counter[str] = Counter()
        self.total = 0
        self.refused = Tally(log, REFUSALS_REPORT_SECONDS, self._describe_refused)

    def admit(self, client: str) -> bool:
        """Count a new connection from `client`; False (and counted as refused) when it is beyond a cap."""
        if self.total >= self.limits.total or self.open[client] >= self.limits.per_client:
            self.refused.count(client)
            return False
        self.open[client] += 1
        self.total += 1
        return True

    def release(self, client: str) -> None:
        self.total -= 1
        self.open[client] -= 1
        if not self.open[client]:
            del self.open[client]

    def _describe_refused(self, refused: Counter[str]) -> str:
        busiest, most = refused.most_common(1)[0]
        return (
            f"connections: closed {refused.total()} beyond the caps in the last {REFUSALS_REPORT_SECONDS:.0f} s from "
            f"{len(refused)} clients (most from {busiest}: {most}); caps: {self.limits.per_client} per client, "
            f"{self.limits.total} in all; open now: {self.total}"
        )

    def close(self) -> None:
        self.refused.tell()


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
                async with asyncio.timeout(seconds):
                    await request.read()
            except TimeoutError:
                too_slow = web.HTTPRequestTimeout(text="the request body did not arrive in time")
                too_slow.force_close()
                raise too_slow from None
        return await handler(request)

    return read_body_in_time


async def listen(
    runner: web.AppRunner, host: str, port: int, guard: ConnectionGuard, *, reuse_port: bool = False
) -> asyncio.AbstractServer:
    """Listen on host:port, every connection going through `guard` to the runner's aiohttp server (`reuse_port`:
    SO_REUSEPORT, as aiohttp's TCPSite sets it, so several processes listen on one port)."""
    make_handler = runner.server
    assert make_handler is not None, "runner.setup() first"
    return await asyncio.get_running_loop().create_server(
        lambda: GuardedConnection(guard, make_handler), host, port, backlog=128, reuse_port=reuse_port or None
    )
