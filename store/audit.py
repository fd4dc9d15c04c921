"""The audit trail: who logged in, out or revoked whom in a workspace, and how it went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from store.clock import datetime_from_ms
from store.database import StoreDatabase

AuditAction = Literal["login", "logout", "revoke", "revoke_all", "uninstall"]
AUDIT_ACTIONS: frozenset[str] = frozenset(get_args(AuditAction))
_MAX_DETAIL = 2000


@dataclass(frozen=True)
class AuditEntry:
    id: str
    team_id: str
    actor_user_id: str
    action: str
    subject_user_id: str | None
    zoho_email: str | None
    outcome: str
    detail: str
    created_at: datetime


class AuditTrail:
    def __init__(self, database: StoreDatabase) -> None:
        self._database = database
        self._row = database.models.audit

    def record(
        self,
        team_id: str,
        actor_user_id: str,
        action: AuditAction,
        subject_user_id: str | None,
        zoho_email: str | None,
        outcome: str,
        detail: str = "",
    ) -> None:
        """Append one entry; raises ValueError for an action outside AUDIT_ACTIONS."""
        if action not in AUDIT_ACTIONS:
            raise ValueError(f"unknown audit action {action!r}; expected one of {sorted(AUDIT_ACTIONS)}")
        row = self._row

        def work() -> None:
            row.insert(
                team_id=team_id,
                actor_user_id=actor_user_id,
                action=action,
                subject_user_id=subject_user_id,
                zoho_email=zoho_email,
                outcome=outcome[:64],
                detail=detail[:_MAX_DETAIL],
                created_at_ms=self._database.now_ms(),
            ).execute()

        self._database.run(work, write=True)

    def list(self, team_id: str, limit: int = 20) -> list[AuditEntry]:
        """The newest `limit` entries of one workspace, newest first."""
        row = self._row

        def work() -> list[AuditEntry]:
            query = row.select().where(row.team_id == team_id).order_by(row.id.desc()).limit(max(0, limit))
            return [
                AuditEntry(
                    id=str(found.id),
                    team_id=found.team_id,
                    actor_user_id=found.actor_user_id,
                    action=found.action,
                    subject_user_id=found.subject_user_id,
                    zoho_email=found.zoho_email,
                    outcome=found.outcome,
                    detail=found.detail,
                    created_at=datetime_from_ms(found.created_at_ms),
                )
                for found in query
            ]

        return self._database.run(work)
