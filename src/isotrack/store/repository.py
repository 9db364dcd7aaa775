"""Patients and their command logs, with optimistic locking.

Appending a command is a compare-and-set on ``patients.version``: ``UPDATE
patients SET version = version + 1 WHERE id = :id AND version = :expected``.
When no row matches, someone else changed the record since it was read, and the
append raises :class:`~isotrack.errors.ConflictError` naming the patient and the
course. ``UNIQUE (patient_id, seq)`` on the command log is the second guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import msgspec
from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isotrack.clinical.state import (
    AnyCommand,
    EnrolPatient,
    StartCourse,
    command_type,
    decode_command,
    encode_command,
)
from isotrack.errors import ConflictError, StorageError
from isotrack.store.hashing import GENESIS, chain, command_fields
from isotrack.store.models import CommandRow, Patient


@dataclass(frozen=True, slots=True)
class StoredCommand:
    """A command as the log keeps it, with who recorded it and when."""

    seq: int
    command: AnyCommand
    recorded_at: datetime
    actor: str
    recorded_on: date
    """The calendar day the command was validated against (its ``today``)."""


class PatientRepository:
    """The patients of one unit of work (one transaction)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def ids(self) -> list[str]:
        return list(self._session.scalars(select(Patient.id).order_by(Patient.id)))

    def names(self) -> dict[str, str]:
        """Every patient's name as enrolled (kept beside the log), by id."""
        return {row.id: row.name for row in self._session.execute(select(Patient.id, Patient.name))}

    def version(self, patient_id: str) -> int:
        """The number of commands recorded for the patient; 0 when there is none."""
        version = self._session.scalar(select(Patient.version).where(Patient.id == patient_id))
        return 0 if version is None else version

    def record_hash(self, patient_id: str) -> str:
        """The hash chained over the patient's commands; ``GENESIS`` when there is none."""
        found = self._session.scalar(select(Patient.record_hash).where(Patient.id == patient_id))
        return GENESIS if found is None else found

    def require_version(self, patient_id: str, expected_version: int) -> None:
        """ConflictError (naming the patient and course) unless the record is at
        ``expected_version``."""
        current = self.version(patient_id)
        if current != expected_version:
            raise self._conflict(patient_id, expected_version, current)

    def history(self, patient_id: str) -> list[StoredCommand]:
        """The patient's commands in the order they were recorded."""
        rows = self._session.scalars(
            select(CommandRow).where(CommandRow.patient_id == patient_id).order_by(CommandRow.seq)
        )
        return [_stored(row) for row in rows]

    def append(
        self,
        patient_id: str,
        command: AnyCommand,
        *,
        expected_version: int,
        actor: str,
        recorded_at: datetime,
        recorded_on: date | None = None,
    ) -> int:
        """Append ``command`` to the log of a patient read at ``expected_version``;
        returns the new version. ``recorded_on`` defaults to ``recorded_at``'s day.
        ``recorded_at`` must carry a time zone (ValueError otherwise)."""
        if recorded_at.tzinfo is None or recorded_at.utcoffset() is None:
            raise ValueError(f"recorded_at={recorded_at.isoformat()} has no time zone")
        found = self._session.execute(
            select(Patient.version, Patient.record_hash).where(Patient.id == patient_id)
        ).one_or_none()
        current, previous_hash = (0, GENESIS) if found is None else (found[0], found[1])
        if current != expected_version:
            raise self._conflict(patient_id, expected_version, current)
        seq = expected_version + 1
        payload = encode_command(command).decode("utf-8")
        day = recorded_at.date() if recorded_on is None else recorded_on
        fields = command_fields(
            seq=seq,
            type_=command_type(command),
            payload=payload,
            on_date=command.on,
            recorded_at=recorded_at,
            recorded_on=day,
            actor=actor,
        )
        new_hash = chain(previous_hash, fields)
        if expected_version == 0:
            self._insert_patient(patient_id, command, new_hash, recorded_at)
        else:
            self._bump_version(patient_id, expected_version, new_hash, recorded_at)
        try:
            with self._session.begin_nested():
                self._session.execute(
                    insert(CommandRow).values(
                        patient_id=patient_id,
                        seq=seq,
                        type=command_type(command),
                        payload=payload,
                        on_date=command.on,
                        recorded_at=recorded_at,
                        recorded_on=day,
                        actor=actor,
                    )
                )
        except IntegrityError as error:
            raise ConflictError(
                f"patient {patient_id}: command {seq} was recorded by someone else at the "
                "same time; nothing was saved: reload the record and try again"
            ) from error
        return seq

    def _insert_patient(
        self, patient_id: str, command: AnyCommand, new_hash: str, at: datetime
    ) -> None:
        name = command.name if isinstance(command, EnrolPatient) else ""
        try:
            with self._session.begin_nested():
                self._session.execute(
                    insert(Patient).values(
                        id=patient_id,
                        name=name,
                        version=1,
                        record_hash=new_hash,
                        created_at=at,
                        updated_at=at,
                    )
                )
        except IntegrityError as error:
            raise ConflictError(
                f"patient {patient_id} was enrolled by someone else at the same time; "
                "nothing was saved: reload the record and try again"
            ) from error

    def _bump_version(
        self, patient_id: str, expected_version: int, new_hash: str, at: datetime
    ) -> None:
        result = self._session.execute(
            update(Patient)
            .where(Patient.id == patient_id, Patient.version == expected_version)
            .values(version=Patient.version + 1, record_hash=new_hash, updated_at=at)
            .execution_options(synchronize_session=False)
        )
        if not isinstance(result, CursorResult) or result.rowcount != 1:
            raise self._conflict(patient_id, expected_version, self.version(patient_id))

    def _conflict(self, patient_id: str, expected: int, current: int) -> ConflictError:
        course = self._latest_course(patient_id)
        whose = f"patient {patient_id}" + (f", course {course}" if course else "")
        if current == 0:
            return ConflictError(
                f"{whose}: no such patient in this database (the command expected version "
                f"{expected}); nothing was saved"
            )
        last = self._session.execute(
            select(CommandRow.type, CommandRow.actor, CommandRow.recorded_at).where(
                CommandRow.patient_id == patient_id, CommandRow.seq == current
            )
        ).one_or_none()
        by = ""
        if last is not None:
            when = f"{last.recorded_at:%Y-%m-%d %H:%M} UTC"
            by = f"; last change: {last.type} by {last.actor} at {when}"
        return ConflictError(
            f"{whose}: the record changed since it was read (read version {expected}, now "
            f"version {current}{by}); nothing was saved: reload the record and try again"
        )

    def _latest_course(self, patient_id: str) -> str | None:
        payload = self._session.scalar(
            select(CommandRow.payload)
            .where(CommandRow.patient_id == patient_id, CommandRow.type == "StartCourse")
            .order_by(CommandRow.seq.desc())
            .limit(1)
        )
        if payload is None:
            return None
        command = decode_command(payload)
        return command.course_id if isinstance(command, StartCourse) else None


def _stored(row: CommandRow) -> StoredCommand:
    try:
        command = decode_command(row.payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise StorageError(
            f"patient {row.patient_id}, command {row.seq} ({row.type}) cannot be read: {error}"
        ) from error
    return StoredCommand(
        seq=row.seq,
        command=command,
        recorded_at=row.recorded_at,
        actor=row.actor,
        recorded_on=row.recorded_on,
    )
