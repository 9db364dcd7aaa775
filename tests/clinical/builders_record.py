"""Builders of commands and records for the course-record tests: real commands
applied through :func:`isotrack.clinical.record.aggregate.apply`, no fakes.

The standard course: a 70 kg man on conventional capsules, 35 mg twice a day
(1 mg/kg/day, the top of the usual range), 60 capsules of 35 mg for 30 days,
all dispensed on the first day.

The pregnancy prevention programme (clinic default: iPLEDGE) binds him too:
counselling documented at enrolment before the first prescription, and a
recorded dispensing authorisation before each dispense.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from isotrack.clinical.record.aggregate import PatientRecord, apply
from isotrack.clinical.state.commands import (
    AnyCommand,
    Dispense,
    EnrolPatient,
    Prescribe,
    RecordAuthorization,
    RecordComprehensionAnswers,
    RecordCounselling,
    RecordOverride,
    RecordWeight,
    StartCourse,
)
from isotrack.knowledge import KnowledgeBase, default_knowledge

START = date(2026, 3, 2)
"""Day 0 of the standard course."""


def day(n: int) -> date:
    """The n-th day from the start of the standard course (0 is the start)."""
    return START + timedelta(days=n)


def enrol_man(**changes: object) -> EnrolPatient:
    base: dict[str, object] = {
        "on": day(-7),
        "patient_id": "m1",
        "name": "Sam Moreau",
        "birth_date": date(1998, 5, 4),
        "sex": "male",
    }
    base.update(changes)
    return EnrolPatient(**base)  # type: ignore[arg-type]


def enrol_woman(**changes: object) -> EnrolPatient:
    base: dict[str, object] = {
        "patient_id": "w1",
        "name": "Dana Petit",
        "birth_date": date(2001, 9, 14),
        "sex": "female",
        "pregnancy_capability": "can-get-pregnant",
        "capability_reason": "reported by the patient",
    }
    base.update(changes)
    return enrol_man(**base)


def counsel(n: int = -7, topic: str = "enrolment: risks and the programme") -> RecordCounselling:
    return RecordCounselling(on=day(n), topic=topic)


def answers(programme: str = "us-ipledge-2024", wrong: int = 0) -> tuple[tuple[str, int], ...]:
    """Answers to the whole bank of ``programme``, the first ``wrong`` of them wrong."""
    bank = default_knowledge().questions(programme)
    return tuple(
        (q.id, (q.correct + 1) % len(q.options) if index < wrong else q.correct)
        for index, q in enumerate(bank)
    )


def comprehension(
    n: int = 0, wrong: int = 0, programme: str = "us-ipledge-2024"
) -> RecordComprehensionAnswers:
    """This month's comprehension check on day ``n``, ``wrong`` answers wrong."""
    return RecordComprehensionAnswers(on=day(n), answers=answers(programme, wrong))


def weight(n: int = 0, kg: float = 70.0, unit: str = "kg") -> RecordWeight:
    return RecordWeight(on=day(n), value=kg, unit=unit)


def start_course(n: int = 0, **changes: object) -> StartCourse:
    base: dict[str, object] = {"on": day(n), "course_id": "c1", "product": "conventional"}
    base.update(changes)
    return StartCourse(**base)  # type: ignore[arg-type]


def prescribe(n: int = 0, **changes: object) -> Prescribe:
    base: dict[str, object] = {
        "on": day(n),
        "prescription_id": "p1",
        "dose_mg": 35.0,
        "times_per_day": 2,
        "strength_mg": 35.0,
        "quantity": 60,
        "supply_days": 30,
    }
    base.update(changes)
    return Prescribe(**base)  # type: ignore[arg-type]


def dispense(n: int = 0, **changes: object) -> Dispense:
    base: dict[str, object] = {"on": day(n), "prescription_id": "p1", "quantity": 60}
    base.update(changes)
    return Dispense(**base)  # type: ignore[arg-type]


def early_supply(n: int) -> RecordOverride:
    """A clinician's decision on day ``n`` to go ahead despite SUPPLY-ON-HAND (the
    supply already dispensed still covers more than the clinic's limit)."""
    return RecordOverride(on=day(n), rule_id="SUPPLY-ON-HAND", reason="capsules lost")


def authorize(
    n: int = 0,
    prescription_id: str = "p1",
    *,
    until: int | None = None,
    quantity: int = 60,
    authorization_id: str | None = None,
) -> RecordAuthorization:
    """A dispensing authorisation recorded on day ``n``, in force up to day ``until``
    (default: the same day) for ``quantity`` capsules."""
    return RecordAuthorization(
        on=day(n),
        authorization_id=authorization_id or f"auth-{prescription_id}-{n}",
        prescription_id=prescription_id,
        not_after=day(n if until is None else until),
        max_quantity=quantity,
    )


def run(
    commands: Iterable[AnyCommand],
    kb: KnowledgeBase,
    record: PatientRecord | None = None,
    today: date | None = None,
) -> PatientRecord:
    """Apply the commands in order, each recorded on its own date (or on ``today``)."""
    for command in commands:
        record = apply(record, command, today=today or command.on, kb=kb)
    assert record is not None
    return record


def standard_commands() -> list[AnyCommand]:
    """Enrolment with counselling, a weight, the course start, the first prescription,
    its authorisation and its dispense."""
    return [
        enrol_man(),
        counsel(),
        weight(0),
        start_course(0),
        prescribe(0),
        authorize(0),
        dispense(0),
    ]


def standard_course(kb: KnowledgeBase) -> PatientRecord:
    return run(standard_commands(), kb)


def enrolled(kb: KnowledgeBase, *commands: AnyCommand) -> PatientRecord:
    """An enrolled, counselled man with a 70 kg weight on day 0, then ``commands``."""
    return run([enrol_man(), counsel(), weight(0), *commands], kb)
