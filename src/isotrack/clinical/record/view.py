"""What ``isotrack course show`` and the web patient page show about one patient on one day, and the
plain words of each recorded command.

Built from the record alone (no database): the timeline of commands, the
cumulative dose against the target with a projected end from the planner, the
monitoring schedule, the "during the course" findings of the day and, when a
prescription is due, what the screening of the next one would say (a repeat
of the last prescription, or the planned first one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from isotrack.clinical.dosing import plan_course
from isotrack.clinical.findings import Assessment
from isotrack.clinical.monitoring import Schedule, monitoring_schedule
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.record.aggregate import (
    CourseState,
    CumulativeDose,
    PatientRecord,
    cumulative_dose,
    to_snapshot,
)
from isotrack.clinical.record.orders import dose_words, planned_first_order
from isotrack.clinical.screening import assess_course, screen_order
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.clinical.state import (
    AnyCommand,
    ChangeDose,
    Dispense,
    EndCourse,
    EnrolPatient,
    PauseCourse,
    Prescribe,
    RecordAuthorization,
    RecordComprehensionAnswers,
    RecordCounselling,
    RecordLabResult,
    RecordLesionCount,
    RecordMissedDoses,
    RecordOverride,
    RecordPHQ9,
    RecordPregnancyCapability,
    RecordPregnancyStatus,
    RecordPregnancyTest,
    RecordSymptoms,
    RecordWeight,
    ResumeCourse,
    StartContraception,
    StartCourse,
    StopContraception,
    given_in_clinic,
)
from isotrack.clinical.worklist import WORK_STEPS, describe_step
from isotrack.errors import IsotrackError
from isotrack.knowledge.base import KnowledgeBase

LAB_NAMES = {
    "triglycerides": "Triglycerides",
    "cholesterol": "Total cholesterol",
    "hdl": "HDL cholesterol",
    "ldl": "LDL cholesterol",
    "alt": "ALT",
    "ast": "AST",
    "glucose": "Glucose",
}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    on: date
    what: str
    recorded_on: date
    actor: str


@dataclass(frozen=True, slots=True)
class NextPrescription:
    """The prescription due next and what screening it would say today."""

    due: date
    basis: str
    order: IsotretinoinOrder
    assessment: Assessment


@dataclass(frozen=True, slots=True)
class CourseView:
    record: PatientRecord
    on: date
    snapshot: PatientSnapshot
    timeline: tuple[TimelineEntry, ...]
    assessment: Assessment
    schedule: Schedule
    course: CourseState | None
    cumulative: CumulativeDose | None
    weight_kg: float | None
    projected_end: date | None
    projection_note: str
    next_prescription: NextPrescription | None

    @property
    def target_mg(self) -> float | None:
        if self.course is None or self.weight_kg is None:
            return None
        return self.course.target_mg_per_kg * self.weight_kg


def course_view(
    record: PatientRecord,
    history: Sequence[tuple[AnyCommand, date, str]],
    *,
    on: date,
    kb: KnowledgeBase,
) -> CourseView:
    """The view of ``record`` on ``on``; ``history`` is (command, recorded on, actor)."""
    snapshot = to_snapshot(record, on=on, kb=kb)
    course = course_on(record, on)
    schedule = record_schedule(record, snapshot, on=on, kb=kb)
    weight = record.weight_on(on)
    cumulative = cumulative_dose(record, course, on=on, kb=kb) if course is not None else None
    end, note = _projection(record, course, cumulative, on, kb)
    timeline = tuple(
        TimelineEntry(command.on, describe_command(command, kb), recorded, actor)
        for command, recorded, actor in history
        if command.on <= on
    )
    return CourseView(
        record=record,
        on=on,
        snapshot=snapshot,
        timeline=tuple(sorted(timeline, key=lambda e: e.on)),
        assessment=assess_course(snapshot, on=on, kb=kb),
        schedule=schedule,
        course=course,
        cumulative=cumulative,
        weight_kg=weight.kg if weight is not None else None,
        projected_end=end,
        projection_note=note,
        next_prescription=_next_prescription(record, course, snapshot, on, kb),
    )


def record_schedule(
    record: PatientRecord,
    snapshot: PatientSnapshot | None = None,
    *,
    on: date,
    kb: KnowledgeBase,
) -> Schedule:
    """The monitoring schedule of the course on ``on``, with its real prescription days
    (the record's snapshot on ``on`` is made when not given)."""
    if snapshot is None:
        snapshot = to_snapshot(record, on=on, kb=kb)
    course = course_on(record, on)
    days = [p.on for p in course.prescriptions if p.on <= on] if course is not None else []
    return monitoring_schedule(
        snapshot, on=on, kb=kb, prescription_days=days or None, programme=record.programme
    )


def course_on(record: PatientRecord, on: date) -> CourseState | None:
    """The course running on ``on``, else the latest started by then."""
    started = [c for c in record.courses if c.start <= on]
    running = [c for c in started if c.end is None or c.end >= on]
    chosen = running or started
    return chosen[-1] if chosen else None


def _projection(
    record: PatientRecord,
    course: CourseState | None,
    cumulative: CumulativeDose | None,
    on: date,
    kb: KnowledgeBase,
) -> tuple[date | None, str]:
    """The planner's last dosing day to reach the target at the dose in force."""
    if course is None or cumulative is None:
        return None, ""
    if course.end is not None and course.end <= on:
        return None, f"course ended on {course.end}"
    if course.paused_on(on):
        return None, "course paused: no projection"
    weight = record.weight_on(on)
    step = course.dose_on(on)
    if weight is None or step is None or cumulative.mg_per_kg is None:
        return None, "no dose dispensed yet, or no weight: no projection"
    remaining = course.target_mg_per_kg - cumulative.mg_per_kg
    if remaining <= 0:
        return None, "target reached"
    try:
        plan = plan_course(
            weight.kg,
            course.product,
            remaining,
            float(step.daily_mg) / weight.kg,
            start=on + timedelta(days=1),
            kb=kb,
            weight_based=False,
        )
    except IsotrackError as error:
        return None, f"no projection: {error}"
    return plan.end, (
        f"at {float(step.daily_mg):g} mg/day from {plan.start}, {plan.dosing_days} more "
        "dosing days (planner)"
    )


def _next_prescription(
    record: PatientRecord,
    course: CourseState | None,
    snapshot: PatientSnapshot,
    on: date,
    kb: KnowledgeBase,
) -> NextPrescription | None:
    """When a prescription is due (the supply of the last one runs out within the
    pregnancy-test window, or none was written yet), screen the next one."""
    if course is None or course.status != "active" or (course.end and course.end <= on):
        return None
    issued = [p for p in course.prescriptions if p.on <= on]
    if not issued:
        found = planned_first_order(record, course, on, kb)
        if found is None:
            return None
        order, basis = found
        due = max(course.start, on)
    else:
        last = issued[-1]
        due = last.on + timedelta(days=last.supply_days)
        if on < due - timedelta(days=kb.number("ppp.test_window_days") - 1):
            return None
        order = IsotretinoinOrder(
            product=course.product,
            dose_mg=last.dose_mg,
            times_per_day=last.times_per_day,
            doses_mg=last.doses_mg,
            regimen=last.regimen,
            strength_mg=last.strength_mg,
            quantity=last.quantity,
            supply_days=last.supply_days,
            repeats=0,
            text=f"repeat of {last.id}: "
            + dose_words(last.dose_mg, last.times_per_day, last.regimen),
            source=f"prescription {last.id}",
        )
        basis = f"a repeat of the last prescription {last.id} of {last.on}"
    assessment = screen_order(snapshot, order, on=on, kb=kb)
    return NextPrescription(due, basis, order, assessment)


def _method(kb: KnowledgeBase, method_id: str) -> str:
    try:
        return kb.contraception_method(method_id).name
    except IsotrackError:
        return method_id


def _symptom(kb: KnowledgeBase, symptom_id: str) -> str:
    try:
        return kb.symptom(symptom_id).text
    except IsotrackError:
        return symptom_id


def _product(kb: KnowledgeBase, product_id: str) -> str:
    try:
        return kb.product(product_id).name
    except IsotrackError:
        return product_id


def describe_command(command: AnyCommand, kb: KnowledgeBase) -> str:
    """One line in plain words: 'Weight 60 kg', 'Pregnancy test negative (medical setting)'."""
    if isinstance(command, WORK_STEPS):
        return describe_step(command)
    match command:
        case EnrolPatient():
            capability = command.pregnancy_capability or "pregnancy capability not recorded"
            return (
                f"Enrolled {command.name} ({command.sex}, born {command.birth_date}); "
                f"{capability.replace('-', ' ')}"
                + (f" ({command.capability_reason})" if command.capability_reason else "")
            )
        case RecordPregnancyCapability():
            return (
                f"Pregnancy capability: {command.capability.replace('-', ' ')} ({command.reason})"
            )
        case RecordWeight():
            return f"Weight {command.value:g} {command.unit}"
        case RecordLabResult():
            name = LAB_NAMES.get(command.analyte, command.analyte)
            return f"{name} {command.value:g} {command.unit}"
        case RecordPregnancyTest():
            return f"Pregnancy test {command.result} ({command.setting} setting)"
        case RecordPregnancyStatus():
            note = f" ({command.note})" if command.note else ""
            return f"Pregnancy status: {command.status.replace('-', ' ')}{note}"
        case StartContraception():
            return f"Contraception started: {_method(kb, command.method)}"
        case StopContraception():
            return f"Contraception stopped: {_method(kb, command.method)}"
        case RecordSymptoms():
            said = "; ".join(_symptom(kb, s) for s in command.symptoms)
            return f"Symptoms reported: {said}" + (f" ({command.note})" if command.note else "")
        case RecordPHQ9():
            item9 = "not recorded" if command.item9 is None else str(command.item9)
            return f"PHQ-9 mood screen {command.total} (item 9: {item9})" + given_in_clinic(command)
        case RecordLesionCount():
            parts = [f"{command.nodules} nodules"]
            if command.inflammatory is not None:
                parts.append(f"{command.inflammatory} inflammatory lesions")
            if command.comedones is not None:
                parts.append(f"{command.comedones} comedones")
            return "Lesion count: " + ", ".join(parts)
        case StartCourse():
            target = command.target_mg_per_kg or kb.number("course.cumulative_target_mg_per_kg")
            return (
                f"Course {command.course_id} started: {_product(kb, command.product)}, "
                f"target {target:g} mg/kg"
            )
        case Prescribe():
            dose = dose_words(command.dose_mg, command.times_per_day, command.regimen)
            capsules = (
                " and ".join(
                    f"{n} × {s:g} mg" for s, n in command.regimen.quantities(command.supply_days)
                )
                if command.regimen is not None
                else f"{command.quantity} × {command.strength_mg:g} mg"
            )
            text = (
                f"Prescription {command.prescription_id}: {dose}, {capsules} capsules for "
                f"{command.supply_days} days"
            )
            return text + (
                f" (override: {command.override_reason})" if command.override_reason else ""
            )
        case Dispense():
            return f"Dispensed {command.quantity} capsules of {command.prescription_id}"
        case RecordMissedDoses():
            days = sorted(command.days)
            span = f"{days[0]}" if len(days) == 1 else f"{days[0]} to {days[-1]}"
            count = f"{len(days)} day" + ("" if len(days) == 1 else "s")
            return f"Missed doses reported: {count}, {span}"
        case PauseCourse():
            return f"Course paused: {command.reason}"
        case ResumeCourse():
            return "Course resumed"
        case ChangeDose():
            text = f"Dose changed to {dose_words(command.dose_mg, command.times_per_day)}"
            return text + (
                f" (override: {command.override_reason})" if command.override_reason else ""
            )
        case EndCourse():
            return f"Course ended: {command.reason}"
        case RecordOverride():
            return f"Finding {command.rule_id} overridden: {command.reason}"
        case RecordComprehensionAnswers():
            answered = f"Comprehension questions answered: {len(command.answers)}"
            return answered + given_in_clinic(command)
        case RecordCounselling():
            note = f" ({command.note})" if command.note else ""
            return f"Counselled: {command.topic}{note}"
        case RecordAuthorization():
            return (
                f"Dispense authorised: {command.authorization_id} for "
                f"{command.prescription_id}, up to {command.max_quantity} capsules, "
                f"do not dispense after {command.not_after}"
            )
