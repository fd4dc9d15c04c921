"""Every setting of the product, read and validated in one place.

Nothing else in the code base reads the environment: the composition root builds a `Settings` from the process
environment (and a `.env` file in the working directory) and hands the values on as plain arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote_plus, urlsplit

from dotenv import dotenv_values

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql")
MAX_WORKERS = 64
SOCKET_MODE_MAX_WORKERS = 10  # Slack opens at most 10 Socket Mode connections per app; each worker opens one
DEFAULT_ORG_CONCURRENCY = 10  # Zoho's limit for searches and sorted lists, whatever the edition
MOST_ORG_CONCURRENCY = 25  # Zoho's highest edition
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class SettingsError(ValueError):
    """A setting is missing or malformed; `str()` is one line that names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable} {problem}")


@dataclass(frozen=True)
class Settings:
    """The validated settings of one process. Secrets are kept out of `repr`."""

    slack_bot_token: str = field(repr=False)
    slack_signing_secret: str = field(repr=False)
    slack_app_token: str | None = field(repr=False)
    slack_api_url: str
    zoho_client_id: str
    zoho_client_secret: str = field(repr=False)
    public_url: str
    host: str
    port: int
    database_url: str = field(repr=False)
    token_encryption_key: str | None = field(repr=False)
    zoho_admin_user_ids: frozenset[str]
    zoho_accounts_url: str | None
    zoho_api_url: str | None
    log_level: str
    local: bool = False
    require_email_match: bool = False
    workers: int = 1
    log_format: str = "text"
    metrics_port: int | None = None
    zoho_org_concurrency: int = 10

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/zoho/callback"

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some values replaced (used by `--local` to point at the emulators)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def describe(self) -> list[tuple[str, str]]:
        """(variable, value) pairs for `--check`, with every secret masked."""
        return [
            ("SLACK_BOT_TOKEN", mask(self.slack_bot_token)),
            ("SLACK_SIGNING_SECRET", mask(self.slack_signing_secret)),
            ("SLACK_APP_TOKEN", mask(self.slack_app_token) if self.slack_app_token else "unset (HTTP mode)"),
            ("SLACK_API_URL", self.slack_api_url),
            ("ZOHO_CLIENT_ID", self.zoho_client_id),
            ("ZOHO_CLIENT_SECRET", mask(self.zoho_client_secret)),
            ("PUBLIC_URL", self.public_url),
            ("redirect URI", self.redirect_uri),
            ("HOST, PORT", f"{self.host}, {self.port}"),
            ("DATABASE_URL", mask_database_url(self.database_url)),
            (
                "TOKEN_ENCRYPTION_KEY",
                mask(self.token_encryption_key)
                if self.token_encryption_key
                else "unset (a key file beside the SQLite database)",
            ),
            ("ZOHO_ADMIN_USER_IDS", ", ".join(sorted(self.zoho_admin_user_ids)) or "none"),
            ("ZOHO_ACCOUNTS_URL", self.zoho_accounts_url or "unset (chosen per data centre)"),
            ("ZOHO_API_URL", self.zoho_api_url or "unset (from Zoho's token answer, known hosts only)"),
            ("LOG_LEVEL", self.log_level),
            ("WORKERS", str(self.workers)),
            ("LOG_FORMAT", self.log_format),
            (
                "METRICS_PORT",
                f"{self.metrics_port} (GET /metrics on {self.host}:{self.metrics_port}"
                f"{', the workers added up' if self.workers > 1 else ''})"
                if self.metrics_port is not None
                else "unset (no metrics)",
            ),
            ("ZOHO_REQUIRE_EMAIL_MATCH", "on" if self.require_email_match else "off"),
            ("ZOHO_ORG_CONCURRENCY", f"{self.zoho_org_concurrency} Zoho calls in flight per org"),
        ]


def mask(secret: str | None) -> str:
    """Show only enough of a secret to recognise it: its kind prefix and its length."""
    if not secret:
        return "unset"
    prefix = secret.split("-", 1)[0] + "-" if re.match(r"^x(ox[a-z]|app)-", secret) else ""
    return f"{prefix}*** ({len(secret)} chars)"


# Query parameters the database drivers (and peewee's URL parser, which passes every one on) take secrets in.
SECRET_URL_PARAMETERS = frozenset({"password", "passwd", "pass", "pwd", "secret", "token", "key", "sslpassword"})


def _database_server_problem(url: str) -> str | None:
    """What keeps a PostgreSQL or MySQL URL from being read at all, in words (a port that is not one: the driver's
    URL parser would raise a traceback); None when it can be read."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    try:
        parts.port  # noqa: B018 - urllib checks the port only when asked
    except ValueError:
        typed = netloc.rpartition(":")[2]
        return f"the port `{typed}` is not a number from 1 to 65535 (like :5432 for PostgreSQL, :3306 for MySQL)"
    return None  # no host is the local socket (the driver's to judge); a missing database is told by the store


def mask_database_url(url: str) -> str:
    """The database URL with every secret replaced by ***: the password in the user part and the value of each
    query parameter named in SECRET_URL_PARAMETERS (in any case)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = "&".join(_masked_parameter(pair) for pair in parts.query.split("&")) if parts.query else ""
    # Built by hand: urlunsplit drops sqlite:///'s empty host, showing sqlite:/path.
    return (
        f"{parts.scheme}://{netloc}{parts.path}"
        + (f"?{query}" if query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


def _masked_parameter(pair: str) -> str:
    name, equals, value = pair.partition("=")
    if equals and value and unquote_plus(name).strip().lower() in SECRET_URL_PARAMETERS:
        return f"{name}=***"
    return pair


def read_environment(environ: Mapping[str, str], dotenv_path: Path | None) -> dict[str, str]:
    """The process environment over the `.env` file: a variable set in the environment wins."""
    merged: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update(environ)
    return merged


def load_settings(
    environ: Mapping[str, str], *, local: bool = False, dotenv_path: Path | None = Path(".env")
) -> Settings:
    """Read and validate every setting listed in the README (section "3. Settings").

    Raises SettingsError naming the first bad variable. With `local=True` the Slack and Zoho credentials are
    not required (the composition root fills them in with the emulators' own).
    """
    env = read_environment(environ, dotenv_path)

    def get(name: str) -> str | None:
        value = env.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    app_token = get("SLACK_APP_TOKEN")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise SettingsError("SLACK_APP_TOKEN", "must be an app-level token starting with xapp-")

    bot_token = get("SLACK_BOT_TOKEN")
    if bot_token is None and not local:
        raise SettingsError("SLACK_BOT_TOKEN", "is required (the bot token xoxb-… from your Slack app)")
    if bot_token is not None and not bot_token.startswith("xoxb-"):
        raise SettingsError("SLACK_BOT_TOKEN", "must be a bot token starting with xoxb-")

    signing_secret = get("SLACK_SIGNING_SECRET")
    if signing_secret is None and not local and app_token is None:
        raise SettingsError("SLACK_SIGNING_SECRET", "is required in HTTP mode (Basic Information → Signing Secret)")

    client_id = get("ZOHO_CLIENT_ID")
    client_secret = get("ZOHO_CLIENT_SECRET")
    if not local:
        if client_id is None:
            raise SettingsError("ZOHO_CLIENT_ID", "is required (the client id from the Zoho API Console)")
        if client_secret is None:
            raise SettingsError("ZOHO_CLIENT_SECRET", "is required (the client secret from the Zoho API Console)")

    port_text = get("PORT") or "3000"
    lowest = 0 if local else 1  # `--local` takes a free port for 0 and builds its links from it
    if not port_text.isdigit() or not lowest <= int(port_text) <= 65535:
        # A server's port the kernel picks would be known to no PUBLIC_URL, redirect URI or Slack app.
        raise SettingsError("PORT", f"must be a port number {lowest}-65535, got {port_text!r}")

    # `--local` runs on a throw-away SQLite file of its own: whatever DATABASE_URL and key say is not read.
    database_url = "sqlite:///zohobot.db" if local else get("DATABASE_URL") or "sqlite:///zohobot.db"
    scheme = database_url.split(":", 1)[0].split("+", 1)[0].lower()
    if "://" not in database_url or scheme not in DATABASE_SCHEMES:
        raise SettingsError(
            "DATABASE_URL",
            "must look like sqlite:///path.db, postgresql://user:pass@host/db or mysql://user:pass@host/db, "
            f"got {mask_database_url(database_url)!r}",
        )
    given, _, rest = database_url.partition("://")
    if scheme == "sqlite" and not rest.startswith("/"):
        name = rest if rest and "memory" not in rest else "zohobot.db"  # a file, whatever was meant
        raise SettingsError(
            "DATABASE_URL",
            f"{database_url} has two slashes, which names no file (an in-memory database, lost at every stop): "
            f"use three, {given}:///{name}, or four for an absolute path, {given}:////srv/zohobot/{name}",
        )
    if scheme != "sqlite":
        server_problem = _database_server_problem(database_url)
        if server_problem:
            raise SettingsError("DATABASE_URL", f"{mask_database_url(database_url)}: {server_problem}")
    key = get("TOKEN_ENCRYPTION_KEY")
    if key is None and scheme != "sqlite":
        raise SettingsError(
            "TOKEN_ENCRYPTION_KEY",
            "is required with a PostgreSQL or MySQL DATABASE_URL (generate one: "
            'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")',
        )

    typed_ids = [i for i in re.split(r"[\s,]+", get("ZOHO_ADMIN_USER_IDS") or "") if i]
    admin_ids = frozenset(typed_ids)
    bad_ids = list(dict.fromkeys(i for i in typed_ids if not _SLACK_USER_ID.match(i)))  # in the order typed
    if bad_ids:
        raise SettingsError(
            "ZOHO_ADMIN_USER_IDS", f"must list Slack user ids like U0123ABCD, got {', '.join(bad_ids)!r}"
        )

    typed_level = get("LOG_LEVEL") or "INFO"
    log_level = typed_level.upper()
    if log_level not in LOG_LEVELS:
        raise SettingsError("LOG_LEVEL", f"must be one of {', '.join(LOG_LEVELS)}, got {typed_level!r}")

    typed_format = get("LOG_FORMAT") or "text"
    log_format = typed_format.lower()
    if log_format not in LOG_FORMATS:
        raise SettingsError("LOG_FORMAT", f"must be text or json, got {typed_format!r}")

    metrics_port = _metrics_port(get("METRICS_PORT"), int(port_text))

    slack_api_url = _url(get, "SLACK_API_URL", "https://slack.com/api/")
    if not slack_api_url.endswith("/"):
        slack_api_url += "/"

    require_email_match = _switch(get, "ZOHO_REQUIRE_EMAIL_MATCH")
    workers = 1 if local else _workers(get, socket_mode=app_token is not None)

    concurrency_text = get("ZOHO_ORG_CONCURRENCY") or str(DEFAULT_ORG_CONCURRENCY)
    if not concurrency_text.isdigit() or not 1 <= int(concurrency_text) <= MOST_ORG_CONCURRENCY:
        raise SettingsError(
            "ZOHO_ORG_CONCURRENCY",
            f"must be a whole number from 1 to {MOST_ORG_CONCURRENCY} (Zoho allows 5 to 25 calls at once per org, "
            f"by edition), got {concurrency_text!r}",
        )

    return Settings(
        slack_bot_token=bot_token or "",
        slack_signing_secret=signing_secret or "",
        slack_app_token=app_token,
        slack_api_url=slack_api_url,
        zoho_client_id=client_id or "",
        zoho_client_secret=client_secret or "",
        public_url=_public_url(get),
        host=get("HOST") or "127.0.0.1",
        port=int(port_text),
        database_url=database_url,
        token_encryption_key=key,
        zoho_admin_user_ids=admin_ids,
        zoho_accounts_url=_optional_url(get, "ZOHO_ACCOUNTS_URL"),
        zoho_api_url=_optional_url(get, "ZOHO_API_URL"),
        log_level=log_level,
        local=local,
        require_email_match=require_email_match,
        workers=workers,
        log_format=log_format,
        metrics_port=metrics_port,
        zoho_org_concurrency=int(concurrency_text),
    )


def _metrics_port(text: str | None, port: int) -> int | None:
    """METRICS_PORT: unset is off; else a port 1-65535 other than PORT (the public port never serves /metrics)."""
    if text is None:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise SettingsError("METRICS_PORT", f"must be a port number 1-65535 (or unset: no metrics), got {text!r}")
    if int(text) == port:
        raise SettingsError("METRICS_PORT", f"must differ from PORT (/metrics is never public), got {text!r}")
    return int(text)


_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _switch(get, name: str) -> bool:
    typed = get(name) or "off"
    value = typed.lower()
    if value not in _ON + _OFF:
        raise SettingsError(name, f"must be on or off (true/false, 1/0, yes/no), got {typed!r}")
    return value in _ON


def _workers(get, *, socket_mode: bool) -> int:
    """WORKERS: a whole number of processes, 1 to MAX_WORKERS (SOCKET_MODE_MAX_WORKERS in Socket Mode)."""
    text = get("WORKERS") or "1"
    most = SOCKET_MODE_MAX_WORKERS if socket_mode else MAX_WORKERS
    if not text.isdigit() or not 1 <= int(text) <= MAX_WORKERS:
        raise SettingsError("WORKERS", f"must be a whole number of processes from 1 to {MAX_WORKERS}, got {text!r}")
    workers = int(text)
    if workers > most:
        raise SettingsError(
            "WORKERS",
            f"can be at most {most} in Socket Mode (Slack allows {most} connections per app, one per worker), "
            f"got {workers}",
        )
    return workers


def _url(get, name: str, default: str) -> str:
    value = get(name) or default
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(name, f"must be an http(s) URL, got {value!r}")
    return value


def _public_url(get) -> str:
    """PUBLIC_URL: an origin, or an origin and a path that a proxy strips before the bot (the links are built on
    it); not one of the bot's own routes pasted in, and no query or fragment (the routes would go after them)."""
    value = _url(get, "PUBLIC_URL", "http://localhost:3000").rstrip("/")
    parts = urlsplit(value)
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise SettingsError("PUBLIC_URL", f"must be where the bot is reached, without ? or #, got {value!r}")
    for route in ("/zoho/callback", "/zoho/login", "/slack/events"):
        if parts.path.endswith(route):
            where = value[: -len(route)] or value
            raise SettingsError(
                "PUBLIC_URL",
                f"is where the bot is reached, not one of its routes: {value!r} ends with {route}; set {where!r} "
                f"(the redirect URI is then {where}/zoho/callback)",
            )
    return value


def _optional_url(get, name: str) -> str | None:
    if get(name) is None:
        return None
    value = _url(get, name, "").rstrip("/")
    if urlsplit(value).path not in ("", "/"):
        raise SettingsError(name, f"must be a bare origin like https://accounts.zoho.eu, got {value!r}")
    return value
