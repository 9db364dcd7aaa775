"""The use cases of the course record, one function each, each one transaction.

A command is checked against the record rebuilt from the patient's log, then
stored with its audit row in the same transaction: both are there, or neither.
A read of a patient's record is audited the same way. A refused command is
audited too (``rejected:<Type>``, with the reason), in a transaction of its own.

``now`` is an aware datetime: the moment recorded in the log and the audit
trail; its calendar day (in its own time zone: pass the clinic's local time) is
the ``today`` the command is validated against.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from isotrack.clinical.commands import AnyCommand, EnrolPatient, command_type, encode_command
from isotrack.clinical.record import PatientRecord, apply, replay
from isotrack.errors import CommandRejected, NotFoundError, StorageError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.audit import COMMAND_ACTION_PREFIX, READ_ACTION, REJECTED_ACTION_PREFIX
from isotrack.store.db import describe
from isotrack.store.repository import StoredCommand
from isotrack.store.unit_of_work import UnitOfWork


def execute(
    engine: Engine,
    patient_id: str,
    command: AnyCommand,
    *,
    actor: str,
    now: datetime,
    kb: KnowledgeBase,
    expected_version: int | None = None,
) -> tuple[PatientRecord, int]:
    """Apply ``command`` to the patient's record and store it; returns the new
    record and version.

    ``expected_version`` is the version the user saw; None means the version
    read in this transaction. ConflictError when another writer got there
    first; CommandRejected (audited) when the record refuses the command.
    """
    _require_time_zone(now)
    try:
        with UnitOfWork(engine) as uow:
            if isinstance(command, EnrolPatient) and command.patient_id != patient_id:
                raise CommandRejected(
                    "patient_id",
                    f"EnrolPatient names patient {command.patient_id} but is given for "
                    f"patient {patient_id}: use the same id",
                )
            history = uow.patients.history(patient_id)
            version = len(history)
            if expected_version is not None:
                uow.patients.require_version(patient_id, expected_version)
            record = _rebuild(patient_id, history, kb) if history else None
            changed = apply(record, command, today=now.date(), kb=kb)
            before = uow.patients.record_hash(patient_id)
            new_version = uow.patients.append(
                patient_id,
                command,
                expected_version=version,
                actor=actor,
                recorded_at=now,
                recorded_on=now.date(),
            )
            uow.audit.append(
                at=now,
                actor=actor,
                action=COMMAND_ACTION_PREFIX + command_type(command),
                patient_id=patient_id,
                detail={"seq": new_version},
                before_hash=before,
                after_hash=uow.patients.record_hash(patient_id),
            )
    except CommandRejected as rejected:
        _audit_rejection(engine, patient_id, command, rejected, actor=actor, now=now)
        raise
    return changed, new_version


def read_record(
    engine: Engine, patient_id: str, *, actor: str, now: datetime, kb: KnowledgeBase
) -> tuple[PatientRecord, int]:
    """The patient's record and its version, the read written to the audit trail."""
    history = read_history(engine, patient_id, actor=actor, now=now)
    return _rebuild(patient_id, history, kb), len(history)


def read_history(
    engine: Engine, patient_id: str, *, actor: str, now: datetime
) -> list[StoredCommand]:
    """The patient's command log (who recorded what, when), the read audited.

    NotFoundError when the patient is not in the database.
    """
    _require_time_zone(now)
    with UnitOfWork(engine) as uow:
        history = uow.patients.history(patient_id)
        if not history:
            raise NotFoundError(f"no patient {patient_id!r} in the database {describe(engine)}")
        record_hash = uow.patients.record_hash(patient_id)
        uow.audit.append(
            at=now,
            actor=actor,
            action=READ_ACTION,
            patient_id=patient_id,
            detail={"version": len(history)},
            before_hash=record_hash,
            after_hash=record_hash,
        )
    return history


def patient_ids(engine: Engine) -> list[str]:
    """Every patient in the database (ids only: not a read of anyone's record)."""
    with UnitOfWork(engine) as uow:
        return uow.patients.ids()


def _rebuild(patient_id: str, history: Sequence[StoredCommand], kb: KnowledgeBase) -> PatientRecord:
    try:
        return replay(((stored.command, stored.recorded_on) for stored in history), kb=kb)
    except (CommandRejected, NotFoundError) as error:
        raise StorageError(
            f"the stored record of patient {patient_id} cannot be rebuilt from its "
            f"{len(history)} commands: {error}"
        ) from error


def _audit_rejection(
    engine: Engine,
    patient_id: str,
    command: AnyCommand,
    rejected: CommandRejected,
    *,
    actor: str,
    now: datetime,
) -> None:
    with UnitOfWork(engine) as uow:
        uow.audit.append(
            at=now,
            actor=actor,
            action=REJECTED_ACTION_PREFIX + command_type(command),
            patient_id=patient_id,
            detail={
                "field": rejected.field,
                "reason": rejected.message,
                "command": encode_command(command).decode("utf-8"),
            },
        )


def _require_time_zone(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now={now.isoformat()} has no time zone: pass an aware datetime")
