"""A patient's course record: state that changes only through commands.

The public API of the aggregate:

- :class:`PatientRecord`, :class:`CourseState` (with :class:`PrescriptionState`,
  :class:`DispenseState`, :class:`DoseChangeState`), :class:`SymptomReport`,
  :class:`Override` — frozen state.
- :func:`apply` — check a command against the record and return the new record,
  or raise :class:`~isotrack.errors.CommandRejected` (nothing changes).
- :func:`replay` — rebuild a record from its command log.
- :func:`cumulative_dose` — dispensed minus missed, in mg and mg/kg.
- :func:`to_snapshot` — the record as the engine reads it on one day.

>>> from datetime import date
>>> from isotrack.clinical.state import EnrolPatient, RecordWeight, StartCourse
>>> from isotrack.knowledge import default_knowledge
>>> kb = default_knowledge()
>>> day = date(2026, 3, 2)
>>> record = apply(
...     None,
...     EnrolPatient(on=day, patient_id="m1", name="M", birth_date=date(1998, 5, 4), sex="male"),
...     today=day, kb=kb,
... )
>>> record = apply(record, RecordWeight(on=day, value=70), today=day, kb=kb)
>>> record = apply(
...     record, StartCourse(on=day, course_id="c1", product="absorica"), today=day, kb=kb
... )
>>> record.current_course.course_id, record.current_course.target_mg_per_kg
('c1', 150.0)
>>> try:
...     apply(record, StartCourse(on=day, course_id="c2", product="absorica"), today=day, kb=kb)
... except CommandRejected as refused:
...     print(refused)
course: course c1 (started 2026-03-02) is still active: end it first (EndCourse)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from isotrack.clinical.dosing import CumulativeDose, DayDose, cumulative_dose
from isotrack.clinical.record.changes import evolve
from isotrack.clinical.record.checks import check_command
from isotrack.clinical.record.course_checks import rejection
from isotrack.clinical.record.snapshot import to_snapshot
from isotrack.clinical.state import (
    AnyCommand,
    CourseState,
    CourseStatus,
    DispenseState,
    DoseChangeState,
    DoseStep,
    Override,
    PatientRecord,
    PrescriptionState,
    SymptomReport,
)
from isotrack.errors import CommandRejected, InvalidInputError, NotFoundError
from isotrack.knowledge.base import KnowledgeBase

__all__ = [
    "CourseState",
    "CourseStatus",
    "CumulativeDose",
    "DayDose",
    "DispenseState",
    "DoseChangeState",
    "DoseStep",
    "Override",
    "PatientRecord",
    "PrescriptionState",
    "SymptomReport",
    "apply",
    "cumulative_dose",
    "replay",
    "to_snapshot",
]


def apply(
    record: PatientRecord | None, command: AnyCommand, *, today: date, kb: KnowledgeBase
) -> PatientRecord:
    """The record after ``command``, recorded on ``today``.

    Refused with :class:`~isotrack.errors.CommandRejected` (naming the field, what is
    unmet and what would satisfy it) when the command breaks a rule of
    :mod:`isotrack.clinical.record.checks` or gives an impossible value; ``record`` is
    ``None`` for a patient not yet enrolled (then only ``EnrolPatient`` is accepted).
    """
    check_command(record, command, today=today, kb=kb)
    return _evolve(record, command, kb)


def _evolve(record: PatientRecord | None, command: AnyCommand, kb: KnowledgeBase) -> PatientRecord:
    """evolve, with a value object's or a lookup's refusal turned into CommandRejected."""
    try:
        return evolve(record, command, kb=kb)
    except CommandRejected:
        raise
    except InvalidInputError as error:
        raise rejection(error.field, error) from None
    except NotFoundError as error:
        raise rejection(type(command).__name__, error) from None


def replay(
    history: Iterable[tuple[AnyCommand, date]], *, kb: KnowledgeBase, strict: bool = False
) -> PatientRecord:
    """Rebuild a record from its command log: (command, day it was recorded) pairs in
    the order they were recorded.

    The log holds commands that were accepted when recorded, so by default they are
    not checked again (a clinic policy changed since, such as a shorter maximum
    supply, must not make an old record unreadable); a log that cannot be applied at
    all raises CommandRejected. ``strict=True`` checks each command again as
    :func:`apply` does, with its recorded day as ``today``. An empty log raises
    NotFoundError.
    """
    record: PatientRecord | None = None
    for command, recorded in history:
        if strict:
            record = apply(record, command, today=recorded, kb=kb)
        else:
            record = _evolve(record, command, kb)
    if record is None:
        raise NotFoundError("the command log is empty: no patient record to rebuild")
    return record
