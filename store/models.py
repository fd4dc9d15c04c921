"""The tables of the token store, as Peewee models.

The classes below describe the schema. Each store binds its own copies to its own database (`bind_models`),
so two stores in one process (tests, a bench, two replicas) never share a connection by accident.
All times are integer epoch milliseconds: the same on SQLite, PostgreSQL and MySQL, and exact.
Columns ending in `_enc` hold Fernet ciphertext; columns ending in `_hash` hold keyed hashes (store.crypto).
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import (
    SQL,
    AutoField,
    BigIntegerField,
    CharField,
    Database,
    DatabaseProxy,
    IntegerField,
    Model,
    MySQLDatabase,
    TextField,
)


class _Row(Model):
    class Meta:
        legacy_table_names = False


class ConnectionRow(_Row):
    """One Zoho connection: a token set plus whose it is (chat identity, Zoho user, org, data centre).

    `team_id`/`user_id` are NULL for tokens the SDK saved on its own (Initializer outside the bot).
    """

    id = AutoField()
    team_id = CharField(max_length=64, null=True)
    user_id = CharField(max_length=64, null=True)
    user_signature = CharField(max_length=255, null=True, unique=True)
    zoho_email = CharField(max_length=320, null=True)
    zoho_user_id = CharField(max_length=64, null=True)
    org_id = CharField(max_length=64, null=True)
    org_name = CharField(max_length=255, null=True)
    location = CharField(max_length=16, null=True)
    accounts_server = CharField(max_length=255, null=True)
    api_domain = CharField(max_length=255, null=True)
    redirect_url = TextField(null=True)
    client_id = CharField(max_length=255, null=True)
    client_secret_enc = TextField(null=True)
    refresh_token_enc = TextField(null=True)
    refresh_token_hash = CharField(max_length=64, null=True, index=True)
    access_token_enc = TextField(null=True)
    access_token_hash = CharField(max_length=64, null=True, index=True)
    grant_token_enc = TextField(null=True)
    grant_token_hash = CharField(max_length=64, null=True, index=True)
    access_expires_at_ms = BigIntegerField(null=True)
    created_at_ms = BigIntegerField()
    updated_at_ms = BigIntegerField()

    class Meta:
        table_name = "zoho_connections"
        indexes = ((("team_id", "user_id"), True),)


class LoginStateRow(_Row):
    """A single-use value sent to one chat identity, kept only as a keyed hash.

    `purpose` says what it opens: "login" (a login link) or "undo" (disconnect the one connection a login just
    made: `connection_id` and that connection's `refresh_token_hash` at the time, so a newer login is out of its
    reach). `voided_at_ms` is set when the person connected or logged out after it was issued, or was sent a newer
    login link. `dm_channel`/`dm_ts` say where the link's message is, so a newer link can take it down.
    `command_enc` is the command the person typed when the link was sent instead of running it; after the login,
    `resume_hash` (a keyed hash of the one-off id the "run it now" button carries) opens it once, until
    `resume_expires_at_ms`; `resume_used_at_ms` records that it was.
    """

    id = AutoField()
    state_hash = CharField(max_length=64, unique=True)
    team_id = CharField(max_length=64)
    user_id = CharField(max_length=64)
    created_at_ms = BigIntegerField()
    expires_at_ms = BigIntegerField(index=True)
    used_at_ms = BigIntegerField(null=True)
    purpose = CharField(max_length=16, default="login")
    connection_id = BigIntegerField(null=True)
    refresh_token_hash = CharField(max_length=64, null=True)
    voided_at_ms = BigIntegerField(null=True)
    dm_channel = CharField(max_length=64, null=True)
    dm_ts = CharField(max_length=32, null=True)
    command_enc = TextField(null=True)
    resume_hash = CharField(max_length=64, null=True, index=True)
    resume_expires_at_ms = BigIntegerField(null=True)
    resume_used_at_ms = BigIntegerField(null=True)

    class Meta:
        table_name = "login_states"
        indexes = ((("team_id", "user_id"), False),)


class AuditRow(_Row):
    """Who logged in, out or revoked whom, and how it went."""

    id = AutoField()
    team_id = CharField(max_length=64)
    actor_user_id = CharField(max_length=64)
    action = CharField(max_length=16)
    subject_user_id = CharField(max_length=64, null=True)
    zoho_email = CharField(max_length=320, null=True)
    outcome = CharField(max_length=64)
    detail = TextField()
    created_at_ms = BigIntegerField()

    class Meta:
        table_name = "audit_entries"
        indexes = ((("team_id", "id"), False),)


class PendingRevocationRow(_Row):
    """A refresh token still to be revoked at Zoho (Zoho could not be reached when it was forgotten)."""

    id = AutoField()
    refresh_token_enc = TextField()
    refresh_token_hash = CharField(max_length=64, index=True)
    accounts_server = CharField(max_length=255)
    team_id = CharField(max_length=64, null=True)
    subject_user_id = CharField(max_length=64, null=True)
    attempts = IntegerField(default=0)
    next_attempt_at_ms = BigIntegerField(index=True)
    last_error = TextField(default="")
    created_at_ms = BigIntegerField()

    class Meta:
        table_name = "pending_revocations"


class SeenRequestRow(_Row):
    """A Slack request already accepted, by a hash of its signature, kept while a replay would still be fresh.

    The unique key is what refuses a replay: a second insert of the same hash fails on any database, at once.
    """

    id = AutoField()
    signature_hash = CharField(max_length=64, unique=True)
    expires_at_ms = BigIntegerField(index=True)

    class Meta:
        table_name = "seen_slack_requests"


class OrgSlotRow(_Row):
    """One Zoho org whose calls are counted: the row an acquirer locks while it counts that org's leases."""

    org_key = CharField(max_length=255, primary_key=True)

    class Meta:
        table_name = "zoho_org_slots"


class _OrgClaimRow(_Row):
    """What a process claims of an org, leases and tickets alike: the org, who claims (a process) and until when,
    unless renewed; past `expires_at_ms` it no longer counts, so a killed process's claims lapse by themselves."""

    id = AutoField()
    org_key = CharField(max_length=255)
    holder = CharField(max_length=128)
    expires_at_ms = BigIntegerField()

    class Meta:
        indexes = ((("org_key", "expires_at_ms"), False),)


class OrgLeaseRow(_OrgClaimRow):
    """One Zoho call in flight for an org: a process killed while holding some frees them when they expire."""

    class Meta:
        table_name = "zoho_org_leases"


class OrgTicketRow(_OrgClaimRow):
    """A call waiting for a slot of an org whose slots were all taken: its place in line (`id`, in the order the
    askers came); a process killed while waiting keeps nobody waiting once its tickets expire."""

    class Meta:
        table_name = "zoho_org_tickets"


class LongTextField(TextField):
    """Text of any length: MySQL's TEXT stops at 64 KB, so there it is LONGTEXT; TEXT elsewhere (unbounded)."""

    def ddl_datatype(self, ctx):  # type: ignore[no-untyped-def]
        database = self.model._meta.database
        if isinstance(getattr(database, "obj", database), MySQLDatabase):  # bound through a DatabaseProxy
            return SQL("LONGTEXT")
        return super().ddl_datatype(ctx)


class OrgFieldsRow(_Row):
    """The Leads field metadata of one Zoho org (JSON text, store.org_fields), and when it was fetched."""

    id = AutoField()
    org_key = CharField(max_length=255, unique=True)
    metadata_json = LongTextField()  # an org with many fields and long picklists passes 64 KB
    fetched_at_ms = BigIntegerField()

    class Meta:
        table_name = "org_field_metadata"


class StoreMetaRow(_Row):
    """Facts about the store itself: the key check value, the lookup key's fingerprint."""

    name = CharField(max_length=64, primary_key=True)
    value = TextField()

    class Meta:
        table_name = "store_meta"


class SchemaVersionRow(_Row):
    """One row per applied migration step."""

    version = IntegerField(primary_key=True)
    description = CharField(max_length=255)
    applied_at_ms = BigIntegerField()

    class Meta:
        table_name = "schema_version"


@dataclass(frozen=True)
class StoreModels:
    """The model classes of one store, bound to that store's database."""

    connection: type[ConnectionRow]
    login_state: type[LoginStateRow]
    audit: type[AuditRow]
    pending_revocation: type[PendingRevocationRow]
    meta: type[StoreMetaRow]
    schema_version: type[SchemaVersionRow]
    seen_request: type[SeenRequestRow]
    org_slot: type[OrgSlotRow]
    org_lease: type[OrgLeaseRow]
    org_ticket: type[OrgTicketRow]
    org_fields: type[OrgFieldsRow]

    def all(self) -> list[type[Model]]:
        """Every table, in creation order."""
        return [
            self.schema_version,
            self.meta,
            self.connection,
            self.login_state,
            self.audit,
            self.pending_revocation,
            self.seen_request,
            self.org_slot,
            self.org_lease,
            self.org_ticket,
            self.org_fields,
        ]


def bind_models(database: Database | DatabaseProxy, *, table_settings: list[str] | None = None) -> StoreModels:
    """Return copies of the models bound to `database` (`table_settings`: e.g. MySQL's charset clause)."""

    def bound(model: type[Model]) -> type:
        meta_attrs: dict[str, object] = {"database": database, "table_name": model._meta.table_name}
        if table_settings:
            meta_attrs["table_settings"] = table_settings
        meta = type("Meta", (), meta_attrs)
        return type(model.__name__, (model,), {"Meta": meta, "__module__": __name__})

    return StoreModels(
        connection=bound(ConnectionRow),
        login_state=bound(LoginStateRow),
        audit=bound(AuditRow),
        pending_revocation=bound(PendingRevocationRow),
        meta=bound(StoreMetaRow),
        schema_version=bound(SchemaVersionRow),
        seen_request=bound(SeenRequestRow),
        org_slot=bound(OrgSlotRow),
        org_lease=bound(OrgLeaseRow),
        org_ticket=bound(OrgTicketRow),
        org_fields=bound(OrgFieldsRow),
    )


def row_key(row_id: str | int | None) -> int | None:
    """The integer key of a row id given as a string (the SDK's ids are strings); None if it is not one."""
    if row_id is None:
        return None
    text = str(row_id).strip()
    if not text.isdigit() or len(text) > 18:
        return None
    return int(text)
