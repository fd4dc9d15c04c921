"""A browser without a screen for login tests: one cookie jar, redirects followed by hand so a test can stop
between "opened the login link", "Zoho sent the browser back" and "the callback answered", and tamper in between.

Also `Listener`: a real TCP listener on 127.0.0.1 that records every connection made to it, to prove that a
forged accounts server is never contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

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
        """Open the personal login link and press Continue; returns the Zoho authorize URL the bot redirected to."""
        page = await self.get(link)
        assert page.status == 200 and "Continue" in page.html, page.html
        return await self.press_continue(link, page.html)

    async def press_continue(self, link: str, html: str) -> str:
        """Submit the Continue form of the page `html` (opened at `link`); returns where the bot redirected to."""
        action, fields = form_of(html)
        async with self.session.post(
            urljoin(link, action), data=fields, headers={"Origin": origin_of(link)}, allow_redirects=False
        ) as response:
            assert response.status in (302, 303), await response.text()
            return response.headers["Location"]

    async def log_in(self, link: str) -> Page:
        """The whole login as a person does it: open the link, press Continue, let Zoho send the browser back.

        A link the bot refuses at once ends on that refusal page."""
        page = await self.get(link)
        if page.status != 200 or 'name="state"' not in page.html:
            return page
        return await self.get(await self.press_continue(link, page.html))

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


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def form_of(html: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the (one) form of a page."""
    found = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html, re.S)
    assert found, f"no form in {html}"
    fields = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', found.group(2))
    return unescape(found.group(1)), {name: unescape(value) for name, value in fields}


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
