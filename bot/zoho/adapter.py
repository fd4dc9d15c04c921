"""`ZohoCrm`: the connected user's Lead records in Zoho CRM, through the official SDK, from asyncio code.

The SDK is synchronous and keeps its current user in a thread-local, so every call runs as one job in a
bounded thread pool, and each job first switches its thread to the connection it was given
(`sdk_runtime.act_as`) and forgets it afterwards. Every job is bounded twice: on the asyncio side by
`call_timeout` (the caller gets ZohoTimeout; a job still queued is cancelled), and on the socket by
`connect_timeout`/`read_timeout`, applied to every HTTP call the SDK makes, token refreshes included
(`http_bounds`), so a hung Zoho frees the worker thread after at most `read_timeout` of silence.

Reads return plain `CrmRecord`/`RecordPage` values; failures raise the CrmErrors of `bot.zoho.errors`.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from zohocrmsdk.src.com.zoho.api.authenticator.store.token_store import TokenStore
from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.exception.sdk_exception import SDKException
from zohocrmsdk.src.com.zoho.crm.api.fields import FieldsOperations, GetFieldsParam
from zohocrmsdk.src.com.zoho.crm.api.record import BodyWrapper, GetRecordsParam, RecordOperations, SearchRecordsParam

from bot.zoho import outcomes, sdk_runtime
from bot.zoho.connection import CrmConnection
from bot.zoho.errors import CrmBusy, FieldRejected, LeadNotFound, SearchRejected, ZohoTimeout
from bot.zoho.records import LIST_FIELDS, CrmRecord, DataTypes, RecordPage, from_record, to_record

log = logging.getLogger(__name__)

T = TypeVar("T")
MODULE = "Leads"
_LEAD_ID = re.compile(r"[0-9]{1,30}\Z")
_SEARCH_ESCAPES = str.maketrans({"\\": "\\\\", ",": "\\,", "(": "\\(", ")": "\\)"})
FIELD_LIST_TTL = 600.0


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
    ) -> None:
        """`resource_path` is where the SDK caches field metadata, per Zoho org (created if missing; may be shared by
        the processes of a machine and kept across restarts: files two periods old are removed here).

        `call_timeout` bounds a call from the moment it is asked for, waiting included. One user holds at most
        `jobs_per_user` of the `max_workers` threads, so a user whose calls hang (a slow org, a hung Zoho
        data centre) cannot take the pool from everyone else.
        """
        os.makedirs(resource_path, exist_ok=True)
        resource_path = os.path.abspath(resource_path)
        sdk_runtime.ensure_initialized(resource_path, sdk_log_level)
        sdk_runtime.remove_old_field_files(resource_path, time.time())
        self.resource_path = resource_path
        self._settings = sdk_runtime.SdkSettings(token_store, resource_path, connect_timeout, read_timeout)
        self._call_timeout = call_timeout
        self._executor = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="zoho-crm", initializer=sdk_runtime.leave
        )
        self._jobs_per_user = max(1, min(jobs_per_user, max_workers))
        self._user_slots: dict[str, asyncio.Semaphore] = {}
        self._field_lists: dict[tuple[str, str], tuple[float, dict[str, tuple[bool, str]]]] = {}
        self._field_lists_lock = threading.Lock()

    # ----- running jobs ------------------------------------------------------------------------------------

    def _job(self, connection: CrmConnection, operation: str, work: Callable[[], T]) -> T:
        try:
            sdk_runtime.act_as(connection, self._settings)
            return work()
        except SDKException as error:
            raise outcomes.from_sdk_exception(
                error, operation=operation, read_timeout=self._settings.read_timeout
            ) from None
        finally:
            sdk_runtime.leave()

    async def _run(self, connection: CrmConnection, operation: str, work: Callable[[], T]) -> T:
        started = threading.Event()

        def job() -> T:
            started.set()
            return self._job(connection, operation, work)

        async def queued_and_run() -> T:
            slots = self._user_slots.get(connection.token_id)
            if slots is None:
                slots = self._user_slots[connection.token_id] = asyncio.Semaphore(self._jobs_per_user)
            async with slots:
                future = self._executor.submit(job)
                try:
                    return await asyncio.wrap_future(future)
                except asyncio.CancelledError:
                    future.cancel()  # still queued: it never runs; running: its socket timeouts end it
                    raise

        try:
            return await asyncio.wait_for(queued_and_run(), self._call_timeout)
        except TimeoutError:
            if not started.is_set():
                log.warning("CRM %s not started in %g s: every worker was busy", operation, self._call_timeout)
                raise CrmBusy(self._call_timeout) from None
            raise ZohoTimeout(self._call_timeout) from None

    async def close(self) -> None:
        """Stop taking jobs; cancel queued ones and wait for running ones (bounded by the socket timeouts)."""
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)

    # ----- field names -------------------------------------------------------------------------------------

    def _org_fields(self, connection: CrmConnection) -> dict[str, tuple[bool, str]]:
        """{API name: (read-only, data type)} of the org's Lead fields, cached FIELD_LIST_TTL s (runs in a job)."""
        key = (connection.api_domain, connection.user_signature)
        with self._field_lists_lock:
            cached = self._field_lists.get(key)
        if cached and time.monotonic() - cached[0] < FIELD_LIST_TTL:
            return cached[1]
        params = ParameterMap()
        params.add(GetFieldsParam.module, MODULE)
        answer = outcomes.check_response(FieldsOperations().get_fields(params), operation="read")
        fields: dict[str, tuple[bool, str]] = {}
        for field in (answer.get_fields() if answer is not None else None) or []:
            name = field.get_api_name()
            if name:
                read_only = bool(field.get_read_only() or field.get_field_read_only())
                fields[name] = (read_only, str(field.get_data_type() or ""))
        with self._field_lists_lock:
            self._field_lists[key] = (time.monotonic(), fields)
        return fields

    def _data_types(self, connection: CrmConnection, values: Mapping[str, str], known: DataTypes) -> DataTypes:
        """The data type of every field in `values`: from `known` (the standard fields the caller knows), else
        from the org's field list, refusing names that are not Lead fields of this org (Zoho would silently drop
        them) and fields Zoho fills in itself."""
        custom = [name for name in values if name not in known]
        if not custom:
            return known
        org_fields = self._org_fields(connection)
        for name in custom:
            if name not in org_fields:
                by_lower = {known.lower(): known for known in org_fields if not org_fields[known][0]}
                close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
                suggestion = by_lower[close[0]] if close else None
                raise FieldRejected(name, values[name], "UNKNOWN_FIELD", suggestion=suggestion)
            if org_fields[name][0]:
                raise FieldRejected(name, values[name], "READ_ONLY")
        return {**known, **{name: org_fields[name][1] for name in custom}}

    # ----- Leads ---------------------------------------------------------------------------------------------

    async def create_lead(self, connection: CrmConnection, values: Mapping[str, str], known: DataTypes) -> CrmRecord:
        """Create a Lead with these values ({API name: text}); the record as saved (its new id and the values).
        `known`: the Zoho data types of the standard fields the caller knows; other names are checked against the
        org's field list.

        Raises FieldRejected (nothing saved), NoPermission, ReconnectNeeded, RateLimited, ZohoTimeout
        (it may or may not have been saved), ZohoUnavailable.
        """
        values = dict(values)

        def work() -> CrmRecord:
            data_types = self._data_types(connection, values, known)
            body = BodyWrapper()
            body.set_data([to_record(values, data_types, creating=True)])
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

    async def list_leads(self, connection: CrmConnection, page: int = 1, per_page: int = 10) -> RecordPage:
        """One page of the Leads the user can see in Zoho, newest first."""
        page, per_page = max(1, page), min(max(1, per_page), 200)

        def work() -> RecordPage:
            params = ParameterMap()
            params.add(GetRecordsParam.fields, ",".join(LIST_FIELDS))
            params.add(GetRecordsParam.page, page)
            params.add(GetRecordsParam.per_page, per_page)
            params.add(GetRecordsParam.sort_by, "Created_Time")
            params.add(GetRecordsParam.sort_order, "desc")
            return self._page(RecordOperations(MODULE).get_records(params), "read")

        return await self._run(connection, "read", work)

    async def search_leads(
        self, connection: CrmConnection, words: str, page: int = 1, per_page: int = 10, *, by_email: bool = False
    ) -> RecordPage:
        """One page of the Leads matching `words` (`by_email`: `words` is an e-mail address, searched among
        e-mails; else a word search over all fields). Raises SearchRejected for fewer than 2 characters."""
        query = " ".join(words.split())
        if len(query) < 2:
            raise SearchRejected(words)
        page, per_page = max(1, page), min(max(1, per_page), 200)

        def work() -> RecordPage:
            params = ParameterMap()
            if by_email:
                params.add(SearchRecordsParam.email, query)
            else:
                params.add(SearchRecordsParam.word, query.translate(_SEARCH_ESCAPES))
            params.add(SearchRecordsParam.fields, ",".join(LIST_FIELDS))
            params.add(SearchRecordsParam.page, page)
            params.add(SearchRecordsParam.per_page, per_page)
            return self._page(RecordOperations(MODULE).search_records(params), "search")

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
                data_types = self._data_types(connection, values, known)
                body = BodyWrapper()
                body.set_data([to_record(values, data_types, creating=False)])
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


def _check_lead_id(lead_id: str) -> None:
    """Zoho record ids are digits; anything else cannot be a Lead (and must never reach a URL path)."""
    if not isinstance(lead_id, str) or not _LEAD_ID.match(lead_id):
        raise LeadNotFound(str(lead_id))
