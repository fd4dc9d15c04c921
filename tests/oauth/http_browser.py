"""A browser without a screen for login tests: one cookie jar, redirects followed by hand so a test can stop
between "opened the login link", "Zoho sent the browser back" and "the callback answered", and tamper in between.

Also `Listener`: a real TCP listener on 127.0.0.1 that records every connection made to it, to prove that a
forged accounts server is never contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp


@dataclass(frozen=True)
class Page:
    """What the browser shows: HTTP status and HTML."""

    status: int
    html: str


class HttpBrowser:
    """One person's browser (cookies kept per browser, as a real one does)."""

    def __init__(self) -> None:
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def close(self) -> None:
        await self.session.close()

    async def __aenter__(self) -> HttpBrowser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def cookies(self) -> dict[str, str]:
        return {c.key: c.value for c in self.session.cookie_jar}

    async def get(self, url: str) -> Page:
        """Open `url`, following redirects."""
        async with self.session.get(url) as response:
            return Page(response.status, await response.text())

    async def open_login_link(self, link: str) -> str:
        """Open the personal login link; returns the Zoho authorize URL the bot redirected to."""
        async with self.session.get(link, allow_redirects=False) as response:
            assert response.status == 302, await response.text()
            return response.headers["Location"]

    async def approve_at_zoho(self, authorize_url: str) -> dict[str, str]:
        """Let Zoho (the emulator, with `auto_approve_as` set) answer; returns the query it sends back with."""
        async with self.session.get(authorize_url, allow_redirects=False) as response:
            assert response.status == 302, await response.text()
            return query_of(response.headers["Location"])

    async def start_login(self, link: str) -> dict[str, str]:
        """Open the link and approve at Zoho: the callback query, not yet delivered to the bot."""
        return await self.approve_at_zoho(await self.open_login_link(link))

    async def callback(self, bot_url: str, params: dict[str, str]) -> Page:
        """Deliver Zoho's redirect to the bot's callback with exactly `params`."""
        return await self.get(f"{bot_url}/zoho/callback?{urlencode(params)}")


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


class Listener:
    """A plain asyncio TCP server on 127.0.0.1 (a free port) that records connections and answers nothing."""

    def __init__(self) -> None:
        self.connections = 0
        self.received = b""
        self._server: asyncio.AbstractServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> Listener:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(TimeoutError):
            self.received += await asyncio.wait_for(reader.read(4096), 1)
        writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
