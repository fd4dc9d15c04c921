"""Logging in at the Zoho emulator the way a browser and our callback would: consent form, then code exchange."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import aiohttp

from tests.stack import free_port

CLIENT_ID = "1000.LOCAL"
CLIENT_SECRET = "local-secret"
# A port nothing listens on: the browser test stands in for the bot's callback there, and a bot running on this
# machine (`dev.py local` on its default port 3000, say) would answer it instead.
REDIRECT_URI = f"http://127.0.0.1:{free_port()}/zoho/callback"
SCOPES = (
    "ZohoCRM.modules.leads.ALL,ZohoCRM.settings.fields.READ,ZohoCRM.settings.layouts.READ,"
    "ZohoCRM.settings.modules.READ,"
    "ZohoCRM.users.READ,ZohoCRM.org.READ"
)


class ConsentForm(HTMLParser):
    """The inputs of the consent page's form, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.action: str | None = None
        self.method: str | None = None
        self.scopes: list[str] = []
        self._in_scope = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.action, self.method = a.get("action"), a.get("method")
        if tag == "input" and a.get("name"):
            self.fields[str(a["name"])] = a.get("value") or ""
        self._in_scope = tag == "li"

    def handle_data(self, data: str) -> None:
        if self._in_scope and data.strip():
            self.scopes.append(data.strip())


def authorize_params(**overrides: str) -> dict[str, str]:
    """The query of a Login-with-Zoho authorize request (overridable)."""
    params = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPES,
        "access_type": "offline",
        "prompt": "consent",
        "state": "s123",
    }
    params.update(overrides)
    return params


async def consent(
    http: aiohttp.ClientSession, base: str, email: str, action: str = "accept", **overrides: str
) -> dict[str, str]:
    """Open the consent page, submit it as `email` with Accept/Deny; returns the redirect's query parameters."""
    async with http.get(f"{base}/oauth/v2/auth", params=authorize_params(**overrides)) as page:
        assert page.status == 200, await page.text()
        form = ConsentForm()
        form.feed(await page.text())
    assert form.method == "post"
    fields = {**form.fields, "email": email, "action": action}
    async with http.post(f"{base}{form.action}", data=fields, allow_redirects=False) as answer:
        assert answer.status == 302, await answer.text()
        location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def grant_code(http: aiohttp.ClientSession, base: str, email: str, **overrides: str) -> str:
    """A fresh grant code for `email`, obtained through the consent page."""
    return (await consent(http, base, email, **overrides))["code"]


async def exchange(
    http: aiohttp.ClientSession,
    base: str,
    code: str,
    client_secret: str = CLIENT_SECRET,
    redirect_uri: str = REDIRECT_URI,
) -> dict[str, object]:
    """POST the code to the token endpoint; returns the JSON answer (asserting Zoho's HTTP 200)."""
    form = {
        "client_id": CLIENT_ID,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
        "grant_type": "authorization_code",
        "code": code,
    }
    async with http.post(f"{base}/oauth/v2/token", data=form) as answer:
        assert answer.status == 200
        return await answer.json(content_type=None)


async def refresh(http: aiohttp.ClientSession, base: str, refresh_token: str) -> dict[str, object]:
    """POST a refresh grant; returns the JSON answer (HTTP 200 whatever the outcome)."""
    form = {
        "refresh_token": refresh_token,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "refresh_token",
    }
    async with http.post(f"{base}/oauth/v2/token", data=form) as answer:
        assert answer.status == 200
        return await answer.json(content_type=None)


async def login(http: aiohttp.ClientSession, base: str, email: str, **overrides: str) -> dict[str, object]:
    """Consent + code exchange: the token answer for `email`."""
    return await exchange(http, base, await grant_code(http, base, email, **overrides))
