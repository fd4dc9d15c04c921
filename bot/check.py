"""`python -m bot --check`: everything an operator must fix before starting, found in one run, changing nothing.

It reads the settings (every problem, not only the first), looks at the database without writing to it or
creating any file, asks Slack whether SLACK_BOT_TOKEN is good (auth.test) and whether the Zoho accounts server
answers. Problems make the exit code 1; warnings (the network unreachable, a risky but working setting) do not.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import peewee
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.process import host_problem, port_taken
from bot.settings import Settings, SettingsError, load_settings, mask_database_url
from oauth.datacentres import DEFAULT_ACCOUNTS_SERVER
from store import StoreError, generate_key
from store.crypto import TokenCipher, parse_keys
from store.database import Dialect, StoreDatabase, dialect_of, missing_driver, sqlite_folder_to_create, sqlite_path
from store.errors import StoreConfigError, first_line
from store.keys import key_file_for, key_fit, missing_key_file
from store.schema import LATEST_VERSION

NETWORK_TIMEOUT_S = 5
# slack_sdk logs a failed request at ERROR; the check words that itself, as a warning.
logging.getLogger("bot.check.slack_sdk").setLevel(logging.CRITICAL)
GENERATE_KEY = 'python3 -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'

# A valid stand-in for each variable that can be wrong, so the settings after a bad one are read too ("" = unset).
STAND_INS = {
    "SLACK_APP_TOKEN": "",
    "SLACK_BOT_TOKEN": "xoxb-stand-in",
    "SLACK_SIGNING_SECRET": "stand-in",
    "ZOHO_CLIENT_ID": "stand-in",
    "ZOHO_CLIENT_SECRET": "stand-in",
    "PORT": "3000",
    "DATABASE_URL": "sqlite:///:memory:",
    "TOKEN_ENCRYPTION_KEY": generate_key(),
    "ZOHO_ADMIN_USER_IDS": "",
    "LOG_LEVEL": "INFO",
    "WORKERS": "1",
    "LOG_FORMAT": "text",
    "METRICS_PORT": "",
    "ZOHO_REQUIRE_EMAIL_MATCH": "off",
    "SLACK_API_URL": "",
    "ZOHO_ORG_CONCURRENCY": "10",
    "PUBLIC_URL": "",
    "ZOHO_ACCOUNTS_URL": "",
    "ZOHO_API_URL": "",
}


@dataclass
class Report:
    """What the check found, by subject: problems (exit 1), warnings and plain findings."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def line(self, out: TextIO, subject: str, text: str) -> None:
        print(f"{subject}: {text}", file=out)

    def fail(self, out: TextIO, subject: str, text: str) -> None:
        self.problems.append(subject)
        print(f"{subject}: FAILED: {text}", file=out)

    def warn(self, out: TextIO, subject: str, text: str) -> None:
        self.warnings.append(subject)
        print(f"{subject}: WARNING: {text}", file=out)


def run_check(environ: Mapping[str, str], out: TextIO = sys.stdout, flags: Mapping[str, str] | None = None) -> int:
    """Print what was found; 0 when the bot can start as configured, 1 otherwise. `flags`: the variables given
    on the command line instead (WORKERS → --workers), named so in what is wrong."""
    report = Report()
    settings, problems = read_settings(environ, flags or {})
    problems += [p for p in database_url_problems(settings.database_url) if not _named(problems, "DATABASE_URL")]
    problems += key_problems(settings.token_encryption_key) if not _named(problems, "TOKEN_ENCRYPTION_KEY") else []
    if problems:
        report.fail(out, "settings", f"{len(problems)} problem(s)")
        report.problems[-1:] = problems
        for problem in problems:
            print(f"  - {problem}", file=out)
    else:
        report.line(out, "settings", f"ok ({'Socket Mode' if settings.socket_mode else 'HTTP (Events API)'})")
        width = max(len(name) for name, _ in settings.describe())
        for name, value in settings.describe():
            print(f"  {name:<{width}}  {value}", file=out)
    if _named(problems, "DATABASE_URL", "TOKEN_ENCRYPTION_KEY"):
        report.line(out, "database", "not checked (fix DATABASE_URL / TOKEN_ENCRYPTION_KEY first)")
    else:
        check_database(settings, report, out)
    if not _named(problems, "SLACK_BOT_TOKEN", "SLACK_API_URL"):
        check_slack(settings, report, out)
    if not _named(problems, "ZOHO_ACCOUNTS_URL"):
        check_zoho(settings, report, out)
    unusable_host = host_problem(settings.host)
    if not _named(problems, "HOST", "PORT", "METRICS_PORT"):
        check_ports(settings, report, out, unusable_host)
    elif not _named(problems, "HOST") and unusable_host is not None:
        report.fail(out, "ports", unusable_host)  # whatever the ports, nothing can listen there
    elif not _named(problems, "HOST"):
        report.line(out, "ports", "not checked (fix PORT / METRICS_PORT first)")
    check_exposure(settings, report, out, unusable_host)
    print(
        f"{'FAILED' if report.problems else 'ok'}: {len(report.problems)} problem(s), "
        f"{len(report.warnings)} warning(s)",
        file=out,
    )
    return 1 if report.problems else 0


def _named(problems: list[str], *variables: str) -> bool:
    return any(problem.split(" ", 1)[0] in variables for problem in problems)


def read_settings(environ: Mapping[str, str], flags: Mapping[str, str] | None = None) -> tuple[Settings, list[str]]:
    """The settings, with a stand-in for each bad variable, and one line per bad variable (by its flag, when it
    was given as one)."""
    problems: list[str] = []
    replaced = dict(environ)
    while True:
        try:
            return load_settings(replaced), problems
        except SettingsError as exc:
            if exc.variable not in STAND_INS or replaced.get(exc.variable) == STAND_INS[exc.variable]:
                raise
            problems.append(f"{(flags or {}).get(exc.variable, exc.variable)} {exc.problem}")
            replaced[exc.variable] = STAND_INS[exc.variable]


def database_url_problems(url: str) -> list[str]:
    """What is wrong with a DATABASE_URL the settings accepted: the traps that would still start the bot."""
    try:
        dialect = dialect_of(url)
    except StoreError as exc:
        return [str(exc)]
    missing = missing_driver(dialect)
    return [] if missing is None else [missing]


def key_problems(key: str | None) -> list[str]:
    if key is None:
        return []
    try:
        parse_keys(key)
    except StoreError as exc:
        return [str(exc)]
    return []


def check_database(settings: Settings, report: Report, out: TextIO) -> None:
    url = settings.database_url
    dialect = dialect_of(url)
    path = sqlite_path(url) if dialect is Dialect.SQLITE else None
    if dialect is Dialect.SQLITE and path is None:
        report.warn(out, "database", "in memory: every connection is lost when the process stops")
        return
    if path is not None and not path.exists():
        _new_sqlite_file(path.resolve(), settings.token_encryption_key, report, out)
        return
    keys = _keys(settings.token_encryption_key, path, report, out)
    if keys is None:
        return
    _existing_database(url, TokenCipher(keys), report, out)
    if path is not None:
        files = [path.resolve()] + ([key_file_for(path.resolve())] if settings.token_encryption_key is None else [])
        for file in files:
            if file.is_file() and file.stat().st_mode & 0o077:
                subject = "key" if file.name.endswith(".key") else "database"
                report.warn(out, subject, f"{file} can be read by other users: chmod 600 {file}")


def _new_sqlite_file(path: Path, key: str | None, report: Report, out: TextIO) -> None:
    """Say what the first start will create, creating nothing."""
    try:
        missing = sqlite_folder_to_create(path)
    except StoreConfigError as exc:
        report.fail(out, "database", str(exc))
        return
    folder = path.parent if missing is None else missing.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        report.fail(out, "database", f"{path} does not exist and cannot be created: {folder} is not writable")
        return
    report.line(out, "database", f"ok: {path} does not exist yet; it will be created at start")
    if key is None:
        report.line(out, "key", f"ok: a key file {key_file_for(path)} will be created beside it at start")


def _keys(key: str | None, path: Path | None, report: Report, out: TextIO) -> list[bytes] | None:
    if key is not None:
        return parse_keys(key)
    assert path is not None  # servers without a key were refused with the settings
    key_file = key_file_for(path.resolve())
    if not key_file.exists():
        report.fail(out, "key", missing_key_file(key_file, path.resolve()))
        return None
    try:
        return parse_keys(key_file.read_text())
    except (StoreError, OSError) as exc:
        report.fail(out, "key", f"{key_file} cannot be used: {exc}")
        return None


def _existing_database(url: str, cipher: TokenCipher, report: Report, out: TextIO) -> None:
    """Connect and read the schema version and the key check; write nothing."""
    try:
        database = StoreDatabase(url)
    except StoreError as exc:
        report.fail(out, "database", str(exc))
        return
    try:
        version, fit = database.run(lambda: _read_state(database, cipher))
    except (peewee.DatabaseError, peewee.InterfaceError, peewee.ImproperlyConfigured) as exc:
        said = first_line(exc) or type(exc).__name__
        report.fail(out, "database", f"cannot connect to {mask_database_url(url)}: {said}")
        return
    finally:
        database.close()
    _tell_state(database.describe(), version, fit, report, out, extra_keys=cipher.key_count - 1)


def _read_state(database: StoreDatabase, cipher: TokenCipher) -> tuple[int, str]:
    models = database.models
    if not database.db.table_exists(models.schema_version._meta.table_name):
        return 0, "new"
    versions = [row.version for row in models.schema_version.select()]
    fit = key_fit(database, cipher) if database.db.table_exists(models.meta._meta.table_name) else "new"
    return max(versions, default=0), fit


def _tell_state(where: str, version: int, fit: str, report: Report, out: TextIO, extra_keys: int = 0) -> None:
    if version > LATEST_VERSION:
        report.fail(out, "database", f"{where} has schema version {version}, newer than this program's: upgrade it")
        return
    schema = "empty: the schema will be created at start" if version == 0 else f"schema version {version}"
    if 0 < version < LATEST_VERSION:
        schema += f", upgraded to {LATEST_VERSION} at start"
    report.line(out, "database", f"ok ({where}, {schema})")
    if fit == "wrong":
        report.fail(
            out,
            "key",
            "TOKEN_ENCRYPTION_KEY does not open this database's tokens (to rotate, list the new key first and the "
            "old one after it, comma-separated)",
        )
    elif fit == "rotates":
        report.line(out, "key", "ok: an older listed key opens it; the next start re-encrypts under the first")
    elif fit == "fits" and extra_keys:
        report.line(
            out,
            "key",
            f"ok: the first key opens it, and the {extra_keys} key(s) after it are not needed: remove them, or, to "
            "rotate to one of them, list it first",
        )
    else:
        report.line(out, "key", "ok" if fit == "fits" else "ok: it will be recorded in the database at first start")


def check_slack(settings: Settings, report: Report, out: TextIO) -> None:
    """auth.test with SLACK_BOT_TOKEN: a refusal is a problem, no answer a warning."""
    client = WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=NETWORK_TIMEOUT_S,
        retry_handlers=[],  # one try: offline is a warning here, not worth a wait
        logger=logging.getLogger("bot.check.slack_sdk"),
    )
    try:
        answer = client.auth_test()
    except SlackApiError as exc:
        report.fail(out, "slack", f"Slack refused SLACK_BOT_TOKEN at auth.test: {exc.response.get('error')}")
        return
    except Exception as exc:  # offline, DNS, TLS: the token is tried again at start
        report.warn(out, "slack", f"{settings.slack_api_url} not reached ({_reason(exc)}); auth.test not done")
        return
    report.line(
        out, "slack", f"ok (workspace {answer.get('team')} ({answer.get('team_id')}), bot user {answer.get('user_id')})"
    )


def check_zoho(settings: Settings, report: Report, out: TextIO) -> None:
    """Whether the accounts server where logins begin answers HTTP at all (any status is an answer)."""
    server = settings.zoho_accounts_url or DEFAULT_ACCOUNTS_SERVER
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(f"{server}/oauth/v2/auth", timeout=NETWORK_TIMEOUT_S) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except Exception as exc:  # offline, DNS, TLS
        report.warn(out, "zoho", f"accounts server {server} not reached ({_reason(exc)})")
        return
    report.line(out, "zoho", f"ok (accounts server {server} answered HTTP {status})")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer: the server was reached
        return None


def _reason(exc: Exception) -> str:
    """What went wrong in words: the system's text for a network error ("Connection refused", "Name or service not
    known", "timed out"), else the error's first line; the class name only when there is nothing else."""
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    text = str(reason).splitlines()[0][:160] if str(reason) else ""
    return text or type(exc).__name__


def check_ports(settings: Settings, report: Report, out: TextIO, unusable_host: str | None) -> None:
    """Whether something listens on PORT or METRICS_PORT now: a warning, not a problem (the check may be run beside
    the running bot it checks), but the bot cannot start while it lasts. `unusable_host`: `host_problem`'s answer,
    a problem."""
    if unusable_host is not None:
        report.fail(out, "ports", unusable_host)
        return
    ports = [("PORT", settings.port), ("METRICS_PORT", settings.metrics_port)]
    taken = [f"{name} {port}" for name, port in ports if port and port_taken(settings.host, port)]
    for name in taken:
        report.warn(out, "ports", f"{name} is in use now: the bot cannot start while it is (the running bot itself?)")
    if not taken:
        free = ", ".join(f"{name} {port}" for name, port in ports if port)
        report.line(out, "ports", f"ok ({free} free on {settings.host})")


def check_exposure(settings: Settings, report: Report, out: TextIO, unusable_host: str | None) -> None:
    """Settings that work but expose the bot: listening everywhere, or a public URL without TLS (an address the bot
    cannot listen on exposes nothing)."""
    if not _is_loopback(settings.host) and unusable_host is None:
        report.warn(
            out,
            "HOST",
            f"{settings.host} accepts connections from other machines: only behind a reverse proxy that serves "
            "HTTPS (README, Deploying); the bot itself speaks plain HTTP",
        )
        if settings.metrics_port is not None:
            report.warn(
                out,
                "METRICS_PORT",
                f"{settings.metrics_port} listens on {settings.host} too: let only the scraper reach it (a firewall "
                "rule); the figures say how busy the bot is",
            )
    public = urlsplit(settings.public_url)
    if public.scheme == "http" and not _is_loopback(public.hostname or ""):
        report.warn(
            out,
            "PUBLIC_URL",
            f"{settings.public_url} is plain http on a host that is not this machine: login codes and Slack "
            "requests would cross the network in clear; use https:// through a reverse proxy",
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
