"""`ZohoCrm`: the connected user's Lead records in Zoho CRM, through the official SDK, from asyncio code.

The SDK is synchronous and keeps its current user in a thread-local, so every call runs as one job in a
bounded thread pool, and each job first switches its thread to the connection it was given
(`sdk_runtime.act_as`) and forgets it afterwards. Every job is bounded twice: on the asyncio side by
`call_timeout` (the caller gets ZohoTimeout; a job still queued is cancelled), and on the socket by
`connect_timeout`/`read_timeout`, applied to every HTTP call the SDK makes, token refreshes included
(`http_bounds`), so a hung Zoho frees the worker thread after at most `read_timeout` of silence.

Every call is counted (bot.metrics) by operation and status (ok, or the CrmError's kind), timed from the moment
it is asked for, and counted while it runs in its org's bucket (never by the org id itself).

Each call also holds one of its Zoho org's slots (`org_slots`: at most `org_concurrency` calls of an org in
flight across every process sharing the database). A 429 from Zoho is back-pressure: the call waits (Zoho's
Retry-After, else a short pause that doubles) and tries again within its `call_timeout`; only when that runs out
is the caller told (RateLimited).

Reads return plain `CrmRecord`/`RecordPage` values; failures raise the CrmErrors of `bot.zoho.errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import functools
import logging
import os
import random
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from zohocrmsdk.src.com.zoho.api.authenticator.store.token_store import TokenStore
from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.exception.sdk_exception import SDKException
from zohocrmsdk.src.com.zoho.crm.api.record import (
    BodyWrapper,
    GetRecordsParam,
    RecordCountParam,
    RecordOperations,
    SearchRecordsParam,
)

from bot.metrics import ZOHO_CALL_SECONDS, ZOHO_CALLS, ZOHO_IN_FLIGHT, org_bucket
from bot.zoho import metadata, outcomes, sdk_runtime
from bot.zoho.connection import CrmConnection
from bot.zoho.errors import (
    CrmBusy,
    CrmError,
    LeadNotFound,
    RateLimited,
    SearchRejected,
    ZohoTimeout,
    ZohoUnavailable,
)
from bot.zoho.metadata import LeadMetadata
from bot.zoho.org_slots import LeaseBook, OrgSlots
from bot.zoho.records import LIST_FIELDS, CrmRecord, DataTypes, RecordPage, from_record, to_record

log = logging.getLogger(__name__)

T = TypeVar("T")
MODULE = "Leads"
_LEAD_ID = re.compile(r"[0-9]{1,30}\Z")
_SEARCH_ESCAPES = str.maketrans({"\\": "\\\\", ",": "\\,", "(": "\\(", ")": "\\)"})
# Where a name of one CJK character is looked for (Zoho's `word` search needs 2 characters).
NAME_FIELDS: tuple[str, ...] = ("Last_Name", "First_Name", "Company")
_CJK_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")
FIRST_RETRY_S = 0.25  # after a 429 without Retry-After (too many calls in flight): the first pause, then doubled
LONGEST_RETRY_S = 2.0
FETCH_BEHIND_PAUSE_S = 60.0  # after a failed fetch of an org's new field file: the last period's serves meanwhile
SHORTEST_TRY_S = 0.5  # a retry is only worth it with at least this much of the call's time left after the pause


class _Started(threading.Event):
    """Set by a try's SDK job when it begins in its worker thread; `at`: that moment, `asked`: when the try began
    (time.monotonic); `stage`: what it waits for until then (the person's share, an org slot, a thread)."""

    at = 0.0

    def __init__(self) -> None:
        super().__init__()
        self.asked = time.monotonic()
        self.stage = "person"

    def begin(self) -> None:
        self.at = time.monotonic()
        self.set()


class ZohoCrm:
    """Create, read, list, search, update and delete the Lead records of the user of a CrmConnection."""

    def __init__(
        self,
        token_store: TokenStore,
        resource_path: str,
        max_workers: int = 8,
        connect_timeout: float = 5,
        read_timeout: float = 15,
        call_timeout: float = 20,
        sdk_log_level: int = logging.WARNING,
        jobs_per_user: int = 4,
        org_concurrency: int = 10,
        org_leases: LeaseBook | None = None,
        org_lease_s: float = 15.0,
        shared_fields: sdk_runtime.SharedFieldFiles | None = None,
    ) -> None:
        """`resource_path` is where the SDK caches field metadata, per Zoho org (created if missing; may be shared by
        the processes of a machine and kept across restarts: files two periods old are removed here).

        `call_timeout` bounds a call from the moment it is asked for, waiting included. One user holds at most
        `jobs_per_user` of the `max_workers` threads, so a user whose calls hang (a slow org, a hung Zoho
        data centre) cannot take the pool from everyone else. At most `org_concurrency` calls of one Zoho org are
        in flight at once: counted in `org_leases` (the store's, shared by every process on the database; leases
        last `org_lease_s` unless renewed), else in this process only. `shared_fields` (the store's `org_fields`)
        keeps each org's field-metadata file for other machines and the next start.
        """
        os.makedirs(resource_path, exist_ok=True)
        resource_path = os.path.abspath(resource_path)
        sdk_runtime.ensure_initialized(resource_path, sdk_log_level)
        sdk_runtime.remove_old_field_files(resource_path, time.time())
        self.resource_path = resource_path
        self._settings = sdk_runtime.SdkSettings(
            token_store, resource_path, connect_timeout, read_timeout, shared_fields, metadata.MODULE
        )
        self._call_timeout = call_timeout
        self._executor = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="zoho-crm", initializer=sdk_runtime.leave
        )
        self._jobs_per_user = max(1, min(jobs_per_user, max_workers))
        self._user_slots: dict[str, asyncio.Semaphore] = {}
        self.org_slots = OrgSlots(org_concurrency, org_leases, org_lease_s)
        self._fetches_behind: dict[str, asyncio.Task[None]] = {}  # org key -> the fetch of its period's fields
        self._one_fetch_behind = asyncio.Lock()  # one at a time: each holds the SDK's process-wide lock
        self._fetch_failed: dict[str, float] = {}  # org key -> when its last fetch behind failed (monotonic)
        self._closing = False

    # ----- running jobs ------------------------------------------------------------------------------------

    def _job(
        self, connection: CrmConnection, operation: str, work: Callable[[], T], loop: asyncio.AbstractEventLoop
    ) -> T:
        acting = False
        try:
            sdk_runtime.act_as(connection, self._settings)
            acting = True
            return work()
        except SDKException as error:
            raise outcomes.from_sdk_exception(
                error, operation=operation, read_timeout=self._settings.read_timeout
            ) from None
        finally:
            stale = acting and sdk_runtime.fields_are_stale()  # not a job that could not act (a refused token)
            sdk_runtime.leave()
            if stale:
                with contextlib.suppress(RuntimeError):  # the loop closed: the next start fetches them
                    loop.call_soon_threadsafe(self._fetch_fields_behind, connection)

    def _fetch_fields_behind(self, connection: CrmConnection) -> None:
        """A job read the last period's field file of its org (this period's is not on this machine yet): have this
        one's fetched in a job of its own, once per org, one org at a time, after the calls that noticed; after a
        failed one, not again for `FETCH_BEHIND_PAUSE_S` (the last period's file serves meanwhile)."""
        key = connection.org_key
        if self._closing or key in self._fetches_behind:
            return
        if time.monotonic() - self._fetch_failed.get(key, -FETCH_BEHIND_PAUSE_S) < FETCH_BEHIND_PAUSE_S:
            return
        self._fetches_behind[key] = asyncio.get_running_loop().create_task(
            self._fetch_fields(connection), name=f"zoho field fetch {org_bucket(connection.org_id)}"
        )

    async def _fetch_fields(self, connection: CrmConnection) -> None:
        fetch = functools.partial(sdk_runtime.fetch_this_periods_fields, connection, metadata.MODULE)
        try:
            async with self._one_fetch_behind:
                await self._run(connection, "read", fetch)
            self._fetch_failed.pop(connection.org_key, None)
        except CrmError as error:  # a call of the org after the pause notices again and asks again
            self._fetch_failed[connection.org_key] = time.monotonic()
            log.warning(
                "the org's field metadata was not fetched anew (%s); the last period's serves, trying again in %g s",
                type(error).__name__,
                FETCH_BEHIND_PAUSE_S,
            )
        finally:
            self._fetches_behind.pop(connection.org_key, None)

    async def _run(self, connection: CrmConnection, operation: str, work: Callable[[], T]) -> T:
        """`work` as one bounded job for `connection`, counted and timed by operation and status (bot.metrics)."""
        asked = time.monotonic()
        status = "unexpected"
        try:
            result = await self._bounded(connection, operation, work)
            status = "ok"
            return result
        except CrmError as error:
            status = type(error).__name__
            raise
        finally:
            ZOHO_CALLS.labels(operation, status).inc()
            ZOHO_CALL_SECONDS.labels(operation).observe(time.monotonic() - asked)

    async def _bounded(self, connection: CrmConnection, operation: str, work: Callable[[], T]) -> T:
        """Run `work` as `connection` within `call_timeout`, an org slot held; a 429 is waited out and tried
        again while the time allows (Zoho did not act on it), else told as RateLimited."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._call_timeout
        pause = FIRST_RETRY_S
        limited: RateLimited | None = None
        while True:
            started = _Started()  # each try's own wait for a turn (not Zoho's time, nor a 429's pause, before it)
            try:
                async with asyncio.timeout_at(deadline):  # no task of its own, as wait_for would make
                    return await self._attempt(connection, operation, work, started)
            except RateLimited as refused:
                limited = refused
                wait = refused.retry_after if refused.retry_after is not None else pause * random.uniform(0.75, 1.25)
                if loop.time() + wait + SHORTEST_TRY_S > deadline:
                    log.warning("CRM %s: Zoho kept answering 429 for the org; the person is told", operation)
                    raise
                log.debug("CRM %s: Zoho answered 429 for the org; trying again in %.2f s", operation, wait)
                await asyncio.sleep(wait)
                pause = min(pause * 2, LONGEST_RETRY_S)
            except TimeoutError:
                if started.is_set():
                    waited = max(0.0, started.at - started.asked)
                    raise ZohoTimeout(self._call_timeout, waited=round(waited, 1), operation=operation) from None
                if limited is not None:
                    raise limited from None
                log.warning("CRM %s not started in %g s: %s", operation, self._call_timeout, self._waited_for(started))
                raise CrmBusy(self._call_timeout) from None

    def _waited_for(self, started: _Started) -> str:
        """What a try that never started was still waiting for, and the setting behind it."""
        if started.stage == "person":
            return (
                f"the person's earlier calls still ran (at most {self._jobs_per_user} of one person's at once; "
                "a hung Zoho holds them until its socket limits end them)"
            )
        if started.stage == "org":
            return (
                f"no slot of its org was free (ZOHO_ORG_CONCURRENCY={self.org_slots.per_org} calls at once per org, "
                "across workers and replicas)"
            )
        return "no worker thread was free (every one ran another call)"

    async def _attempt(self, connection: CrmConnection, operation: str, work: Callable[[], T], started: _Started) -> T:
        """One try: the user's share of the threads, then a slot of the org, then the SDK job (which gives both
        back when it really ends, even after the caller stopped waiting: a user whose calls hang holds at most
        `jobs_per_user` threads, however often they try again)."""
        in_flight = ZOHO_IN_FLIGHT.labels(org_bucket(connection.org_id))
        request_context = contextvars.copy_context()  # the request id of its log lines (bot.logs)
        user_slots = self._user_slots.get(connection.token_id)
        if user_slots is None:
            user_slots = self._user_slots[connection.token_id] = asyncio.Semaphore(self._jobs_per_user)
        await user_slots.acquire()  # held until the job really ends, not until its caller stops waiting
        started.stage = "org"
        try:
            slot = await self.org_slots.take(connection.org_key)
        except BaseException:
            user_slots.release()
            raise
        started.stage = "thread"
        loop = asyncio.get_running_loop()

        def job() -> T:
            started.begin()
            try:
                with in_flight.track_inprogress():
                    return request_context.run(self._job, connection, operation, work, loop)
            finally:
                self.org_slots.give_back(slot)
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits for the share
                    loop.call_soon_threadsafe(user_slots.release)

        def never_ran() -> None:
            loop.run_in_executor(None, self.org_slots.give_back, slot)
            user_slots.release()

        try:
            future = self._executor.submit(job)
        except RuntimeError:  # shutting down: the pool takes no more jobs
            never_ran()
            raise ZohoUnavailable(None, "shutting down") from None
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            if future.cancel():  # still queued: it never runs, so its slot and share are given back here
                never_ran()
            raise  # running: its socket timeouts end it, and it gives its slot and share back then

    async def close(self) -> None:
        """Stop taking jobs; cancel queued ones and wait for running ones (bounded by the socket timeouts)."""
        self._closing = True
        fetches = list(self._fetches_behind.values())
        for fetch in fetches:
            fetch.cancel()
        await asyncio.gather(*fetches, return_exceptions=True)
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        await self.org_slots.close()

    # ----- field metadata ----------------------------------------------------------------------------------

    async def lead_metadata(self, connection: CrmConnection) -> LeadMetadata:
        """The Leads fields and layout of the connection's org (two calls, and the SDK's own field fetch when its
        file of the org is not cached; callers cache it per org)."""
        return await self._run(connection, "read", self._read_lead_metadata)

    @staticmethod
    def _read_lead_metadata() -> LeadMetadata:
        """The org's metadata, and the SDK's own field file filled (or found) on the way, as a record call would:
        at login this is what makes a person's first command as fast as their second."""
        found = metadata.read_lead_metadata()
        sdk_runtime.load_record_fields(metadata.MODULE)
        return found

    # ----- Leads ---------------------------------------------------------------------------------------------

    async def create_lead(self, connection: CrmConnection, values: Mapping[str, str], known: DataTypes) -> CrmRecord:
        """Create a Lead with these values ({API name: text}); the record as saved (its new id and the values).
        `known`: the Zoho data type of every field set (from the org's metadata, `lead_metadata`).

        Raises FieldRejected (nothing saved), NoPermission, ReconnectNeeded, RateLimited, ZohoTimeout
        (it may or may not have been saved), ZohoUnavailable.
        """
        values = dict(values)

        def work() -> CrmRecord:
            body = BodyWrapper()
            body.set_data([to_record(values, known, creating=True)])
            response = RecordOperations(MODULE).create_records(body)
            details = outcomes.action_details(response, operation="create", values=values)
            return CrmRecord(id=str(details.get("id")), values={k: v for k, v in values.items() if v})

        return await self._run(connection, "create", work)

    def _fetch(self, lead_id: str) -> CrmRecord:
        response = RecordOperations(MODULE).get_record(int(lead_id))
        answer = outcomes.check_response(response, operation="read", lead_id=lead_id)
        records = answer.get_data() if answer is not None else None
        if not records:
            raise LeadNotFound(lead_id)
        return from_record(records[0])

    async def get_lead(self, connection: CrmConnection, lead_id: str) -> CrmRecord:
        """The Lead with this id, all its fields. Raises LeadNotFound, and the errors of create_lead."""
        _check_lead_id(lead_id)
        return await self._run(connection, "read", lambda: self._fetch(lead_id))

    def _page(self, response: object, operation: str) -> RecordPage:
        answer = outcomes.check_response(response, operation=operation)
        if answer is None:
            return RecordPage(())
        records = answer.get_data() or []
        info = answer.get_info() if hasattr(answer, "get_info") else None
        has_more = bool(info.get_more_records()) if info is not None else False
        return RecordPage(tuple(from_record(r) for r in records), has_more)

    def _counted(self, found: RecordPage, count: Callable[[ParameterMap], None] | None) -> RecordPage:
        """`found` with the total Zoho counts for the same search (`count` adds its parameters; None: not wanted),
        asked only when a page follows (else the pages are known already); without it (Zoho refused or did not
        answer) the list still shows."""
        if count is None or not found.has_more:
            return found
        params = ParameterMap()
        count(params)
        try:
            answer = outcomes.check_response(RecordOperations(MODULE).record_count(params), operation="read")
            total = answer.get_count() if answer is not None and hasattr(answer, "get_count") else None
        except (CrmError, SDKException) as error:
            log.info("Lead count not read: %s", type(error).__name__)
            return found
        return dataclasses.replace(found, total=int(total)) if total is not None else found

    async def list_leads(
        self, connection: CrmConnection, page: int = 1, per_page: int = 10, *, counted: bool = True
    ) -> RecordPage:
        """One page of the Leads the user can see in Zoho, newest first (`counted`: with how many in all, when a
        page follows; one more call)."""
        page, per_page = max(1, page), min(max(1, per_page), 200)

        def work() -> RecordPage:
            params = ParameterMap()
            params.add(GetRecordsParam.fields, ",".join(LIST_FIELDS))
            params.add(GetRecordsParam.page, page)
            params.add(GetRecordsParam.per_page, per_page)
            params.add(GetRecordsParam.sort_by, "Created_Time")
            params.add(GetRecordsParam.sort_order, "desc")
            found = self._page(RecordOperations(MODULE).get_records(params), "list")
            return self._counted(found, (lambda _: None) if counted else None)

        return await self._run(connection, "list", work)

    async def owned_leads(
        self, connection: CrmConnection, owner_id: str, page: int = 1, per_page: int = 10, *, counted: bool = True
    ) -> RecordPage:
        """One page of the Leads this Zoho user (`owner_id`, a CRM user id: digits, like record ids) owns, newest
        first. Raises ValueError for an id that is not digits (it would change the criteria)."""
        if not _LEAD_ID.match(owner_id):
            raise ValueError("a Zoho user id is digits")
        return await self._search(connection, page, per_page, counted, criteria=f"(Owner:equals:{owner_id})")

    async def search_leads(
        self, connection: CrmConnection, words: str, page: int = 1, per_page: int = 10, *, by_email: bool = False
    ) -> RecordPage:
        """One page of the Leads matching `words` (`by_email`: `words` is an e-mail address, searched among
        e-mails; one CJK character: searched in the name fields; else a word search over all fields). Raises
        SearchRejected for fewer than 2 characters otherwise."""
        query = " ".join(words.split())
        if by_email:
            return await self._search(connection, page, per_page, True, email=query)
        if len(query) == 1 and _is_cjk(query):
            escaped = query.translate(_SEARCH_ESCAPES)
            criteria = "(" + "or".join(f"({name}:equals:{escaped})" for name in NAME_FIELDS) + ")"
            return await self._search(connection, page, per_page, True, criteria=criteria)
        if len(query) < 2:
            raise SearchRejected(words)
        return await self._search(connection, page, per_page, True, word=query.translate(_SEARCH_ESCAPES))

    async def _search(
        self, connection: CrmConnection, page: int, per_page: int, counted: bool, **by: str
    ) -> RecordPage:
        """One page of `GET /Leads/search` with one of `criteria`, `email` or `word` (and its count, if `counted`)."""
        page, per_page = max(1, page), min(max(1, per_page), 200)
        ((kind, value),) = by.items()
        search_param, count_param = getattr(SearchRecordsParam, kind), getattr(RecordCountParam, kind)

        def work() -> RecordPage:
            params = ParameterMap()
            params.add(search_param, value)
            params.add(SearchRecordsParam.fields, ",".join(LIST_FIELDS))
            params.add(SearchRecordsParam.page, page)
            params.add(SearchRecordsParam.per_page, per_page)
            found = self._page(RecordOperations(MODULE).search_records(params), "search")
            return self._counted(found, (lambda count: count.add(count_param, value)) if counted else None)

        return await self._run(connection, "search", work)

    async def update_lead(
        self, connection: CrmConnection, lead_id: str, values: Mapping[str, str], known: DataTypes
    ) -> CrmRecord:
        """Change only these fields of the Lead ("" clears a field); the whole record as it is afterwards.

        Raises LeadNotFound, and the errors of create_lead.
        """
        _check_lead_id(lead_id)
        values = dict(values)

        def work() -> CrmRecord:
            if values:
                body = BodyWrapper()
                body.set_data([to_record(values, known, creating=False)])
                response = RecordOperations(MODULE).update_record(int(lead_id), body)
                outcomes.action_details(response, operation="update", values=values, lead_id=lead_id)
            return self._fetch(lead_id)

        return await self._run(connection, "update", work)

    async def delete_lead(self, connection: CrmConnection, lead_id: str) -> None:
        """Delete the Lead. Raises LeadNotFound, NoPermission, and the errors of create_lead."""
        _check_lead_id(lead_id)

        def work() -> None:
            response = RecordOperations(MODULE).delete_record(int(lead_id))
            outcomes.action_details(response, operation="delete", lead_id=lead_id)

        await self._run(connection, "delete", work)


def _is_cjk(character: str) -> bool:
    """A Chinese, Japanese or Korean character (one alone is a whole name)."""
    return unicodedata.name(character, "").startswith(_CJK_SCRIPTS)


def _check_lead_id(lead_id: str) -> None:
    """Zoho record ids are digits; anything else cannot be a Lead (and must never reach a URL path)."""
    if not isinstance(lead_id, str) or not _LEAD_ID.match(lead_id):
        raise LeadNotFound(str(lead_id))
