"""The audit trail: who did what to which patient's record, and when.

Every command and every read of a patient's record appends one row, in the
same transaction as the command or read. Rows are chained by SHA-256 (see
:mod:`isotrack.store.hashing`) and numbered 1, 2, 3 ... by the trail itself.
Appends are serialised so two transactions never chain onto the same row: on
PostgreSQL by a transaction-level advisory lock, on SQLite by the write lock
every transaction takes when it begins (``BEGIN IMMEDIATE``, see
:mod:`isotrack.store.db`).

:func:`verify_audit` (in :mod:`isotrack.store.verification`) checks the chain.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from isotrack.store.hashing import GENESIS, JsonValue, audit_fields, canonical_json, chain
from isotrack.store.models import AuditRow

AUDIT_LOCK_KEY = 0x15071A0D17
"""PostgreSQL advisory lock key held while a row is appended ("isotrack audit")."""

COMMAND_ACTION_PREFIX = "command:"
REJECTED_ACTION_PREFIX = "rejected:"
READ_ACTION = "read"
SUMMARY_READ_ACTION = "read:summary"
"""Every record read for one figure about the whole clinic (one row, not one per record)."""
READ_FAILED_ACTION = "read-failed"
"""A patient's record could not be read back (its detail says which command and why)."""
FEEDBACK_ACTION_PREFIX = "cds-feedback:"

CLINICAL_DETAIL: Mapping[str, frozenset[str]] = {
    REJECTED_ACTION_PREFIX: frozenset({"command", "reason"}),
    FEEDBACK_ACTION_PREFIX: frozenset({"comment"}),
}
"""The keys of an audit row's detail that hold clinical data, by action prefix: a
refused command's payload and the reason it was refused (which names its values),
a clinician's comment on a CDS card. Only roles with clinical read rights see them
(``GET /api/v1/patients/{id}/refused-commands``); the audit trail as an admin
reads it withholds them (:func:`without_clinical_detail`)."""
WITHHELD_KEY = "withheld"


def without_clinical_detail(action: str, detail: str) -> str:
    """The detail (canonical JSON) with its clinical keys removed, and the names of
    those keys under ``withheld``; unchanged when it holds none.

    >>> without_clinical_detail("rejected:RecordWeight", '{"command":"{}","field":"on"}')
    '{"field":"on","withheld":["command"]}'
    >>> without_clinical_detail("read", '{"version":3}')
    '{"version":3}'
    """
    keys = next((k for prefix, k in CLINICAL_DETAIL.items() if action.startswith(prefix)), None)
    if keys is None:
        return detail
    parsed = json.loads(detail)
    withheld = sorted(keys & parsed.keys())
    if not withheld:
        return detail
    kept = {name: value for name, value in parsed.items() if name not in keys}
    return canonical_json(kept | {WITHHELD_KEY: withheld})


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit row as read back."""

    id: int
    at: datetime
    actor: str
    action: str
    patient_id: str | None
    detail: Mapping[str, Any]
    before_hash: str | None
    after_hash: str | None
    row_hash: str


class AuditTrail:
    """The audit trail as seen from one unit of work (one transaction)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def append(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        patient_id: str | None = None,
        detail: Mapping[str, JsonValue] | None = None,
        before_hash: str | None = None,
        after_hash: str | None = None,
    ) -> int:
        """Append one row chained to the last one; returns its id."""
        self._lock()
        last = self._session.execute(
            select(AuditRow.id, AuditRow.row_hash).order_by(AuditRow.id.desc()).limit(1)
        ).one_or_none()
        row_id, prev_hash = (1, GENESIS) if last is None else (last[0] + 1, last[1])
        detail_text = canonical_json(detail or {})
        fields = audit_fields(
            id_=row_id,
            at=at,
            actor=actor,
            action=action,
            patient_id=patient_id,
            detail=detail_text,
            before_hash=before_hash,
            after_hash=after_hash,
        )
        self._session.execute(
            insert(AuditRow).values(
                id=row_id,
                at=at,
                actor=actor,
                action=action,
                patient_id=patient_id,
                detail=detail_text,
                before_hash=before_hash,
                after_hash=after_hash,
                prev_hash=prev_hash,
                row_hash=chain(prev_hash, fields),
            )
        )
        return row_id

    def entries(self, patient_id: str | None = None) -> list[AuditEntry]:
        """The rows in order, all of them or one patient's."""
        query = select(AuditRow).order_by(AuditRow.id)
        if patient_id is not None:
            query = query.where(AuditRow.patient_id == patient_id)
        return [
            AuditEntry(
                id=row.id,
                at=row.at,
                actor=row.actor,
                action=row.action,
                patient_id=row.patient_id,
                detail=json.loads(row.detail),
                before_hash=row.before_hash,
                after_hash=row.after_hash,
                row_hash=row.row_hash,
            )
            for row in self._session.scalars(query)
        ]

    def _lock(self) -> None:
        if self._session.get_bind().dialect.name == "postgresql":
            self._session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY}
            )
