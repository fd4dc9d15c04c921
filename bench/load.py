"""What the benchmarks share: signed slash-command bodies, percentiles, a process's CPU time, and the
response-URL sink that records when each command's answer arrived."""

from __future__ import annotations

import asyncio
import os
import time
from urllib.parse import urlencode

from aiohttp import web

WORKING_PREFIX = ":hourglass"


def command_body(user_id: str, response_url: str, n: int, text: str = "list") -> bytes:
    """A `/lead` slash command as Slack posts it."""
    return urlencode(
        {
            "token": "x",
            "team_id": "T0TEST",
            "team_domain": "bench",
            "channel_id": "C0BENCH",
            "channel_name": "bench",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/lead",
            "text": text,
            "api_app_id": "A0BENCH",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"{n}.1.bench",
        }
    ).encode()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far; None where /proc cannot say."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Sinks:
    """The response_urls: when each command's answer (not the "Working on it…" notice) arrived, and its text."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.texts: dict[str, str] = {}
        self.changed = asyncio.Event()
        self._waiting: dict[str, asyncio.Future[None]] = {}

    async def wait_for(self, key: str, timeout: float) -> bool:
        """Wait until the answer to `key` has arrived (True), or `timeout` seconds (False)."""
        if key in self.arrived:
            return True
        waiter = self._waiting.setdefault(key, asyncio.get_running_loop().create_future())
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            return False
        finally:
            self._waiting.pop(key, None)
        return True

    def record(self, key: str, text: str, at: float) -> None:
        """An answer to `key` (the first one counts)."""
        self.arrived.setdefault(key, at)
        self.texts.setdefault(key, text)
        self.changed.set()
        waiter = self._waiting.get(key)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        text = str(body.get("text", ""))
        if not text.startswith(WORKING_PREFIX):
            self.record(request.match_info["key"], text, time.perf_counter())
        return web.json_response({"ok": True})

    async def start(self) -> tuple[web.AppRunner, str]:
        """Serve POST /r/{key} on a free loopback port; the runner (to clean up) and the base URL."""
        app = web.Application()
        app.router.add_post("/r/{key}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"
