"""`python -m bot --local`: the real server wired to the built-in Slack console and Zoho emulator.

Everything runs in this process on loopback: the Zoho emulator (accounts + CRM, with a real consent page in the
browser), the Slack emulator (Web API and response URLs) and the bot itself, on a throw-away SQLite database.
The terminal becomes a Slack client: type `/lead help` as one of the workspace's users.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import aiohttp

from bot.app import build_application
from bot.logs import configure_logging
from bot.process_folders import LOCAL_PLAYGROUND, new_process_folder
from bot.server import serve
from bot.settings import Settings
from playground.slack import SlackEmulator
from playground.slack.console import run_console
from playground.slack.manifest import unfurl_domains
from playground.zoho import ZohoEmulator
from playground.zoho.fields import CUSTOM_LEADS

log = logging.getLogger(__name__)

LOCAL_CLIENT_ID = "1000.LOCALCLIENT"
LOCAL_CLIENT_SECRET = "local-client-secret"
LOCAL_SIGNING_SECRET = "local-signing-secret"
LOCAL_BOT_TOKEN = "xoxb-fake-local-playground"  # only the in-process emulator takes it

# (Slack id, name, real name, e-mail, workspace admin), and each person's Zoho org and data centre.
PEOPLE = (
    ("U0LOCALANN", "ann", "Ann Smith", "ann@acme.test", False, "Acme Ltd", "us"),
    ("U0LOCALBOB", "bob", "Bob Jones", "bob@globex.test", False, "Globex GmbH", "eu"),
    ("U0LOCALADA", "ada", "Ada Admin", "ada@acme.test", True, "Acme Ltd", "us"),
)


def _link_follower(zoho: ZohoEmulator):
    """`follow N` in the console: open a login link over HTTP, as a browser would, the pretend Zoho approving
    it as the person at the console (for machines with no browser)."""
    emails = {user_id: email for user_id, _, _, email, _, _, _ in PEOPLE}

    async def follow(url: str, user_id: str) -> str:
        previous, zoho.auto_approve_as = zoho.auto_approve_as, emails.get(user_id)
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
                async with browser.get(url) as page:
                    html = await page.text()
                state = _continue_state(html)
                if state is not None:  # the page naming whose link it is: the person at the console continues
                    async with browser.post(urljoin(url, "/zoho/login"), data={"state": state}) as page:
                        html = await page.text()
        except aiohttp.ClientError as exc:
            return f"could not follow the link: {type(exc).__name__}"
        finally:
            zoho.auto_approve_as = previous
        return f"(followed in the console; the pretend Zoho approved as {emails.get(user_id)})\n{_page_text(html)}"

    return follow


def _continue_state(html: str) -> str | None:
    found = re.search(
        r'<form method="post" action="/zoho/login"><input type="hidden" name="state" value="([^"]*)"', html
    )
    return unescape(found.group(1)) if found else None


class _TextOf(HTMLParser):
    """Collects a page's text, one line per block element (headings, paragraphs, list items)."""

    BLOCKS = frozenset({"h1", "h2", "h3", "p", "li", "div", "main", "br", "form", "ul", "ol", "section"})

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = [""]
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in ("style", "script", "title")
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script", "title")
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.lines[-1] += data


def _page_text(html: str) -> str:
    """The readable text of a small HTML page, one line per block."""
    parser = _TextOf()
    parser.feed(html)
    return "\n".join(" ".join(line.split()) for line in parser.lines if line.strip())


def _banner(settings: Settings, zoho_url: str) -> str:
    users = ", ".join(f"{name}{' (admin)' if admin else ''}" for _, name, _, _, admin, _, _ in PEOPLE)
    return (
        "\nzoho-slack-bot, local mode: a pretend Slack workspace in this terminal, a pretend Zoho at "
        f"{zoho_url}\n"
        f"bot server: {settings.public_url}   people: {users}\n"
        "Type /lead help to begin; `as bob` switches person, `help` lists console commands, `quit` stops.\n"
        f"{_custom_fields_line()}\n"
    )


def _custom_fields_line() -> str:
    """The pretend org's custom Lead fields, and a command that sets two of them."""
    fields = ", ".join(f"{spec.label} ({spec.data_type})" for spec in CUSTOM_LEADS)
    return f'custom Lead fields: {fields}; try /lead create last=Doe "customer tier"=gold "follow-up date"=tomorrow'


async def claim_port(host: str, port: int) -> int:
    """The port the server will listen on: `port`, or a free one when it is 0. Raises OSError (EADDRINUSE) when
    it is taken, before anything else starts, so a busy port costs one line and nothing to clean up."""
    probe = await asyncio.get_running_loop().create_server(asyncio.Protocol, host, port)
    bound = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    return bound


def local_public_url(port: int) -> str:
    """Where the browser reaches this process. PUBLIC_URL from the environment or a `.env` is not used: in local
    mode the login's callback can only land on this process, on loopback, at the port it listens on; a
    deployment's PUBLIC_URL would send the browser to that deployment instead."""
    return f"http://localhost:{port}"


async def run_local(settings: Settings) -> int:
    """Run the local playground until the person types `quit` (or stdin ends). Returns the exit code."""
    port = await claim_port(settings.host, settings.port)
    zoho = ZohoEmulator()
    await zoho.start(host="127.0.0.1", port=0)
    slack = SlackEmulator(
        signing_secret=LOCAL_SIGNING_SECRET,
        bot_token=LOCAL_BOT_TOKEN,
        team_id="T0LOCAL",
        team_name="Local Workspace",
        escaped_commands=("/lead", "/zoho-revoke"),  # as app.yaml's should_escape: true
        unfurl_domains=unfurl_domains(),
    )
    for user_id, name, real_name, email, admin, org, location in PEOPLE:
        slack.add_user(user_id, name=name, real_name=real_name, email=email, is_admin=admin)
        zoho.add_user(email=email, full_name=real_name, org_name=org, location=location)
    await slack.start(host="127.0.0.1", port=0)

    # This session's database and log; the database goes when it ends, the log stays until the next session
    # starts (which removes the folders of sessions no longer running). The terminal is the Slack client: until
    # the log file exists, only warnings reach it (not "removed 1 folder…").
    configure_logging("WARNING", log_format=settings.log_format)
    data_dir = Path(await asyncio.to_thread(new_process_folder, LOCAL_PLAYGROUND))
    log_path = data_dir / "bot.log"
    # The terminal is the Slack client here; the server's log goes to a file the banner names.
    log_file = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - open for the whole session
    configure_logging(settings.log_level, stream=log_file, log_format=settings.log_format)
    local = settings.with_overrides(
        port=port,
        public_url=local_public_url(port),
        slack_bot_token=LOCAL_BOT_TOKEN,
        slack_signing_secret=LOCAL_SIGNING_SECRET,
        slack_app_token=None,
        slack_api_url=slack.api_url,
        zoho_client_id=LOCAL_CLIENT_ID,
        zoho_client_secret=LOCAL_CLIENT_SECRET,
        zoho_accounts_url=zoho.url,
        zoho_api_url=zoho.url,
        database_url=f"sqlite:///{data_dir / 'local.db'}",
        token_encryption_key=None,
    )
    zoho.register_client(client_id=LOCAL_CLIENT_ID, client_secret=LOCAL_CLIENT_SECRET, redirect_uri=local.redirect_uri)
    app = await build_application(local)
    stop = asyncio.Event()
    ready = asyncio.Event()
    server = asyncio.get_running_loop().create_task(
        serve(app, local.host, local.port, stop=stop, on_ready=lambda _port: ready.set())
    )
    try:
        done, _ = await asyncio.wait({server, asyncio.ensure_future(ready.wait())}, return_when=asyncio.FIRST_COMPLETED)
        if server in done:
            server.result()  # raises the start-up error (port in use, …)
        slack.bot_events_url = f"http://127.0.0.1:{local.port}/slack/events"
        print(_banner(local, zoho.url) + f"server log: {log_path}\n", flush=True)
        await run_console(slack, user_id=PEOPLE[0][0], follow_link=_link_follower(zoho))
    finally:
        stop.set()
        await asyncio.gather(server, return_exceptions=True)
        await slack.stop()
        await zoho.stop()
        # Tasks the server could not stop (it failed to start) may still log: not into a closed file.
        logging.getLogger().handlers.clear()
        log_file.close()
        for leftover in data_dir.glob("local.db*"):  # the playground's database and its key: nothing to keep
            leftover.unlink(missing_ok=True)
    print(f"bye (the server log stays at {log_path} until the next run)", file=sys.stderr)
    return 0
