"""`LeadService`: the Leads of one connected person, whoever asks (a command, a button, a form).

It knows no Slack and no SDK. Every operation checks what it is given before anything reaches Zoho, makes sure
the connection's access token is fresh first (`TokenRefresher`, single-flight across tasks and replicas), runs
the Zoho call as that connection, and when Zoho rejects the access token anyway it refreshes once and tries
again (a rejected token never wrote anything).

What can go wrong is one vocabulary: the CrmErrors of `bot.zoho.errors` (ReconnectNeeded when Zoho refuses
the connection's tokens for good), `store.NotConnected` when the connection is gone (logged out or revoked
meanwhile), and `InvalidLead` for values refused before any call.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from bot.leads import fields
from bot.leads.fields import FieldKind, OrgFields
from bot.leads.model import PER_PAGE, FieldChange, Lead, LeadPage, LeadQuery, ListScope
from bot.leads.org_fields import OrgFieldBook
from bot.leads.validation import InvalidLead, is_email, prepare_values
from bot.leads.values import Clock, utc_now
from bot.zoho import (
    CrmConnection,
    CrmRecord,
    FieldRejected,
    LeadNotFound,
    ReconnectNeeded,
    RecordPage,
    ZohoCrm,
    ZohoUnavailable,
)
from bot.zoho.metadata import LeadMetadata
from oauth.accounts_client import ZohoUnreachable
from oauth.refresh import TokenRefresher, TokenRevoked
from store import Connection

log = logging.getLogger(__name__)

T = TypeVar("T")
# Words that are a Zoho record id: 16 digits or more, which no phone number has (E.164 allows at most 15).
_ID_WORDS = re.compile(r"[0-9]{16,30}\Z")

# Codes after which one refresh may help; a scope mismatch needs a new login.
_RETRY_AFTER_REFRESH = frozenset({"INVALID_TOKEN", "INVALID_OAUTHTOKEN", "AUTHENTICATION_FAILURE", "401"})


class LeadService:
    """List, search, read, create, change and delete the Leads of `connection`, as that Zoho user."""

    def __init__(
        self,
        crm: ZohoCrm,
        refresher: TokenRefresher,
        connection: Connection,
        book: OrgFieldBook | None = None,
        clock: Clock = utc_now,
    ) -> None:
        """`book`: where the org's fields are kept (without one, the standard fields); `clock`: what "today" is."""
        self._crm = crm
        self._refresher = refresher
        self.connection = connection
        self._book = book
        self._clock = clock

    async def fields(self) -> OrgFields:
        """The Leads fields of this person's org (shared by everyone of the org, fetched when stale): what keys,
        values, forms and answers are built from."""
        if self._book is None:
            return OrgFields.standard()
        return await self._book.get(self.connection, self._read_metadata)

    async def known_problems(self, typed: Mapping[str, str], *, creating: bool) -> dict[str, str] | None:
        """What is wrong with `typed` by the org's fields as last read, without asking Zoho: {API name: message}
        (empty when all is fine), or None when no fresh copy of the org's fields is at hand. For checks that must
        answer at once (a form's, before its ack); `create` and `update` check again with the fields they use."""
        org = await self._book.stored(self.connection) if self._book is not None else OrgFields.standard()
        if org is None:
            return None
        try:
            self._prepare(typed, org, creating=creating)
        except InvalidLead as invalid:
            return invalid.errors
        return {}

    async def _read_metadata(self) -> LeadMetadata:
        return await self._call(self._crm.lead_metadata)

    async def list(self, page: int = 1, query: LeadQuery | None = None, *, counted: bool = True) -> LeadPage:
        """One page (10 Leads, newest first) of the Leads the person owns (the default), of every Lead they may
        see, or of those matching words; a Lead id as the words finds that Lead. `counted`: ask Zoho how many
        there are in all when a page follows (one more call; the Home tab's few latest Leads do without)."""
        query = query or LeadQuery()
        if query.scope is ListScope.ALL:
            records = await self._call(lambda c: self._crm.list_leads(c, page=page, per_page=PER_PAGE, counted=counted))
        elif query.scope is ListScope.MINE:
            owner = self._owner_id()
            records = await self._call(
                lambda c: self._crm.owned_leads(c, owner, page=page, per_page=PER_PAGE, counted=counted)
            )
        elif _ID_WORDS.match(query.words):
            return LeadPage(await self._by_id(query.words), 1, False, query, None)
        else:
            words = query.words
            by_email = " " not in words and is_email(words)
            records = await self._call(
                lambda c: self._crm.search_leads(c, words, page=page, per_page=PER_PAGE, by_email=by_email)
            )
        return _page(records, page, query)

    def _owner_id(self) -> str:
        """The person's Zoho user id, stored at login; a connection without one must log in again to have it."""
        owner = self.connection.zoho_user_id or ""
        if not _ID_WORDS.match(owner):
            raise ReconnectNeeded("NO_ZOHO_USER_ID")
        return owner

    async def _by_id(self, lead_id: str) -> tuple[Lead, ...]:
        """The Lead with this id as a list of one, or none."""
        try:
            return (await self.get(lead_id),)
        except LeadNotFound:
            return ()

    async def get(self, lead_id: str) -> Lead:
        """The Lead with this id, all its fields."""
        return _lead(await self._call(lambda c: self._crm.get_lead(c, lead_id)))

    async def create(self, typed: Mapping[str, str]) -> Lead:
        """A new Lead from values by key as typed (short key, alias, label or API name: see `prepare_values`);
        raises InvalidLead before any write when a key or a value is wrong. The Lead's `changes` list every
        field set."""
        org = await self.fields()
        values = self._prepare(typed, org, creating=True)
        record = await self._write(typed, values, org, lambda c, types: self._crm.create_lead(c, values, types))
        lead = _lead(record)
        changes = [_change(org, n, "", lead.get(n) or v) for n, v in values.items() if v]
        return Lead(lead.id, lead.values, changes)

    async def update(self, lead_id: str, typed: Mapping[str, str]) -> Lead:
        """Change only the fields typed ("" clears one); the whole Lead as it is afterwards, whose `changes`
        say old → new for each field that changed (nothing for a field given its current value)."""
        org = await self.fields()
        values = self._prepare(typed, org, creating=False)
        before = await self.get(lead_id) if values else None
        record = await self._write(
            typed, values, org, lambda c, types: self._crm.update_lead(c, lead_id, values, types), creating=False
        )
        after = _lead(record)
        changes = [
            _change(org, n, before.get(n), after.get(n))
            for n in values
            if before is not None and before.get(n) != after.get(n)
        ]
        return Lead(after.id, after.values, changes)

    def _prepare(self, typed: Mapping[str, str], org: OrgFields, *, creating: bool) -> dict[str, str]:
        now = self._clock()  # in the person's time zone when the caller knows it (LeadServices.of)
        return prepare_values(typed, org, creating=creating, today=now.date(), zone=now.tzinfo or datetime.UTC)

    async def _write(
        self,
        typed: Mapping[str, str],
        values: Mapping[str, str],
        org: OrgFields,
        send: Callable[[CrmConnection, dict[str, str]], Awaitable[CrmRecord]],
        *,
        creating: bool = True,
    ) -> CrmRecord:
        """Send `values` (checked from `typed` against `org`) with their Zoho data types. When Zoho refuses a
        field, the org's layout may have changed since we read it: read it again once, and if what was typed is
        wrong by the new one, say so (InvalidLead); else Zoho's refusal stands, named by the org's label."""
        types = _data_types(values, org)
        try:
            return await self._call(lambda c: send(c, types))
        except FieldRejected as rejected:
            if self._book is not None:
                fresh = await self._book.refresh(self.connection, self._read_metadata)
                self._prepare(typed, fresh, creating=creating)  # raises InvalidLead if the new layout refuses them
                org = fresh
            rejected.label = org.label(rejected.api_name) if rejected.api_name else ""
            raise

    async def delete(self, lead_id: str) -> Lead:
        """Delete the Lead and return it as it was: read first, so the answer names what was deleted and a
        mistyped id shows at once whose Lead it was."""
        lead = await self.get(lead_id)
        await self._call(lambda c: self._crm.delete_lead(c, lead_id))
        return lead

    async def _call(self, operation: Callable[[CrmConnection], Awaitable[T]]) -> T:
        """Run one Zoho operation as this connection, its token fresh; refresh once if Zoho rejects it anyway."""
        connection = self.connection
        try:
            target = CrmConnection.of(connection)
        except ValueError:  # a stored connection without its hosts cannot be used
            raise ReconnectNeeded("NO_API_DOMAIN") from None
        try:
            vouched_for = await self._refresher.ensure_fresh(connection)
            try:
                return await operation(target)
            except ReconnectNeeded as rejected:
                if rejected.code not in _RETRY_AFTER_REFRESH:
                    raise
                log.info("access token rejected (%s) connection=%s; refreshing once", rejected.code, connection.id)
                await self._refresher.refresh_rejected(connection, vouched_for)
                return await operation(target)
        except TokenRevoked as revoked:
            raise ReconnectNeeded(revoked.code) from None
        except ZohoUnreachable as unreachable:
            raise ZohoUnavailable(None, str(unreachable)) from None


class LeadServices:
    """Makes the LeadService of a connection: what the Slack layer is given instead of the Zoho parts."""

    def __init__(
        self, crm: ZohoCrm, refresher: TokenRefresher, book: OrgFieldBook | None = None, clock: Clock = utc_now
    ) -> None:
        self._crm = crm
        self._refresher = refresher
        self._book = book
        self._clock = clock

    def of(self, connection: Connection, zone: datetime.tzinfo | None = None) -> LeadService:
        """The Leads of `connection`; `zone`: the person's time zone, when known (what `tomorrow` means)."""
        clock = self._clock if zone is None else (lambda: self._clock().astimezone(zone))
        return LeadService(self._crm, self._refresher, connection, self._book, clock)

    async def warm(self, connection: Connection) -> None:
        """Read the org's fields now (after a login), so the person's first command needs no metadata call;
        a failure only means the first command reads them."""
        try:
            await self.of(connection).fields()
        except Exception as failure:  # noqa: BLE001 - best effort: the first command tries again
            log.info("Leads metadata not read at login (connection=%s): %s", connection.id, type(failure).__name__)


def _data_types(values: Mapping[str, str], org: OrgFields) -> dict[str, str]:
    """{API name: Zoho data type} of the fields set: the org's, else the standard fields' known types."""
    standard = fields.zoho_data_types(values)
    types = {}
    for name in values:
        field = org.get(name)
        types[name] = (field.zoho_type if field is not None else "") or standard.get(name, "text")
    return types


def _change(org: OrgFields, api_name: str, before: str, after: str) -> FieldChange:
    field = org.get(api_name) or fields.field_for(api_name)
    return FieldChange(api_name, org.label(api_name), before, after, field.kind if field else FieldKind.TEXT)


def _lead(record: CrmRecord) -> Lead:
    return Lead(id=record.id, values=record.values)


def _page(records: RecordPage, page: int, query: LeadQuery) -> LeadPage:
    return LeadPage(tuple(map(_lead, records.records)), page, records.has_more, query, records.total)
