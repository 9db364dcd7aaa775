"""Records that cannot be read back, and reading every record despite them.

A record whose log holds a command that no longer decodes (a value stored as
``null`` where a number belongs), that the door would refuse today (a NUL or a
line break in a name, a date out of range, stored before the door existed), or
that does not replay, is *unreadable*. One unreadable record never takes down a
page of many: :func:`read_records` returns an :class:`UnreadableRecord` in its
place (the clinic dashboard shows it as an error row) and writes
``read-failed`` to the audit trail; :func:`unreadable_records` lists them all for
``isotrack doctor``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import msgspec
from sqlalchemy import Engine

from isotrack.clinical.record import PatientRecord, replay
from isotrack.clinical.state import decode_command, storable_problem
from isotrack.errors import CommandRejected, InvalidInputError, NotFoundError, StorageError
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
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now={now.isoformat()} has no time zone: pass an aware datetime")
    found: list[PatientRecord | UnreadableRecord] = []
    with UnitOfWork(engine) as uow:
        for patient_id, name in sorted(uow.patients.names().items()):
            record_hash = uow.patients.record_hash(patient_id)
            loaded = _load(uow, patient_id, name, kb)
            detail = (
                {"reason": loaded.reason}
                if isinstance(loaded, UnreadableRecord)
                else {"version": uow.patients.version(patient_id)}
            )
            uow.audit.append(
                at=now,
                actor=actor,
                action=READ_FAILED_ACTION if isinstance(loaded, UnreadableRecord) else READ_ACTION,
                patient_id=patient_id,
                detail=detail,
                before_hash=record_hash,
                after_hash=record_hash,
            )
            found.append(loaded)
    return found


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
) -> PatientRecord | UnreadableRecord:
    try:
        history = uow.patients.history(patient_id)
    except StorageError as error:
        return UnreadableRecord(patient_id, name, error.message)
    problem = _first_unstorable(history)
    if problem is not None:
        return UnreadableRecord(patient_id, name, problem)
    try:
        return replay(((stored.command, stored.recorded_on) for stored in history), kb=kb)
    except (CommandRejected, NotFoundError) as error:
        # The reason is audited: it names the kind of refusal and the field, never a value.
        field = f", field {error.field}" if isinstance(error, CommandRejected) else ""
        reason = (
            f"the record does not replay from its {len(history)} commands ({error.code}{field})"
        )
        return UnreadableRecord(patient_id, name, reason)


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
