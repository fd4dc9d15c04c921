"""Which database a DATABASE_URL names, how it is opened, and how each store operation runs on it.

Every store operation is a function handed to `StoreDatabase.run`: it runs on the calling thread's own
connection (Peewee keeps one per thread), opened on demand. When the server dropped that connection (restart,
idle timeout, killed backend) the connection is discarded and the operation tried once more on a fresh one,
unless it ran inside an outer transaction, whose work would be lost silently.

On SQLite the writers of one process first wait in line for their turn (store.writer_turns), so that they are not
left to SQLite's sleep-and-retry when the file is busy, and the write an ack waits on goes first.
"""

from __future__ import annotations

import enum
import importlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import peewee
from playhouse import db_url

from store.errors import StoreClosedError, StoreConfigError, first_line
from store.models import StoreModels, bind_models
from store.writer_turns import WriterTurns

log = logging.getLogger(__name__)

T = TypeVar("T")

URL_SETTING = "DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_CONNECT_TIMEOUT_S = 10
_MYSQL_READ_TIMEOUT_S = 120


class Dialect(enum.Enum):
    SQLITE = "sqlite"
    POSTGRES = "postgresql"
    MYSQL = "mysql"


_SCHEMES = {
    "sqlite": Dialect.SQLITE,
    "sqlite+pool": Dialect.SQLITE,
    "postgres": Dialect.POSTGRES,
    "postgresql": Dialect.POSTGRES,
    "postgres+pool": Dialect.POSTGRES,
    "postgresql+pool": Dialect.POSTGRES,
    "mysql": Dialect.MYSQL,
    "mysql+pool": Dialect.MYSQL,
}

# MySQL/MariaDB client error codes meaning "this connection is gone".
_MYSQL_LOST = {0, 2006, 2013, 2014, 2055, 4031}
# Deadlock / lock wait / serialization failures: the transaction may simply be run again.
_MYSQL_RETRYABLE = {1205, 1213}
_PG_RETRYABLE = {"40001", "40P01"}


def dialect_of(url: str) -> Dialect:
    """The database family a DATABASE_URL names; raises StoreConfigError for anything else."""
    scheme = urlparse(url).scheme.lower()
    try:
        return _SCHEMES[scheme]
    except KeyError:
        raise StoreConfigError(
            f"{URL_SETTING} must start with sqlite:///, postgresql:// or mysql:// (got scheme {scheme!r})"
        ) from None


# The Python module each database server needs, and the extra of this package that installs it.
DRIVERS = {Dialect.POSTGRES: ("psycopg2", "postgres"), Dialect.MYSQL: ("pymysql", "mysql")}


def missing_driver(dialect: Dialect) -> str | None:
    """What to install when the driver of `dialect` is missing (None: nothing is)."""
    if dialect not in DRIVERS:
        return None
    module, extra = DRIVERS[dialect]
    try:
        importlib.import_module(module)
    except ImportError:
        return (
            f"{URL_SETTING} needs the {dialect.value} driver ({module}), which is not installed: "
            f".venv/bin/pip install -e '.[{extra}]'"
        )
    return None


def sqlite_path(url: str) -> Path | None:
    """The file a sqlite DATABASE_URL names, or None for an in-memory database."""
    name = db_url.parse(url)["database"]
    if not name or name == ":memory:" or str(name).startswith("file::memory:"):
        return None
    return Path(str(name))


def sqlite_folder_to_create(path: Path) -> Path | None:
    """The folder a start creates for the SQLite file at `path` (None: it exists): one missing folder, whose parent
    exists. A path further from any existing folder is taken for a typo (a new, empty database would log everyone
    out) and refused with StoreConfigError. Creates nothing (`--check` asks it too)."""
    folder = path.absolute().parent
    if folder.is_dir():
        return None
    if not folder.parent.is_dir():
        raise StoreConfigError(
            f"{URL_SETTING} names the SQLite file {path}, but the folder {folder} does not exist (a start creates "
            "one missing folder, not more): create it, or correct the path"
        )
    return folder


def _private_sqlite_file(path: Path | None) -> None:
    """Create a new SQLite file readable by its owner only (SQLite gives -wal and -shm the same mode); warn when
    an existing one can be read by others: it holds e-mails, org names and the audit trail (tokens are encrypted).

    Its folder is created as `sqlite_folder_to_create` says; a place where no file can be made is refused.
    """
    if path is None:
        return
    folder = sqlite_folder_to_create(path)
    if folder is not None:
        try:
            folder.mkdir(mode=0o700)
            log.info("created the folder %s for the SQLite database", folder)
        except FileExistsError:
            pass  # made meanwhile (another worker starting): a folder is what is checked next
        except OSError as exc:
            raise StoreConfigError(
                f"{URL_SETTING} names the SQLite file {path}, but its folder {folder} cannot be created: "
                f"{exc.strerror or exc}"
            ) from None
        if not folder.is_dir():
            raise StoreConfigError(f"{URL_SETTING} names the SQLite file {path}, but {folder} is not a folder")
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        if path.is_file() and path.stat().st_mode & 0o077:
            log.warning("the database file %s can be read by other users; consider chmod 600", path)
        return
    except OSError as exc:
        raise StoreConfigError(
            f"{URL_SETTING} names the SQLite file {path}, which cannot be created: {exc.strerror or exc}"
        ) from None
    log.info("created a new, empty SQLite database at %s", path)


class StoreDatabase:
    """One database (from a DATABASE_URL) with the store's models bound to it."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        self.dialect = dialect_of(url)
        self.clock = clock
        self._sqlite_file: tuple[Path, tuple[int, int]] | None = None  # the file opened, and which one it was
        if self.dialect is Dialect.SQLITE:
            path = sqlite_path(url)
            _private_sqlite_file(path)
            if path is not None:
                opened = path.stat()
                self._sqlite_file = (path, (opened.st_dev, opened.st_ino))
        self.db = connect_database(url)
        self.database_name = str(self.db.database)
        table_settings = ["DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"] if self.dialect is Dialect.MYSQL else None
        self.proxy = peewee.DatabaseProxy()
        self.proxy.initialize(self.db)
        self.models: StoreModels = bind_models(self.proxy, table_settings=table_settings)
        self._closed = False
        self._opened: list[Any] = []
        self._opened_lock = threading.Lock()
        self._writer_turns = WriterTurns() if self.dialect is Dialect.SQLITE else None
        self._track_connections()

    def __repr__(self) -> str:
        return f"StoreDatabase({self.dialect.value}, {self.database_name!r})"

    def describe(self) -> str:
        """e.g. "sqlite /srv/bot/zohobot.db" or "postgresql zohobot@db.internal:5432/zohobot" (no password)."""
        if self.dialect is Dialect.SQLITE:
            return f"sqlite {self.database_name}"
        params = self.db.connect_params
        user = params.get("user", "")
        host = params.get("host", "localhost")
        port = f":{params['port']}" if params.get("port") else ""
        return f"{self.dialect.value} {user}{'@' if user else ''}{host}{port}/{self.database_name}"

    def now_ms(self) -> int:
        """The store's clock, in epoch milliseconds."""
        return int(self.clock() * 1000)

    def run(
        self,
        work: Callable[[], T],
        *,
        write: bool = False,
        modifies: bool = False,
        urgent: bool = False,
        retry_conflicts: bool = False,
    ) -> T:
        """Run `work` on this thread's connection and return its result.

        `write=True` runs it in one transaction (on SQLite a `BEGIN IMMEDIATE` one, so a read-then-write
        never fails half way on a busy database). `modifies=True`: `work` is one statement that writes, run
        outside a transaction (on SQLite it takes its turn among this process's writers, as a transaction does;
        `urgent=True`: ahead of the others, for a write that an answer to Slack waits on). `retry_conflicts=True`
        runs it again after a unique-key race or a deadlock; only for work that decides afresh what to do on
        every run.
        """
        if self._closed:
            raise StoreClosedError("the token store was closed")
        attempts = 0
        while True:
            attempts += 1
            try:
                if write:
                    with self.writer_turn(urgent=urgent), self.write_transaction():
                        return work()
                if modifies:
                    with self.writer_turn(urgent=urgent):
                        return work()
                return work()
            except (peewee.OperationalError, peewee.InterfaceError) as exc:
                if attempts >= 3 or self.db.in_transaction():
                    raise
                if self._connection_lost(exc):
                    if self.db._state.conn is not None:
                        log.warning("database connection lost; reconnecting (%s)", type(exc).__name__)
                    else:  # never connected: the retry is just a second try, not news
                        log.debug("database connection failed; trying again (%s)", type(exc).__name__)
                    self._discard_connection()
                    continue
                if retry_conflicts and self._is_retryable_conflict(exc):
                    continue
                raise
            except peewee.IntegrityError:
                if not retry_conflicts or attempts >= 3 or self.db.in_transaction():
                    raise

    @contextmanager
    def writer_turn(self, timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000, *, urgent: bool = False) -> Iterator[None]:
        """On SQLite, this thread's turn among the process's writers for the block (store.writer_turns: in order
        of arrival, `urgent` ones first, at most `timeout`); elsewhere nothing. A thread already in a transaction
        takes none: it holds the file's write lock, with its turn or after waiting too long for one, and queueing
        again would keep whoever has the turn waiting on that lock."""
        if self._writer_turns is None or self.db.transaction_depth() > 0:
            yield
            return
        with self._writer_turns.turn(timeout, urgent=urgent):
            yield

    def write_transaction(self) -> Any:
        """A transaction (a savepoint when nested) that takes the write lock at once on SQLite."""
        if self.dialect is Dialect.SQLITE and self.db.transaction_depth() == 0:
            return self.db.atomic("IMMEDIATE")
        return self.db.atomic()

    def ping(self) -> bool:
        """True when the database answers a trivial query (reconnecting first if needed)."""
        return self.ping_problem() is None

    def ping_problem(self) -> str | None:
        """None when the database answers a trivial query (reconnecting first if needed); else what went wrong,
        as the driver said it (its first line: the server's reason, never the credentials). A SQLite file moved,
        deleted or replaced under the running bot is a problem too: this process would go on with the old one
        while a process started now would take another (a restored backup, or a new, empty database)."""
        if self._sqlite_file is not None:
            path, identity = self._sqlite_file
            try:
                now = path.stat()
            except OSError:
                now = None
            if now is None or (now.st_dev, now.st_ino) != identity:
                return (
                    f"the SQLite file {path} was moved, deleted or replaced since this process opened it, and this "
                    "process still uses the one it opened: put it back, or restart the bot"
                )
        try:
            answered = self.run(lambda: self.db.execute_sql("SELECT 1").fetchone() is not None)
        except StoreClosedError:
            return "the store is closed"
        except (peewee.DatabaseError, peewee.InterfaceError) as exc:
            said = first_line(exc)
            return f"{type(exc).__name__}: {said}" if said else type(exc).__name__
        return None if answered else "no row for SELECT 1"

    def close(self) -> None:
        """Close every connection this store opened, in every thread; later use raises StoreClosedError."""
        self._closed = True
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            try:
                conn.close()
            except Exception as exc:  # a connection already broken by the server; nothing left to free
                log.debug("closing a database connection failed: %s", type(exc).__name__)
        self.db.dispose()

    def _track_connections(self) -> None:
        open_connection = self.db._connect

        def connect_and_track() -> Any:
            conn = open_connection()
            if self.dialect is Dialect.SQLITE:
                _use_wal(conn)
            with self._opened_lock:
                self._opened = [c for c in self._opened if not _is_closed(c)]
                self._opened.append(conn)
            return conn

        self.db._connect = connect_and_track  # type: ignore[method-assign]

    def _connection_lost(self, exc: Exception) -> bool:
        if self.dialect is Dialect.SQLITE:
            return False
        conn = self.db._state.conn
        if conn is None:
            return True
        if _is_closed(conn):
            return True
        if self.dialect is Dialect.MYSQL:
            return mysql_error_code(exc) in _MYSQL_LOST
        return False

    def _is_retryable_conflict(self, exc: Exception) -> bool:
        if self.dialect is Dialect.MYSQL:
            return mysql_error_code(exc) in _MYSQL_RETRYABLE
        if self.dialect is Dialect.POSTGRES:
            return postgres_error_code(exc) in _PG_RETRYABLE
        return False

    def _discard_connection(self) -> None:
        conn = self.db._state.conn
        self.db.dispose()
        if conn is not None:
            try:
                conn.close()
            except Exception as exc:  # already broken: closing is only tidying up
                log.debug("closing a lost connection failed: %s", type(exc).__name__)


APPLICATION_NAME = "zoho-slack-bot"


def connect_database(url: str) -> peewee.Database:
    """An unconnected Peewee database for a DATABASE_URL, configured as the store needs it.

    SQLite: WAL journal, busy timeout, foreign keys. Servers: connect timeouts; PostgreSQL: the application name
    and TCP keepalives; MySQL: utf8mb4.
    Options given in the URL's query string win. Raises StoreConfigError for an unusable URL.
    """
    dialect = dialect_of(url)
    missing = missing_driver(dialect)
    if missing is not None:
        raise StoreConfigError(missing)
    scheme = urlparse(url).scheme.lower()
    given = db_url.parse(url, unquote_password=True, unquote_user=True)
    if not given.get("database"):
        # Peewee's own message quotes the whole URL, password included: say it without the URL.
        raise StoreConfigError(
            f"{URL_SETTING} names no database: use sqlite:///path/file.db or scheme://user:pass@host/dbname"
        )
    options: dict[str, Any] = {}
    if dialect is Dialect.SQLITE:
        options["pragmas"] = {
            "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
            "foreign_keys": 1,
            "synchronous": "normal",
        }
        options["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
        if sqlite_path(url) is None:
            # Each connection to ":memory:" is a database of its own: share one among threads.
            options["thread_safe"] = False
            options["check_same_thread"] = False
    elif dialect is Dialect.POSTGRES:
        options["connect_timeout"] = _CONNECT_TIMEOUT_S
        options["application_name"] = APPLICATION_NAME  # how pg_stat_activity names the bot's sessions
        # A server gone without a word (a cut network, a failover) is noticed within about 90 s, not hours.
        options.update(keepalives=1, keepalives_idle=60, keepalives_interval=10, keepalives_count=3)
    else:
        if "passwd" in given:
            given["password"] = given.pop("passwd")
        options["charset"] = "utf8mb4"
        options["connect_timeout"] = _CONNECT_TIMEOUT_S
        options["read_timeout"] = _MYSQL_READ_TIMEOUT_S
        options["write_timeout"] = _MYSQL_READ_TIMEOUT_S
    options.update(given)
    return db_url.schemes[scheme](**options)


def _use_wal(conn: Any) -> None:
    """Put the SQLite file in WAL mode (a lasting property of the file; a no-op once it is).

    Switching needs the file to itself, and SQLite answers "database is locked" at once, without its busy
    timeout, when several connections switch a new file together: so retry for up to the busy timeout.
    """
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() in ("wal", "memory"):
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = wal")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)  # back off: another connection is switching the file right now
            pause = min(pause * 2, 0.2)


def _is_closed(conn: Any) -> bool:
    closed = getattr(conn, "closed", None)  # psycopg2: 0 while open
    if isinstance(closed, int) and not isinstance(closed, bool):
        return closed != 0
    is_open = getattr(conn, "open", None)  # pymysql
    if isinstance(is_open, bool):
        return not is_open
    return False


def driver_error(exc: BaseException) -> BaseException:
    """The database driver's own exception behind a Peewee one (passed as an argument, or chained)."""
    candidates = [exc.args[0] if exc.args else None, exc.__cause__, exc.__context__]
    for candidate in candidates:
        if isinstance(candidate, BaseException) and type(candidate).__module__ != "peewee":
            return candidate
    return exc


def mysql_error_code(exc: BaseException) -> int | None:
    """The MySQL/MariaDB error number of a (wrapped) driver error, if any."""
    args = driver_error(exc).args
    return args[0] if args and isinstance(args[0], int) else None


def postgres_error_code(exc: BaseException) -> str | None:
    """The SQLSTATE of a (wrapped) psycopg2 error, if any."""
    return getattr(driver_error(exc), "pgcode", None)
