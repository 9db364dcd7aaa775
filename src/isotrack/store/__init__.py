"""Storage of the course records: SQLite (embedded default) or PostgreSQL.

Public API:

- :func:`create_engine_for` — an Engine for a URL (SQLite: WAL, foreign keys,
  busy timeout, ``synchronous=FULL``, ``BEGIN IMMEDIATE``; PostgreSQL: psycopg 3).
- :func:`upgrade`, :func:`downgrade`, :func:`current_revision`,
  :func:`head_revision`, :func:`require_current_schema` — Alembic migrations.
- :class:`UnitOfWork` — one transaction, with ``.patients``
  (:class:`PatientRepository`) and ``.audit`` (:class:`AuditTrail`).
- :func:`execute`, :func:`read_record`, :func:`read_history`,
  :func:`patient_ids` — the use cases, each one audited transaction;
  :func:`execute_many` — a batch of :class:`PendingCommand` (an import) in one.
- :func:`read_clinic_settings`, :func:`save_clinic_settings` — the clinic's name,
  numbers and country (one row, each change audited).
- :func:`read_records` — every record, an :class:`UnreadableRecord` (audited
  ``read-failed``) in place of one that cannot be read back;
  :func:`read_checked` — one record and its log, refused with
  UnreadableRecordError (audited ``read-failed``) when it cannot be read back;
  :func:`unreadable_records` lists those for ``isotrack doctor``.
- :func:`verify_audit` → :class:`AuditVerification` — check the hash chains.
- :func:`backup`, :func:`restore` — SQLite online backup or portable JSON.

Errors: :class:`~isotrack.errors.ConflictError` (someone else changed the
record first), :class:`~isotrack.errors.StorageError` (database unreachable,
busy, or at the wrong schema), :class:`~isotrack.errors.NotFoundError`, and the
domain's :class:`~isotrack.errors.CommandRejected`.
"""

from __future__ import annotations

from isotrack.store.audit import AuditEntry, AuditTrail
from isotrack.store.backup import backup, export_tables, import_tables, restore, row_counts
from isotrack.store.clinic import ClinicSettings, read_clinic_settings, save_clinic_settings
from isotrack.store.db import backend_of, create_engine_for
from isotrack.store.migrate import (
    current_revision,
    downgrade,
    head_revision,
    require_current_schema,
    upgrade,
)
from isotrack.store.records import (
    UnreadableRecord,
    read_checked,
    read_records,
    unreadable_records,
)
from isotrack.store.repository import PatientRepository, StoredCommand
from isotrack.store.service import (
    PendingCommand,
    execute,
    execute_many,
    patient_ids,
    read_histories_for_summary,
    read_history,
    read_record,
)
from isotrack.store.unit_of_work import UnitOfWork
from isotrack.store.verification import AuditVerification, verify_audit

__all__ = [
    "AuditEntry",
    "AuditTrail",
    "AuditVerification",
    "ClinicSettings",
    "PatientRepository",
    "PendingCommand",
    "StoredCommand",
    "UnitOfWork",
    "UnreadableRecord",
    "backend_of",
    "backup",
    "create_engine_for",
    "current_revision",
    "downgrade",
    "execute",
    "execute_many",
    "export_tables",
    "head_revision",
    "import_tables",
    "patient_ids",
    "read_checked",
    "read_clinic_settings",
    "read_histories_for_summary",
    "read_history",
    "read_record",
    "read_records",
    "require_current_schema",
    "restore",
    "row_counts",
    "save_clinic_settings",
    "unreadable_records",
    "upgrade",
    "verify_audit",
]
