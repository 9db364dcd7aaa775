"""The use cases of the course record, one function each, each one transaction.

Every command first passes the door (:func:`~isotrack.clinical.state.check_storable`:
finite numbers, text without control characters, dates in a sane range); one
that does not is refused with InvalidInputError before anything is stored or
audited, since its payload could not be stored and read back. It is then
checked against the record rebuilt from the patient's log, then stored with
its audit row in the same transaction: both are there, or neither.
A read of a patient's record is audited the same way. A refused command is
audited too (``rejected:<Type>``, with the reason), in a transaction of its own.

``now`` is an aware datetime: the moment recorded in the log and the audit
trail; its calendar day (in its own time zone: pass the clinic's local time) is
the ``today`` the command is validated against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from isotrack.clinical.record import PatientRecord, apply, replay
from isotrack.clinical.state import (
    AnyCommand,
    EnrolPatient,
    RecordComprehensionAnswers,
    RecordPHQ9,
    check_storable,
    command_type,
    encode_command,
    storable_problem,
)
from isotrack.errors import (
    CommandRejected,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.audit import (
    COMMAND_ACTION_PREFIX,
    READ_ACTION,
    REJECTED_ACTION_PREFIX,
    SUMMARY_READ_ACTION,
)
from isotrack.store.hashing import JsonValue, timestamp_text
from isotrack.store.records import read_checked, require_time_zone
from isotrack.store.repository import StoredCommand
from isotrack.store.unit_of_work import UnitOfWork

_T = TypeVar("_T")


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

    ``expected_version`` is the version the user saw: ConflictError when another
    writer got there first. None means the version read in this transaction: when
    another writer commits first (on PostgreSQL, where transactions run side by
    side) the command is checked again against the new record and retried, up to
    :data:`UNVERSIONED_ATTEMPTS` times. CommandRejected (audited) when the record
    refuses the command; InvalidInputError (not audited) when it cannot pass the door.
    """
    require_time_zone(now)
    check_storable(command)
    return _retried(
        expected_version,
        lambda: _execute_once(engine, patient_id, command, actor, now, kb, expected_version),
    )


UNVERSIONED_ATTEMPTS = 5
"""How often a write that named no version is tried when other writers keep winning."""


def _retried(expected_version: int | None, attempt: Callable[[], _T]) -> _T:
    """``attempt()``, tried again on a ConflictError when no version was named."""
    for _ in range(UNVERSIONED_ATTEMPTS - 1):
        try:
            return attempt()
        except ConflictError:
            if expected_version is not None:
                raise
    return attempt()


def _execute_once(
    engine: Engine,
    patient_id: str,
    command: AnyCommand,
    actor: str,
    now: datetime,
    kb: KnowledgeBase,
    expected_version: int | None,
) -> tuple[PatientRecord, int]:
    try:
        with UnitOfWork(engine) as uow:
            _check_enrolled_id(command, patient_id)
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
                detail=command_detail(command, new_version),
                before_hash=before,
                after_hash=uow.patients.record_hash(patient_id),
            )
    except CommandRejected as rejected:
        _audit_rejection(engine, patient_id, command, rejected, actor=actor, now=now)
        raise
    return changed, new_version


@dataclass(frozen=True, slots=True)
class PendingCommand:
    """A command of a batch, with who recorded it and when (None: the batch's actor
    and moment), as :func:`execute_many` stores it."""

    command: AnyCommand
    actor: str | None = None
    recorded_at: datetime | None = None
    recorded_on: date | None = None
    """The day the command is checked against (its ``today``); None: ``recorded_at``'s day."""


def execute_many(
    engine: Engine,
    patient_id: str,
    commands: Sequence[PendingCommand],
    *,
    actor: str,
    now: datetime,
    kb: KnowledgeBase,
    expected_version: int | None = None,
    also: Callable[[Session, int], None] | None = None,
) -> tuple[PatientRecord | None, int]:
    """Apply and store ``commands`` in order in ONE transaction: all of them, or none.

    Each command is checked against the record as the commands before it left it,
    with its own ``recorded_on`` as ``today``, and stored with its own actor and
    moment (an import keeps the original ones). Each gets its audit row, written by
    ``actor`` at ``now`` (the one who runs the batch); when the command's recorder
    differs, the row's detail names them. ``expected_version``: as for
    :func:`execute`. A refused command rolls the whole batch back and is audited
    as ``rejected:<Type>`` (with its place in the batch); the CommandRejected says
    which command of the batch it was. Returns the record (None for an empty batch
    on a new patient) and the version. ``also(session, first_seq)`` writes what belongs
    with the batch (an EHR sync's provenance) in the same transaction, after it.
    """
    require_time_zone(now)
    _check_batch_storable(commands)
    return _retried(
        expected_version,
        lambda: _execute_many_once(
            engine, patient_id, commands, actor, now, kb, expected_version, also
        ),
    )


def _execute_many_once(
    engine: Engine,
    patient_id: str,
    commands: Sequence[PendingCommand],
    actor: str,
    now: datetime,
    kb: KnowledgeBase,
    expected_version: int | None,
    also: Callable[[Session, int], None] | None = None,
) -> tuple[PatientRecord | None, int]:
    done = 0
    try:
        with UnitOfWork(engine) as uow:
            history = uow.patients.history(patient_id)
            version = len(history)
            if expected_version is not None:
                uow.patients.require_version(patient_id, expected_version)
            record = _rebuild(patient_id, history, kb) if history else None
            first_seq = version + 1
            for pending in commands:
                record, version = _store_one(
                    uow, patient_id, record, version, pending, actor, now, kb
                )
                done += 1
            if also is not None:
                also(uow.session, first_seq)
    except CommandRejected as rejected:
        refused = commands[done].command
        where = f"command {done + 1} of {len(commands)} ({command_type(refused)})"
        _audit_rejection(
            engine, patient_id, refused, rejected, actor=actor, now=now,
            extra={"batch_index": done + 1, "batch_size": len(commands)},
        )  # fmt: skip
        raise CommandRejected(
            rejected.field, f"{where}: {rejected.message}; nothing of the batch was stored"
        ) from rejected
    return record, version


def _store_one(
    uow: UnitOfWork,
    patient_id: str,
    record: PatientRecord | None,
    version: int,
    pending: PendingCommand,
    actor: str,
    now: datetime,
    kb: KnowledgeBase,
) -> tuple[PatientRecord, int]:
    """Check one command of a batch and append it with its audit row."""
    command = pending.command
    _check_enrolled_id(command, patient_id)
    recorded_at = pending.recorded_at or now
    require_time_zone(recorded_at)
    recorded_on = pending.recorded_on or recorded_at.date()
    changed = apply(record, command, today=recorded_on, kb=kb)
    before = uow.patients.record_hash(patient_id)
    new_version = uow.patients.append(
        patient_id,
        command,
        expected_version=version,
        actor=pending.actor or actor,
        recorded_at=recorded_at,
        recorded_on=recorded_on,
    )
    detail = command_detail(command, new_version)
    if (pending.actor or actor) != actor or recorded_at != now:
        detail |= {
            "recorded_by": pending.actor or actor,
            "recorded_at": timestamp_text(recorded_at),
        }
    uow.audit.append(
        at=now,
        actor=actor,
        action=COMMAND_ACTION_PREFIX + command_type(command),
        patient_id=patient_id,
        detail=detail,
        before_hash=before,
        after_hash=uow.patients.record_hash(patient_id),
    )
    return changed, new_version


def _check_batch_storable(commands: Sequence[PendingCommand]) -> None:
    for index, pending in enumerate(commands, start=1):
        problem = storable_problem(pending.command)
        if problem is not None:
            field, why = problem
            raise InvalidInputError(
                field,
                f"{why} (command {index} of {len(commands)}, "
                f"{command_type(pending.command)}); nothing of the batch was stored",
            )


def command_detail(command: AnyCommand, seq: int) -> dict[str, JsonValue]:
    """The audit detail of a stored command: its place in the log, and who gave the
    questions when staff gave a questionnaire at a clinic visit."""
    detail: dict[str, JsonValue] = {"seq": seq}
    if isinstance(command, RecordPHQ9 | RecordComprehensionAnswers) and command.given_in_clinic_by:
        detail["given_in_clinic_by"] = command.given_in_clinic_by
    return detail


def _check_enrolled_id(command: AnyCommand, patient_id: str) -> None:
    if isinstance(command, EnrolPatient) and command.patient_id != patient_id:
        raise CommandRejected(
            "patient_id",
            f"EnrolPatient names patient {command.patient_id} but is given for "
            f"patient {patient_id}: use the same id",
        )


def read_record(
    engine: Engine, patient_id: str, *, actor: str, now: datetime, kb: KnowledgeBase
) -> tuple[PatientRecord, int]:
    """The patient's record and its version, the read audited (:func:`read_checked`)."""
    record, history = read_checked(engine, patient_id, actor=actor, now=now, kb=kb)
    return record, len(history)


def read_history(
    engine: Engine, patient_id: str, *, actor: str, now: datetime
) -> list[StoredCommand]:
    """The patient's command log (who recorded what, when), the read audited.

    NotFoundError when the patient is not in the database.
    """
    require_time_zone(now)
    with UnitOfWork(engine) as uow:
        return _audited_history(uow, engine, patient_id, actor=actor, now=now)


def read_histories_for_summary(
    engine: Engine, *, actor: str, now: datetime, purpose: str
) -> dict[str, list[StoredCommand]]:
    """Every patient's command log for a figure shown about the whole clinic (the
    worklist's count in a clinician's navigation): ONE audit row, ``read:summary``
    with the purpose and the number of records read, instead of one per record."""
    require_time_zone(now)
    with UnitOfWork(engine) as uow:
        histories = {pid: uow.patients.history(pid) for pid in uow.patients.ids()}
        uow.audit.append(
            at=now,
            actor=actor,
            action=SUMMARY_READ_ACTION,
            detail={"purpose": purpose, "records": len(histories)},
        )
        return histories


def _audited_history(
    uow: UnitOfWork, engine: Engine, patient_id: str, *, actor: str, now: datetime
) -> list[StoredCommand]:
    history = uow.patients.history(patient_id)
    if not history:
        raise NotFoundError(f"no patient {patient_id!r}")  # never the database URL: clients see it
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
    extra: dict[str, JsonValue] | None = None,
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
                **(extra or {}),
            },
        )
