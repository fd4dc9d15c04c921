"""A real `python -m bot` stays up when one client holds a thousand idle connections open, and drops a client that
sends a request's headers too slowly (slowloris), instead of running out of file descriptors.

The bot starts with a soft limit of 1,024 open files, as on many machines; the flood comes from 127.0.0.2 (also
loopback on Linux) so that the emulated Slack, on 127.0.0.1, is another client.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import time
from pathlib import Path

import pytest

from bot.limits import ConnectionLimits
from tests.processes import running_fleet, sqlite_url
from tests.stack import ANN

pytestmark = pytest.mark.slow
HEADER_SECONDS = ConnectionLimits().header_seconds

FLOOD = 1_200
FLOOD_FROM = "127.0.0.2"


def _room_for_the_flood() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < FLOOD + 300:
        pytest.skip(f"this test process may open only {hard} files")
    if soft != resource.RLIM_INFINITY and soft < FLOOD + 300:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        with socket.socket() as probe:
            probe.bind((FLOOD_FROM, 0))
    except OSError:
        pytest.skip(f"{FLOOD_FROM} is not a loopback address here")


async def _open_idle(port: int, count: int, seconds: float) -> list[socket.socket]:
    """Up to `count` connected, silent sockets from FLOOD_FROM, within `seconds` (a full backlog stops it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    sockets: list[socket.socket] = []
    for _ in range(count):
        sock = socket.socket()
        sockets.append(sock)
        sock.setblocking(False)
        sock.bind((FLOOD_FROM, 0))
        left = deadline - loop.time()
        try:
            await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)), max(left, 0.01))
        except (TimeoutError, OSError):
            break
    return sockets


async def test_a_thousand_idle_connections_from_one_client_leave_the_bot_answering(tmp_path: Path) -> None:
    _room_for_the_flood()
    async with running_fleet(tmp_path, sqlite_url(tmp_path), replicas=1, open_files=1024) as fleet:
        (bot,) = fleet.replicas
        sockets = await _open_idle(bot.port, FLOOD, seconds=8)
        try:
            assert await bot.health() == 200
            answer = await fleet.ask(ANN, "help", via=bot, timeout=10)
            assert "/lead login" in answer
            assert bot.running
            await _wait_for(lambda: "beyond the caps" in bot.logs(), seconds=8)
        finally:
            for sock in sockets:
                sock.close()
        logs = bot.logs()
        assert "Too many open files" not in logs and "out of system resource" not in logs
        # One summary, not a line per connection.
        assert 1 <= logs.count("beyond the caps") <= 2, logs[-3000:]
        assert FLOOD_FROM in logs


async def test_a_client_that_drips_its_headers_is_disconnected_after_the_header_time(tmp_path: Path) -> None:
    async with running_fleet(tmp_path, sqlite_url(tmp_path), replicas=1) as fleet:
        (bot,) = fleet.replicas
        reader, writer = await asyncio.open_connection("127.0.0.1", bot.port)
        started = time.monotonic()
        drip = asyncio.create_task(_drip(writer, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100))
        try:
            closed = await asyncio.wait_for(reader.read(), HEADER_SECONDS + 4)
        finally:
            drip.cancel()
            with contextlib.suppress(BaseException):
                await drip
            writer.close()
        elapsed = time.monotonic() - started
        assert closed == b""  # no answer: the connection was closed
        assert HEADER_SECONDS - 1 <= elapsed <= HEADER_SECONDS + 3
        assert await bot.health() == 200


async def _drip(writer: asyncio.StreamWriter, data: bytes) -> None:
    """A byte every half second: always sending, never finishing the headers."""
    for byte in data:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.5)


async def _wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)
