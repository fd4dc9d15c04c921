"""The one place that touches the Zoho SDK's process-wide and thread-local state (`Initializer`).

`Initializer.initialize` sets a process-global and, given a real token, calls Zoho at once (token endpoint,
users, org). We call it once per process, under a lock, with a placeholder: a token that refuses to
authenticate and a token store that refuses every call. So initialising makes no network call, and any SDK
call from a thread that has not switched to a user fails closed instead of leaving as somebody else.

Every job then calls `act_as` first, in its worker thread: it installs a fresh thread-local initializer
(`switch_user`) with this connection's environment (api_domain, accounts server), this adapter's SDKConfig,
token store (the job's token read once: `_OneJobTokens`) and resource path, and `OAuthToken(id=token_id)`; it
never relies on what the thread did before. `leave` replaces it with a "nobody" initializer when the job ends
(and pool threads start with one), so a pool thread holds no user between jobs and fails closed even if something
else initialised the SDK globally.

The SDK reads the user's field-metadata file (JSON in the resource path) with `Initializer.get_json` a dozen times
per call: once per record of a list, again for the field list. Inside a job those reads go through `_JobFiles`,
which parses a file once and hands the same parse back while the file on disk is unchanged.

The SDK names that file after the user's token, so every person's first command fetched the same metadata of
their org again (four calls). Here it is named after the org (`org_cache_file`), with a new name every
`FIELD_CACHE_SECONDS` so a changed layout is fetched within that time; each org's periods begin at its own minute
of the hour (`field_period`), so the orgs of a machine are not all fetched at once. The folder is shared by every
worker of the machine and kept across restarts, so the SDK's writes are made whole-file (`os.replace`) and its
fetch-and-write (`Utility.get_fields`) holds a file lock: no process reads half a file or fetches what another is
fetching. That lock and the SDK's own are not taken by a call whose file holds its module already
(`_fields_on_disk`), so a fetch holds up only the calls that need it. And when an org's period ends, its jobs read
the last period's file while this period's is not on the machine yet (`fields_are_stale`): the adapter has it
fetched behind them (`fetch_this_periods_fields`), and no command waits for it.

A machine's folder is not another machine's, and a container starts with an empty one. So each org's file is also
kept in the database (`SharedFieldFiles`, the store's per-org metadata table): when the SDK is about to fetch an
org's fields and this period's file is missing, the database's copy of the same period is written in first; when
the SDK has written a complete file, it is copied there. `load_record_fields` runs that fetch when a person logs
in, so nobody's first command waits for it.

The SDK merges the stored token into its own twice per call (`OAuthToken.merge_objects`), scanning every name
`dir()` gives against every token field name; `_merge_tokens` does the same merge over the token's own attributes.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import fcntl
import json
import logging
import os
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any, Protocol

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store.token_store import TokenStore
from zohocrmsdk.src.com.zoho.api.authenticator.token import Token
from zohocrmsdk.src.com.zoho.api.logger import Logger
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.exception.sdk_exception import SDKException
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig
from zohocrmsdk.src.com.zoho.crm.api.util.constants import Constants
from zohocrmsdk.src.com.zoho.crm.api.util.converter import Converter
from zohocrmsdk.src.com.zoho.crm.api.util.utility import Utility

from bot.zoho import http_bounds
from bot.zoho.connection import CrmConnection
from bot.zoho.sdk_logging import quiet_sdk_logger

log = logging.getLogger(__name__)

NO_USER = "NO_USER_SWITCHED"
TOKEN_PATH = "/oauth/v2/token"
_init_lock = threading.Lock()
_nobody_resource_path: str | None = None
_NOWHERE = DataCenter.Environment("http://no-user-switched.invalid", "http://no-user-switched.invalid", None)
_local = threading.local()  # .files: the running job's _JobFiles; .cache_file: its org's file name (None between)
_sdk_get_json = Initializer.get_json  # the SDK's own reader: open, json.load
_sdk_file_name = Converter.get_encoded_file_name  # the SDK's own naming: per token
_sdk_get_fields = Utility.get_fields
_TOKEN_FIELDS = tuple(Constants.OAUTH_TOKEN_FIELDS)
_is_token_field: dict[str, bool] = {}  # attribute name -> whether merge_objects merges it (memo)
FIELD_CACHE_SECONDS = 3600.0  # an org's field metadata is fetched anew at least this often
FIELD_LOCK_FILE = ".fields.lock"
SHARED_KEY_PREFIX = "sdk-fields:"  # the database rows of the SDK's files, beside bot.leads' own org metadata
_field_locks: dict[str, int] = {}  # resource path -> the open lock file (kept for the process's life)
_field_lock_depth = 0  # nested get_fields calls of the thread holding Utility.lock


class SharedFieldFiles(Protocol):
    """Where the orgs' field-metadata files are kept for every worker, replica and next start (the store's
    `org_fields`): JSON text by key, with when it was written."""

    def get(self, org_key: str) -> Any: ...  # None, or an object with .metadata_json and .fetched_at_ms

    def put(self, org_key: str, metadata_json: str) -> None: ...


class _JobFiles:
    """The SDK's field-metadata files as one job reads them: each parsed once while it is unchanged on disk.

    The SDK re-reads a user's file for every record it converts (a list of 10 parsed it 12 times). A job keeps the
    parse and checks the file's inode, size and modification time before handing it back; when the SDK writes the
    file (fetching a module's fields the first time), the next read parses the new content. Whatever the SDK
    changes in a parse it also writes to the file at once, so the kept parse never says more than the file. Kept
    for one job only: between jobs (another thread's write, a new user) the file is read afresh.
    """

    def __init__(self) -> None:
        self._parsed: dict[str, tuple[tuple[int, int, int], Any]] = {}

    def read(self, path: str) -> Any:
        found = os.stat(path)  # a missing file raises as the SDK's own open() would
        stamp = (found.st_ino, found.st_size, found.st_mtime_ns)
        kept = self._parsed.get(path)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        parsed = _sdk_get_json(path)
        self._parsed[path] = (stamp, parsed)
        return parsed


def _get_json(file_path: str) -> Any:
    """Stands in for `Initializer.get_json`: through the running job's _JobFiles, else as the SDK reads."""
    files: _JobFiles | None = getattr(_local, "files", None)
    return _sdk_get_json(file_path) if files is None else files.read(file_path)


def _merge_tokens(first: Any, second: Any) -> None:
    """Stands in for `OAuthToken.merge_objects`: each of `first`'s token fields that is None takes `second`'s.

    The SDK's own merge walks `dir(first)` (methods included) for names containing a token field name; only the
    instance's attributes can hold a token's values, so the same merge walks those, each name judged once.
    """
    try:
        for name in list(vars(first)):
            merged = _is_token_field.get(name)
            if merged is None:
                merged = _is_token_field[name] = not name.startswith("__") and any(f in name for f in _TOKEN_FIELDS)
            if merged and getattr(first, name) is None:
                setattr(first, name, getattr(second, name))
    except Exception as exc:
        raise SDKException(Constants.MERGE_OBJECT, cause=exc) from exc


def org_cache_file(connection: CrmConnection, now: float) -> str | None:
    """The name of the field-metadata file of `connection`'s org for the period `now` falls in (None without an
    org id: the SDK's per-token name then)."""
    if not connection.org_id:
        return None
    key = base64.urlsafe_b64encode(f"{connection.api_domain}|{connection.org_id}".encode()).decode().rstrip("=")
    return f"org-{key}-{field_period(key, now)}.json"


def field_period(key: str, now: float) -> int:
    """The number of the period `now` falls in for the org of file key `key`: periods of `FIELD_CACHE_SECONDS`,
    shifted by a part of one that is the org's own (the same in every process), so that orgs' periods do not all
    end at the same moment."""
    shift = zlib.crc32(key.encode()) % int(FIELD_CACHE_SECONDS)
    return int((now + shift) // FIELD_CACHE_SECONDS)


def _encoded_file_name(cls: object = None) -> str:
    """Stands in for `Converter.get_encoded_file_name`: the running job's org file, else the SDK's name."""
    name: str | None = getattr(_local, "cache_file", None)
    return _sdk_file_name() if name is None else name


def _write_whole(file_path: str, file_contents: Any) -> None:
    """Stands in for `Utility.write_to_file`: a reader (in any process) sees the old file or the new, never half."""
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(file_path), prefix=".writing-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as file:
            json.dump(file_contents, file)
        os.replace(temporary, file_path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _get_fields(module_api_name: str, handler_instance: Any = None) -> None:
    """Stands in for `Utility.get_fields`: the SDK's own, holding the folder's file lock so that workers sharing
    it fetch an org's fields once, and none reads the placeholder the SDK writes while it fetches.

    Both locks are held while the SDK talks to Zoho, and `Utility.lock` is the whole process's: a call that takes
    them waits for every fetch under way, any org's. So a call whose file holds the module's fields already (the
    case of every call but an org's first on the machine) takes neither: `_fields_on_disk` does what the SDK would.
    """
    if _fields_on_disk(module_api_name, handler_instance):
        return
    global _field_lock_depth
    with Utility.lock:  # first the SDK's lock (it nests it), then the file's: one order, no deadlock
        lock = _field_lock(Initializer.get_initializer().resource_path)
        outermost = _field_lock_depth == 0
        if outermost:
            fcntl.flock(lock, fcntl.LOCK_EX)
        _field_lock_depth += 1
        try:
            shared = _SharedFile.of_this_job() if outermost else None  # nested calls: the outermost shares
            if shared is not None:
                shared.seed()
            if outermost:
                _forget_unfinished_fetch(module_api_name)
            _sdk_get_fields(module_api_name, handler_instance)
            if shared is not None:
                shared.keep_if_written()
        finally:
            _field_lock_depth -= 1
            if _field_lock_depth == 0:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _forget_unfinished_fetch(module_api_name: str) -> None:
    """Under both locks, no fetch is under way on this machine: a `{}` the SDK wrote for the module before fetching
    it is what a fetch left that never ended (its worker killed), and the SDK would take it for the module's fields
    (a present entry) for ever. Removed, so that the SDK fetches them."""
    if "," in module_api_name:
        return
    path = Utility.get_file_name()
    try:
        contents = _get_json(path)
    except (OSError, ValueError):
        return
    key = Utility.verify_module_api_name(module_api_name).lower()
    if isinstance(contents, dict) and contents.get(key) == {}:
        log.warning("a field metadata fetch of %s did not finish; fetching it again", key)
        _write_whole(path, {name: value for name, value in contents.items() if name != key})


def _fields_on_disk(module_api_name: str, handler_instance: Any) -> bool:
    """Whether the SDK would find `module_api_name`'s fields in this job's file and fetch nothing, and if so
    what it does then (set the handler's API path to the module's API name); False changes nothing.

    The SDK's own `get_fields` with `auto_refresh_fields=False` and no `force_refresh` (ours): verify the module's
    name, fix the handler's path, skip a handler without a module (but Deals), then read the file and return if it
    has an entry for the module. An entry that is `{}` is the SDK's placeholder while a fetch is under way (here or
    in another worker): only a non-empty one counts, and a placeholder or a missing file takes the locked way. The
    file is read whole or not at all (`_write_whole`), through the job's parse (`_JobFiles`). `Utility.module_api_name`,
    a process-wide name that only a fetch reads, is left to the fetches.
    """
    if "," in module_api_name or Utility.force_refresh:
        return False
    if Initializer.get_initializer().sdk_config.get_auto_refresh_fields():
        return False
    try:
        contents = Initializer.get_json(Utility.get_file_name())
    except (OSError, ValueError):
        return False
    api_name = Utility.verify_module_api_name(module_api_name)
    unused = (
        handler_instance is not None
        and handler_instance.get_module_api_name() is None
        and api_name.lower() not in Constants.SKIP_MODULES
    )
    fields = contents.get(api_name.lower()) if isinstance(contents, dict) else None
    if not unused and not (isinstance(fields, dict) and fields):
        return False
    Utility.set_handler_api_path(api_name, handler_instance)
    return True


@dataclass
class _SharedFile:
    """This job's org file on disk and its copy in the database (see the module's docstring)."""

    shared: SharedFieldFiles
    name: str  # org-<key>-<period>.json
    path: str
    stamp: tuple[int, int, int] | None = None

    @classmethod
    def of_this_job(cls) -> _SharedFile | None:
        shared: SharedFieldFiles | None = getattr(_local, "shared", None)
        name: str | None = getattr(_local, "cache_file", None)
        if shared is None or name is None or fields_are_stale():  # a past period's file is not this period's copy
            return None
        folder = os.path.join(Initializer.get_initializer().resource_path, Constants.FIELD_DETAILS_DIRECTORY)
        return cls(shared, name, os.path.join(folder, name))

    @property
    def key(self) -> str:
        return SHARED_KEY_PREFIX + self.name.rsplit("-", 1)[0]

    @property
    def org_key(self) -> str:
        return self.name.rsplit("-", 1)[0].removeprefix("org-")

    @property
    def period(self) -> int:
        return int(self.name.rsplit("-", 1)[1].removesuffix(".json"))

    def _of_this_period(self, found: Any) -> bool:
        """Whether the database's copy (None: there is none) was written in this file's period."""
        return found is not None and field_period(self.org_key, found.fetched_at_ms / 1000) == self.period

    def seed(self) -> None:
        """Write in the database's copy of this period's file when the disk has none."""
        self.stamp = _stamp(self.path)
        if self.stamp is not None:
            return
        try:
            found = self.shared.get(self.key)
            if not self._of_this_period(found):
                return
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            _write_whole(self.path, json.loads(found.metadata_json))
            self.stamp = _stamp(self.path)
        except Exception:  # the SDK fetches the fields itself, as without the copy
            log.warning("could not read the shared field metadata %s", self.key, exc_info=True)

    def share_if_missing(self) -> None:
        """Copy the file to the database unless it holds this period's copy already."""
        try:
            if not self._of_this_period(self.shared.get(self.key)):
                self._share()
        except Exception:  # the next machine fetches the fields itself, as without the copy
            log.warning("could not keep the shared field metadata %s", self.key, exc_info=True)

    def keep_if_written(self) -> None:
        """Copy the file to the database when the SDK has just written it whole (no module left half-fetched)."""
        if _stamp(self.path) in (None, self.stamp):
            return
        try:
            self._share()
        except Exception:  # the next machine fetches the fields itself, as without the copy
            log.warning("could not keep the shared field metadata %s", self.key, exc_info=True)

    def _share(self) -> None:
        if _stamp(self.path) is None:
            return
        contents = _sdk_get_json(self.path)
        if not any(value == {} for value in contents.values()):  # no module half-fetched
            self.shared.put(self.key, json.dumps(contents))


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)


def load_record_fields(module_api_name: str) -> None:
    """Have the SDK fetch (or find cached) the fields it converts `module_api_name`'s records with, as the first
    record call would, and make sure the database has this period's copy (the file may have been on this
    machine's disk already); inside a job."""
    Utility.get_fields(module_api_name)
    shared = _SharedFile.of_this_job()
    if shared is not None:
        shared.share_if_missing()


def _field_lock(resource_path: str) -> int:
    lock = _field_locks.get(resource_path)
    if lock is None:
        lock = _field_locks[resource_path] = os.open(
            os.path.join(resource_path, FIELD_LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600
        )
    return lock


def remove_old_field_files(resource_path: str, now: float) -> int:
    """Remove the field-metadata files not written for two periods (a past period's org files, and per-token
    files of people gone); returns how many."""
    folder = os.path.join(resource_path, Constants.FIELD_DETAILS_DIRECTORY)
    removed = 0
    with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                if entry.name.endswith(".json") and entry.stat().st_mtime < now - 2 * FIELD_CACHE_SECONDS:
                    os.unlink(entry.path)
                    removed += 1
    return removed


class _NoUserToken(Token):
    """The process-global token: authenticates nobody."""

    def authenticate(self, url_connection: object) -> None:
        raise SDKException(NO_USER, "SDK call from a thread that did not switch to a user")

    def remove(self) -> bool:
        return False

    def generate_token(self) -> None:
        return None


class _NoTokenStore(TokenStore):
    """The process-global token store: holds nothing."""

    def _refuse(self, *args: object) -> None:
        raise SDKException(NO_USER, "no token store outside a user's job")

    find_token = find_token_by_id = save_token = delete_token = get_tokens = delete_tokens = _refuse


class _OneJobTokens(TokenStore):
    """The adapter's token store as one job sees it: the job's token read once.

    The SDK asks its store for the token when the job switches to the user and again before every request; each
    ask would be a database read and a decryption. A save or delete (the SDK refreshing or forgetting the token)
    goes through to the store, and the next ask reads again.
    """

    def __init__(self, store: TokenStore, token_id: str) -> None:
        self._store = store
        self._token_id = token_id
        self._token: Token | None = None
        self._read = False

    def find_token_by_id(self, id: str) -> Token | None:
        if id != self._token_id:
            return self._store.find_token_by_id(id)
        if not self._read:
            self._token = self._store.find_token_by_id(id)
            self._read = True
        return copy.copy(self._token)  # the SDK merges into and annotates what it is given

    def find_token(self, token: Token) -> Token | None:
        return self._store.find_token(token)

    def save_token(self, token: Token) -> None:
        self._read = False
        self._store.save_token(token)

    def delete_token(self, id: str) -> None:
        self._read = False
        self._store.delete_token(id)

    def get_tokens(self) -> list[Token]:
        return self._store.get_tokens()

    def delete_tokens(self) -> None:
        self._read = False
        self._store.delete_tokens()


def ensure_initialized(resource_path: str, sdk_log_level: int = logging.WARNING) -> None:
    """Initialise the SDK once per process (no network call), bound its HTTP calls, quiet its logger, and name,
    write and fetch its field-metadata files per org (see the module's docstring)."""
    global _nobody_resource_path
    with _init_lock:
        http_bounds.install()
        Initializer.get_json = staticmethod(_get_json)  # type: ignore[method-assign]
        Converter.get_encoded_file_name = classmethod(_encoded_file_name)  # type: ignore[method-assign,assignment]
        Utility.write_to_file = staticmethod(_write_whole)  # type: ignore[method-assign]
        Utility.get_fields = staticmethod(_get_fields)  # type: ignore[method-assign]
        OAuthToken.merge_objects = staticmethod(_merge_tokens)  # type: ignore[method-assign]
        if _nobody_resource_path is None:
            _nobody_resource_path = resource_path
        if Initializer.initializer is None:
            Initializer.initialize(
                environment=_NOWHERE,
                token=_NoUserToken(),
                store=_NoTokenStore(),
                sdk_config=SDKConfig(),
                resource_path=resource_path,
                logger=Logger.get_instance(Logger.Levels.WARNING),
            )
        quiet_sdk_logger(sdk_log_level)


@dataclass(frozen=True)
class SdkSettings:
    """What every job of one adapter uses besides the connection."""

    store: TokenStore
    resource_path: str
    connect_timeout: float
    read_timeout: float
    shared_fields: SharedFieldFiles | None = None
    module: str = "Leads"  # the module whose records the jobs convert: its fields decide which file a job reads

    def sdk_config(self) -> SDKConfig:
        # update_api_domain=False: keep the api_domain the login stored (checked against known Zoho hosts)
        # rather than whatever a refresh answer says.
        return SDKConfig(
            auto_refresh_fields=False,
            pick_list_validation=False,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            update_api_domain=False,
        )


def environment_for(connection: CrmConnection) -> DataCenter.Environment:
    """The SDK environment of a connection: its API domain and its accounts server's token URL."""
    accounts = connection.accounts_server.rstrip("/")
    return DataCenter.Environment(connection.api_domain.rstrip("/"), accounts + TOKEN_PATH, None)


def act_as(connection: CrmConnection, settings: SdkSettings) -> None:
    """Make every SDK call in this thread, until `leave`, act as `connection`'s user.

    Reads the token from the store (refreshing it if it expires within 5 s, as the SDK does); raises
    SDKException when the token is gone or Zoho refuses the refresh.
    """
    http_bounds.use_timeouts(settings.connect_timeout, settings.read_timeout)
    http_bounds.forget_last_answer()
    _local.files = _JobFiles()
    _local.cache_file, _local.stale = _field_file(connection, settings, time.time())
    _local.shared = settings.shared_fields
    Initializer.switch_user(environment=environment_for(connection), token=None, sdk_config=settings.sdk_config())
    initializer = Initializer.get_initializer()
    initializer.store = tokens = _OneJobTokens(settings.store, connection.token_id)
    initializer.resource_path = settings.resource_path
    initializer.request_proxy = None
    if tokens.find_token_by_id(connection.token_id) is None:
        # Without this the SDK would ask Zoho for a token with no grant at all.
        raise SDKException("TOKEN_STORE", "no stored token for this connection")
    token = OAuthToken(id=connection.token_id)
    initializer.token = token
    token.generate_token()


def _field_file(connection: CrmConnection, settings: SdkSettings, now: float) -> tuple[str | None, bool]:
    """The org's field file for a job: this period's, or the last period's while this one's does not hold the
    module's fields yet and the last one's does (True: stale), so that when a period ends the org's commands do
    not wait for one of them to fetch the fields."""
    current = org_cache_file(connection, now)
    if current is None:
        return None, False
    folder = os.path.join(settings.resource_path, Constants.FIELD_DETAILS_DIRECTORY)
    if _holds_module(os.path.join(folder, current), settings.module):
        return current, False
    previous = org_cache_file(connection, now - FIELD_CACHE_SECONDS)
    if previous is not None and _holds_module(os.path.join(folder, previous), settings.module):
        return previous, True  # this period's is missing, being fetched (the SDK's `{}` in it), or its fetch failed
    return current, False


def _holds_module(path: str, module: str) -> bool:
    """Whether the field file at `path` holds `module`'s fields (not the SDK's `{}` of a fetch under way); read
    through the job's parse, which the SDK then reads again."""
    try:
        contents = _get_json(path)
    except (OSError, ValueError):
        return False
    fields = contents.get(module.lower()) if isinstance(contents, dict) else None
    return isinstance(fields, dict) and bool(fields)


def fields_are_stale() -> bool:
    """Whether this thread's job reads its org's fields from the last period's file (this period's is not on this
    machine yet): its caller then has this period's fetched behind it (`fetch_this_periods_fields`)."""
    return bool(getattr(_local, "stale", False))


def fetch_this_periods_fields(connection: CrmConnection, module_api_name: str) -> None:
    """Inside a job: have this period's field file of the org fetched (or taken from the database's copy) and
    shared, as a login does, whatever file the job started with."""
    _local.cache_file, _local.stale = org_cache_file(connection, time.time()), False
    load_record_fields(module_api_name)


def leave() -> None:
    """Forget this thread's user: SDK calls from it fail closed until the next `act_as`.

    Also the ThreadPoolExecutor `initializer` of the adapter's pool, so fresh threads start as nobody.
    """
    nobody = Initializer()
    nobody.environment = _NOWHERE
    nobody.token = _NoUserToken()
    nobody.store = _NoTokenStore()
    nobody.sdk_config = SDKConfig()
    nobody.resource_path = _nobody_resource_path
    nobody.request_proxy = None
    Initializer.LOCAL.init = nobody
    _local.files = None
    _local.cache_file = None
    _local.stale = False
    _local.shared = None
