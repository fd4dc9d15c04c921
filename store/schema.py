"""Which schema version a database has, and the ordered steps that bring it to the newest one.

`open_schema` runs at every start. It takes a database-wide lock (store.locks.named_lock), so two processes
starting at once apply each step exactly once; a step already recorded in `schema_version` is skipped, so
re-opening is a no-op. Steps only ever get appended: a later step alters what an earlier one created
(playhouse.migrate), it never edits an earlier step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from peewee import BigIntegerField, CharField, TextField
from playhouse.migrate import SchemaMigrator, migrate

from store.crypto import TokenCipher
from store.database import StoreDatabase
from store.errors import StoreConfigError
from store.keys import check_key
from store.locks import named_lock

log = logging.getLogger(__name__)

_SCHEMA_LOCK_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[StoreDatabase], None]


def _create_tables(database: StoreDatabase) -> None:
    models = database.models
    database.db.create_tables(
        [models.meta, models.connection, models.login_state, models.audit, models.pending_revocation],
        safe=True,
    )


def _create_seen_requests(database: StoreDatabase) -> None:
    database.db.create_tables([database.models.seen_request], safe=True)


def _login_state_purposes(database: StoreDatabase) -> None:
    """Login states learn what they open (a login, or the undo of one connection) and when they were voided.

    Step 1 creates tables from today's models, so on a new database these columns are there already: only the
    missing ones are added.
    """
    table = database.models.login_state._meta.table_name
    present = {column.name for column in database.db.get_columns(table)}
    wanted = {
        "purpose": CharField(max_length=16, default="login"),
        "connection_id": BigIntegerField(null=True),
        "refresh_token_hash": CharField(max_length=64, null=True),
        "voided_at_ms": BigIntegerField(null=True),
    }
    migrator = SchemaMigrator.from_database(database.db)
    steps = [migrator.add_column(table, name, field) for name, field in wanted.items() if name not in present]
    if not any(index.columns == ["team_id", "user_id"] for index in database.db.get_indexes(table)):
        steps.append(migrator.add_index(table, ("team_id", "user_id"), False))
    if steps:
        with database.db.atomic():
            migrate(*steps)


def _login_state_messages_and_commands(database: StoreDatabase) -> None:
    """Login states learn where their link's message is, and the command that waits for the login.

    As in step 2, a database created by step 1 from today's models has them already: only missing ones are added.
    """
    table = database.models.login_state._meta.table_name
    present = {column.name for column in database.db.get_columns(table)}
    wanted = {
        "dm_channel": CharField(max_length=64, null=True),
        "dm_ts": CharField(max_length=32, null=True),
        "command_enc": TextField(null=True),
        "resume_hash": CharField(max_length=64, null=True),
        "resume_expires_at_ms": BigIntegerField(null=True),
        "resume_used_at_ms": BigIntegerField(null=True),
    }
    migrator = SchemaMigrator.from_database(database.db)
    steps = [migrator.add_column(table, name, field) for name, field in wanted.items() if name not in present]
    if not any(index.columns == ["resume_hash"] for index in database.db.get_indexes(table)):
        steps.append(migrator.add_index(table, ("resume_hash",), False))
    if steps:
        with database.db.atomic():
            migrate(*steps)


def _create_org_slots(database: StoreDatabase) -> None:
    database.db.create_tables([database.models.org_slot, database.models.org_lease], safe=True)


def _create_org_tickets(database: StoreDatabase) -> None:
    database.db.create_tables([database.models.org_ticket], safe=True)


def _create_org_fields(database: StoreDatabase) -> None:
    database.db.create_tables([database.models.org_fields], safe=True)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "zoho connections, login states, audit trail, pending revocations, store meta", _create_tables),
    Migration(2, "login states: purpose, undo binding, voided", _login_state_purposes),
    Migration(3, "signatures of accepted Slack requests, to refuse replays", _create_seen_requests),
    Migration(
        4,
        "login states: where the link was sent, the command waiting for the login",
        _login_state_messages_and_commands,
    ),
    Migration(5, "Leads field metadata per Zoho org, shared by every replica", _create_org_fields),
    Migration(6, "Zoho calls in flight per org, as leases that expire", _create_org_slots),
    Migration(7, "Zoho calls waiting for a slot of a busy org, in line, as tickets that expire", _create_org_tickets),
)

# By number, not by place: steps written on two branches at once may be merged in either order.
LATEST_VERSION = max(migration.version for migration in MIGRATIONS)


def open_schema(database: StoreDatabase, cipher: TokenCipher) -> int:
    """Apply the missing migration steps and check the key; return the schema version now in place.

    Raises StoreConfigError when the database was written by a newer version of this code, or when the
    key does not fit it (store.keys.check_key).
    """
    version_table = database.models.schema_version
    with named_lock(database, "schema", timeout=_SCHEMA_LOCK_TIMEOUT_S):
        database.db.create_tables([version_table], safe=True)
        applied = {row.version for row in version_table.select()}
        if applied and max(applied) > LATEST_VERSION:
            raise StoreConfigError(
                f"the database at DATABASE_URL has schema version {max(applied)}, newer than this "
                f"program's {LATEST_VERSION}: upgrade the program"
            )
        missing = sorted((step for step in MIGRATIONS if step.version not in applied), key=lambda step: step.version)
        for migration in missing:
            migration.apply(database)
            version_table.insert(
                version=migration.version,
                description=migration.description,
                applied_at_ms=database.now_ms(),
            ).execute()
        if missing:
            log.info(
                "database schema %s: version %d (%s)",
                f"upgraded from version {max(applied)}" if applied else "created",
                LATEST_VERSION,
                "; ".join(f"{step.version}: {step.description}" for step in missing),
            )
        check_key(database, cipher)
    return LATEST_VERSION
