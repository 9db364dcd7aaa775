"""Records that cannot be read back, and reading every record despite them.

A record whose log holds a command that no longer decodes (a value stored as
``null`` where a number belongs), that the door would refuse today (a NUL or a
line break in a name, a date out of range, stored before the door existed), or
that does not replay, is *unreadable*. One unreadable record never takes down a
page of many: :func:`read_records` returns an :class:`UnreadableRecord` in its
place (the clinic dashboard shows it as an error row) and writes
``read-failed`` to the audit trail; :func:`read_checked` reads one record (a
patient's page, the API's GET) and refuses an unreadable one with
:class:`~isotrack.errors.UnreadableRecordError`, audited the same way;
:func:`unreadable_records` lists them all for ``isotrack doctor``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import msgspec
from sqlalchemy import Engine

from isotrack.clinical.record import PatientRecord, replay
from isotrack.clinical.state import decode_command, storable_problem
from isotrack.errors import (
    CommandRejected,
    InvalidInputError,
    NotFoundError,
    StorageError,
    UnreadableRecordError,
)
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.audit import READ_ACTION, READ_FAILED_ACTION
from isotrack.store.repository import StoredCommand
from isotrack.store.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class UnreadableRecord:
    """A patient whose record cannot be read back, and why (no clinical values)."""

    patient_id: str
    name: str
    reason: str


def read_records(
    engine: Engine, *, actor: str, now: datetime, kb: KnowledgeBase
) -> list[PatientRecord | UnreadableRecord]:
    """Every patient's record in one transaction, each read audited (``read``), or an
    :class:`UnreadableRecord` in its place (audited ``read-failed``), by patient id."""
    require_time_zone(now)
    found: list[PatientRecord | UnreadableRecord] = []
    with UnitOfWork(engine) as uow:
        for patient_id, name in sorted(uow.patients.names().items()):
            loaded = _load(uow, patient_id, name, kb)
            _audit_read(uow, patient_id, loaded, actor=actor, now=now)
            found.append(loaded if isinstance(loaded, UnreadableRecord) else loaded[0])
    return found


def read_checked(
    engine: Engine, patient_id: str, *, actor: str, now: datetime, kb: KnowledgeBase
) -> tuple[PatientRecord, list[StoredCommand]]:
    """One patient's record and command log, the read audited (``read``).

    NotFoundError when there is no such patient; UnreadableRecordError when the record
    cannot be read back (audited ``read-failed`` with the reason, as on the dashboard).
    """
    require_time_zone(now)
    with UnitOfWork(engine) as uow:
        if uow.patients.version(patient_id) == 0:
            raise NotFoundError(f"no patient {patient_id!r}")  # never the database URL
        loaded = _load(uow, patient_id, "", kb)
        _audit_read(uow, patient_id, loaded, actor=actor, now=now)
    if isinstance(loaded, UnreadableRecord):
        raise UnreadableRecordError(patient_id, loaded.reason)
    return loaded


def require_time_zone(now: datetime) -> None:
    """ValueError for a naive ``now``: every audited time is an aware one."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now={now.isoformat()} has no time zone: pass an aware datetime")


def _audit_read(
    uow: UnitOfWork,
    patient_id: str,
    loaded: tuple[PatientRecord, list[StoredCommand]] | UnreadableRecord,
    *,
    actor: str,
    now: datetime,
) -> None:
    record_hash = uow.patients.record_hash(patient_id)
    failed = isinstance(loaded, UnreadableRecord)
    uow.audit.append(
        at=now,
        actor=actor,
        action=READ_FAILED_ACTION if failed else READ_ACTION,
        patient_id=patient_id,
        detail=(
            {"reason": loaded.reason}
            if isinstance(loaded, UnreadableRecord)
            else {"version": len(loaded[1])}
        ),
        before_hash=record_hash,
        after_hash=record_hash,
    )


def unreadable_records(engine: Engine, kb: KnowledgeBase) -> list[UnreadableRecord]:
    """Every record that cannot be read back (``isotrack doctor``), by patient id."""
    with UnitOfWork(engine) as uow:
        loaded = [
            _load(uow, patient_id, name, kb)
            for patient_id, name in sorted(uow.patients.names().items())
        ]
    return [record for record in loaded if isinstance(record, UnreadableRecord)]


def _load(
    uow: UnitOfWork, patient_id: str, name: str, kb: KnowledgeBase
) -> tuple[PatientRecord, list[StoredCommand]] | UnreadableRecord:
    try:
        history = uow.patients.history(patient_id)
    except StorageError as error:
        return UnreadableRecord(patient_id, name, error.message)
    problem = _first_unstorable(history)
    if problem is not None:
        return UnreadableRecord(patient_id, name, problem)
    try:
        record = replay(((stored.command, stored.recorded_on) for stored in history), kb=kb)
    except (CommandRejected, NotFoundError) as error:
        # The reason is audited: it names the kind of refusal and the field, never a value.
        field = f", field {error.field}" if isinstance(error, CommandRejected) else ""
        reason = (
            f"the record does not replay from its {len(history)} commands ({error.code}{field})"
        )
        return UnreadableRecord(patient_id, name, reason)
    return record, history


def _first_unstorable(history: Sequence[StoredCommand]) -> str | None:
    for stored in history:
        problem = storable_problem(stored.command)
        if problem is not None:
            field, why = problem
            kind = type(stored.command).__name__
            return f"command {stored.seq} ({kind}), field {field}: {why}"
    return None


def check_restored_commands(rows: Iterable[tuple[str, int, str]]) -> None:
    """InvalidInputError (naming the patient, command and field) for the first
    ``(patient_id, seq, payload)`` of a backup that could not be read back: a restore
    refuses it before anything is written."""
    for patient_id, seq, payload in rows:
        try:
            problem = storable_problem(decode_command(payload))
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            problem = ("payload", f"does not decode ({error})")
        if problem is not None:
            field, why = problem
            raise InvalidInputError(
                f"patient {patient_id}, command {seq}, {field}",
                f"{why}; the backup cannot be restored as it is, nothing was written",
            )
