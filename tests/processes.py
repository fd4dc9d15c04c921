"""Bot replicas as real `python -m bot` processes, for multi-process tests and the benchmarks.

A `Fleet` is what a deployment with several replicas looks like, all on 127.0.0.1:
- the Zoho and Slack emulators, running in the test's own event loop;
- a `LoadBalancer` (a small reverse proxy, also in the test's loop) whose URL is every replica's PUBLIC_URL,
  so a login link issued by one replica may be followed on another: the test says which replica gets the
  next requests (`lb.target`), or lets it go round robin;
- N `BotProcess`es (`python -m bot`, each on its own port, logging into its own file) on ONE database and
  one TOKEN_ENCRYPTION_KEY.

Databases: `sqlite_url(tmp)` for a file, `server_database("postgres")` for a dedicated, freshly created
PostgreSQL database (dropped afterwards), so multi-process tests never touch the tables other tests use on the
shared server database. Without TEST_POSTGRES_URL the test is skipped, or failed under REQUIRE_DB_SERVERS=1.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict

from playground.slack import SlackEmulator
from playground.slack.records import CommandResult, RecordedMessage
from playground.zoho import ZohoEmulator
from store import generate_key
from tests.oauth.http_browser import HttpBrowser
from tests.stack import (
    CLIENT_ID,
    CLIENT_SECRET,
    TEAM_ID,
    emulator_settings,
    free_port,
    start_emulators,
)

ROOT = Path(__file__).resolve().parents[1]
WORKING = "Working on it"
FIELDS_NOT_READ_AT_LOGIN = "Leads metadata not read at login"  # bot.leads.service: the read behind a login failed

# ----- databases -------------------------------------------------------------------------------------------


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'bot.db'}"


def _server_url_or_skip(name: str) -> str:
    variable = {"postgres": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}[name]
    url = os.environ.get(variable, "").strip()
    if not url:
        if os.environ.get("REQUIRE_DB_SERVERS") == "1":
            pytest.fail(f"REQUIRE_DB_SERVERS=1 but {variable} is not set")
        pytest.skip(f"{variable} is not set (a developer machine without the server; CI sets REQUIRE_DB_SERVERS=1)")
    return url


def _with_database(url: str, database: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{database}"))


def admin_connection(url: str) -> Any:
    """An autocommit psycopg2 connection to the server's maintenance database, as the URL's user."""
    import psycopg2

    conn = psycopg2.connect(_with_database(url, "postgres"), connect_timeout=10)
    conn.autocommit = True
    return conn


@contextlib.contextmanager
def server_database(name: str = "postgres") -> Iterator[str]:
    """A freshly created PostgreSQL database on TEST_POSTGRES_URL's server; yields its URL, drops it after.

    The URL's role needs CREATEDB (CI's `zohobot` has it). A missing or unreachable server skips the test,
    or fails it under REQUIRE_DB_SERVERS=1.
    """
    if name != "postgres":
        raise ValueError("only postgres databases are created per test")
    base = _server_url_or_skip(name)
    database = f"zohobot_t_{secrets.token_hex(6)}"
    try:
        admin = admin_connection(base)
    except Exception as exc:
        reason = f"TEST_POSTGRES_URL is not reachable: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        if os.environ.get("REQUIRE_DB_SERVERS") == "1":
            pytest.fail(f"REQUIRE_DB_SERVERS=1 but {reason}")
        pytest.skip(f"{reason} (CI sets REQUIRE_DB_SERVERS=1 and fails instead)")
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{database}"')  # a name made above, not user input
        yield _with_database(base, database)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            cur.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()


# ----- one bot process -------------------------------------------------------------------------------------


def bot_env(
    *,
    port: int,
    database_url: str,
    key: str,
    slack: SlackEmulator,
    zoho: ZohoEmulator,
    public_url: str,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of one replica: every setting given, nothing inherited but PATH."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        **emulator_settings(slack, zoho),
        "PUBLIC_URL": public_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "TOKEN_ENCRYPTION_KEY": key,
        "LOG_LEVEL": "INFO",
        **(extra or {}),
    }


@dataclass
class BotProcess:
    """One `python -m bot` replica; its output (stdout and stderr) goes to `log_path`."""

    name: str
    env: dict[str, str]
    cwd: Path
    proc: subprocess.Popen[bytes] | None = None
    open_files: int | None = None  # the soft RLIMIT_NOFILE it starts with (a typical 1024, say); None: inherited

    @property
    def port(self) -> int:
        return int(self.env["PORT"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    @property
    def log_path(self) -> Path:
        return self.cwd / f"{self.name}.log"

    def start(self) -> None:
        self.cwd.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"===== start {self.name}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_soft_open_files_limit(self.open_files),
            )

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def health(self) -> int:
        """The status of GET /healthz (0 when nothing answers)."""
        return await health(self.url)

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if not self.running:
                raise AssertionError(f"{self.name} exited with {self.proc and self.proc.returncode}:\n{self.logs()}")
            if await self.health() == 200:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not answer /healthz in {timeout} s:\n{self.logs()}")

    async def wait_exit(self, timeout: float = 30.0) -> int | None:
        """The exit code, or None if it is still running after `timeout` s."""
        assert self.proc is not None
        deadline = asyncio.get_running_loop().time() + timeout
        while self.proc.poll() is None and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return self.proc.poll()

    async def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait; SIGKILL if it did not stop in time. Returns the exit code."""
        if not self.running:
            return self.proc.returncode if self.proc else None
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = await self.wait_exit(timeout)
        if code is None:
            self.kill()
        return code

    def kill(self) -> None:
        """kill -9, as a crash or the OOM killer would."""
        if self.running:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def _soft_open_files_limit(limit: int | None) -> Any:
    """A preexec_fn lowering the child's soft limit on open files to `limit` (None: no preexec_fn)."""
    if limit is None:
        return None

    def lower() -> None:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))

    return lower


# ----- the load balancer -----------------------------------------------------------------------------------

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"}


class LoadBalancer:
    """A reverse proxy in front of the replicas: `target` gets every request; None = round robin."""

    def __init__(self) -> None:
        self.backends: list[BotProcess] = []
        self.target: BotProcess | None = None
        self.routed: list[tuple[str, str]] = []  # (replica name, path) of every request passed on
        self._cycle: Iterator[int] = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = aiohttp.ClientSession(auto_decompress=False, timeout=aiohttp.ClientTimeout(total=60))

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _choose(self) -> BotProcess:
        if self.target is not None:
            return self.target
        return self.backends[next(self._cycle) % len(self.backends)]

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        backend = self._choose()
        self.routed.append((backend.name, request.path))
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP)
        assert self._session is not None
        try:
            async with self._session.request(
                request.method,
                backend.url + request.path_qs,
                headers=headers,
                data=await request.read(),
                allow_redirects=False,
            ) as answer:
                body = await answer.read()
                out = CIMultiDict((k, v) for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP)
                return web.Response(status=answer.status, body=body, headers=out)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.Response(status=502, text=f"bad gateway: {backend.name}: {type(exc).__name__}")


async def final_answer(slack: SlackEmulator, result: CommandResult, timeout: float = 20.0) -> RecordedMessage:
    """A command's final answer through its response_url (not the "Working on it…" notice)."""
    assert result.status == 200, result
    return await slack.wait_for_message(
        lambda m: m.response_url == result.response_url and m.shown and WORKING not in m.text, timeout
    )


async def ask(stack: Any, user_id: str, text: str, timeout: float = 20.0, command: str = "/lead") -> str:
    """For an in-process `tests.stack.Stack`: send a command, return what its answer shows."""
    result = await stack.command(user_id, text, command=command)
    if isinstance(result.ack_body, dict) and result.ack_body.get("text"):
        return str(result.ack_body["text"]) + "\n" + json.dumps(result.ack_body.get("blocks") or [])
    return shown(await final_answer(stack.slack, result, timeout))


async def health(url: str) -> int:
    """The status of GET {url}/healthz (0 when nothing answers)."""
    try:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(f"{url}/healthz") as r:
            return r.status
    except (aiohttp.ClientError, TimeoutError):
        return 0


def shown(message: RecordedMessage) -> str:
    """What a message shows: its text and its blocks (as JSON, enough for `in` checks)."""
    return message.text + "\n" + json.dumps(message.blocks)


# ----- the fleet -------------------------------------------------------------------------------------------


@dataclass
class Fleet:
    """Emulators, a load balancer and bot replicas on one database (see the module docstring)."""

    zoho: ZohoEmulator
    slack: SlackEmulator
    lb: LoadBalancer
    database_url: str
    key: str
    workdir: Path
    replicas: list[BotProcess] = field(default_factory=list)

    def replica(self, name: str, extra_env: dict[str, str] | None = None, open_files: int | None = None) -> BotProcess:
        """A new (not yet started) replica on this fleet's database, behind the load balancer."""
        port = free_port()
        # The fleet's own temp directory (the machine's field-metadata folder among others), shared by its replicas
        # and their restarts: files another test's emulator wrote on a reused port are not this fleet's orgs'.
        temp = self.workdir / "tmp"
        temp.mkdir(mode=0o700, exist_ok=True)
        env = bot_env(
            port=port,
            database_url=self.database_url,
            key=self.key,
            slack=self.slack,
            zoho=self.zoho,
            public_url=self.lb.url,
            extra={"TMPDIR": str(temp), **(extra_env or {})},
        )
        bot = BotProcess(name=name, env=env, cwd=self.workdir / name, open_files=open_files)
        self.replicas.append(bot)
        self.lb.backends.append(bot)
        return bot

    async def command(self, user_id: str, text: str, via: BotProcess | None = None, command: str = "/lead"):
        """`user_id` types `command text`, delivered to replica `via` (default: through the load balancer)."""
        # Set and read in the same step of this task: concurrent commands to other replicas don't interfere.
        self.slack.bot_events_url = via.events_url if via else f"{self.lb.url}/slack/events"
        return await self.slack.send_command(user_id, command, text)

    async def answer(self, result: CommandResult, timeout: float = 20.0) -> RecordedMessage:
        """The command's final answer through its response_url (not the "Working on it…" notice)."""
        return await final_answer(self.slack, result, timeout)

    async def ask(self, user_id: str, text: str, via: BotProcess | None = None, timeout: float = 20.0) -> str:
        """Send a command; what its answer shows (text and blocks as JSON; the immediate reply if there was one)."""
        result = await self.command(user_id, text, via)
        if isinstance(result.ack_body, dict) and result.ack_body.get("text"):
            return str(result.ack_body["text"]) + "\n" + json.dumps(result.ack_body.get("blocks") or [])
        return shown(await self.answer(result, timeout))

    async def login_link(self, user_id: str, via: BotProcess | None = None) -> str:
        from tests.stack import button_url

        before = len(self.slack.dms(user_id))
        await self.command(user_id, "login", via)
        deadline = asyncio.get_running_loop().time() + 20
        while len(self.slack.dms(user_id)) <= before:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no login link DM for {user_id}")
            await asyncio.sleep(0.02)
        return button_url(self.slack.dms(user_id)[-1].blocks)

    async def follow(self, link: str, on: BotProcess | None = None) -> tuple[int, str]:
        """A browser follows `link` (through the load balancer, to replica `on`); the final page."""
        self.lb.target = on
        try:
            async with HttpBrowser() as browser:
                page = await browser.log_in(link)
                return page.status, page.html
        finally:
            self.lb.target = None

    async def connect(self, user_id: str, email: str, via: BotProcess | None = None) -> None:
        """The whole login: link from `via`, followed through the load balancer; it ends when the replica's read of
        the org's fields behind the login (bot/app.py's `leads.warm`) has ended, so a test's next Zoho calls, and
        the commands a stop waits for, are its own (in-process, `Stack.connect` waits for the bot's tasks)."""
        self.zoho.auto_approve_as = email
        read = f"|{self.zoho.user(email).org_id} read from Zoho"  # bot.leads.org_fields, after the fetch and store
        reads_before, failures_before = self._log_count(read), self._log_count(FIELDS_NOT_READ_AT_LOGIN)
        status, html = await self.follow(await self.login_link(user_id, via))
        assert status == 200, html
        if reads_before:  # the org's fields are in the database already: the read behind this login asks Zoho nothing
            return
        deadline = asyncio.get_running_loop().time() + 60
        while self._log_count(read) == reads_before and self._log_count(FIELDS_NOT_READ_AT_LOGIN) == failures_before:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the read of {email}'s org fields after the login did not end in 60 s")
            await asyncio.sleep(0.05)

    def _log_count(self, text: str) -> int:
        """How often `text` is in the replicas' logs (a replica started again appends to its log)."""
        return sum(bot.logs().count(text) for bot in self.replicas)

    async def stop(self) -> None:
        await asyncio.gather(*(bot.stop() for bot in self.replicas))


@contextlib.asynccontextmanager
async def running_fleet(
    workdir: Path,
    database_url: str,
    replicas: int = 2,
    extra_env: dict[str, str] | None = None,
    open_files: int | None = None,
) -> AsyncIterator[Fleet]:
    """Emulators, a load balancer and `replicas` started bot processes on `database_url`; all stopped after.
    `open_files`: each replica's soft limit on open files at start (see `BotProcess.open_files`)."""
    zoho, slack = await start_emulators()
    lb = LoadBalancer()
    await lb.start()
    fleet = Fleet(zoho=zoho, slack=slack, lb=lb, database_url=database_url, key=generate_key(), workdir=workdir)
    zoho.register_client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=f"{lb.url}/zoho/callback")
    try:
        bots = [fleet.replica(chr(ord("a") + i), extra_env, open_files) for i in range(replicas)]
        # Start one first: it creates the schema; the others then find it. (None: the test starts its own.)
        if bots:
            bots[0].start()
            await bots[0].wait_ready()
        for bot in bots[1:]:
            bot.start()
        await asyncio.gather(*(bot.wait_ready() for bot in bots[1:]))
        slack.bot_events_url = f"{lb.url}/slack/events"
        yield fleet
    finally:
        await fleet.stop()
        await lb.stop()
        await slack.stop()
        await zoho.stop()


# ----- a refresh burst in another process --------------------------------------------------------------------


def start_refresh_burst(database_url: str, key: str | None, connection_id: str, calls: int, go_file: Path):
    """A process that opens its own store and TokenRefresher on `database_url`, prints "ready", waits for
    `go_file` to exist, then makes `calls` concurrent `ensure_fresh` calls for the connection and prints one
    JSON line: {"tokens": [distinct tokens], "refreshes": n, "errors": [...], "seconds": [per call]}."""
    code = "import sys, tests.processes as p; p._refresh_burst_main(*sys.argv[1:])"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    args = [database_url, key or "", connection_id, str(calls), str(go_file)]
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _refresh_burst_main(database_url: str, key: str, connection_id: str, calls: str, go_file: str) -> None:
    import time
    from concurrent.futures import ThreadPoolExecutor

    from oauth.accounts_client import ZohoAccountsClient
    from oauth.refresh import TokenRefresher
    from store import PeeweeTokenStore

    async def burst() -> dict[str, Any]:
        store = PeeweeTokenStore(database_url, key or None)
        accounts = ZohoAccountsClient(CLIENT_ID, CLIENT_SECRET, timeout=10)
        refresher = TokenRefresher(store, accounts)
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=32))
        connection = next(c for c in store.connections.list(TEAM_ID) if c.id == connection_id)
        print("ready", flush=True)
        while not os.path.exists(go_file):
            await asyncio.sleep(0.005)

        async def one() -> tuple[int | None, float]:
            started = time.perf_counter()
            expiry = await refresher.ensure_fresh(connection)  # the expiry of the token it vouches for
            return expiry, time.perf_counter() - started

        results = await asyncio.gather(*(one() for _ in range(int(calls))), return_exceptions=True)
        await accounts.close()
        store.close()
        ok = [r for r in results if not isinstance(r, BaseException)]
        return {
            "expiries": sorted({expiry for expiry, _ in ok}),
            "refreshes": refresher.refreshes,
            "errors": [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)],
            "seconds": [s for _, s in ok],
        }

    print(json.dumps(asyncio.run(burst())), flush=True)
