"""How each command changes a patient's record, once it has been accepted.

:func:`evolve` does not re-check the rules of :mod:`isotrack.clinical.record.checks`
(``apply`` runs them first); it only refuses a command that cannot be applied
at all (a course command without a course, a dispense of an unknown
prescription), so that a stored command log replays even after a clinic
changes its policy. Defaults left open in a command (the programme, the
cumulative target) are resolved with the knowledge base given, and so are the
facts kept with the programme's commands: which answers were wrong, and the
rule set and version in force for each prescription, check and authorisation.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from isotrack.clinical.programme import programme_of, valid_authorization, wrong_answers
from isotrack.clinical.record.regimen_checks import prescribed_regimen
from isotrack.clinical.snapshot import (
    ContraceptionUse,
    LabResult,
    LesionCount,
    MoodScreen,
    PregnancyCapability,
    PregnancyState,
    PregnancyStatus,
    PregnancyTest,
    Sex,
    TestResult,
    TestSetting,
    Weight,
)
from isotrack.clinical.state import (
    AcknowledgeWorkItem,
    AnyCommand,
    AssignWorkItem,
    AuthorizationState,
    ChangeDose,
    ComprehensionCheck,
    Counselling,
    CourseState,
    Dispense,
    DispenseState,
    DoseChangeState,
    EndCourse,
    EnrolPatient,
    Override,
    PatientRecord,
    PauseCourse,
    Prescribe,
    PrescriptionState,
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
    ResolveWorkItem,
    ResumeCourse,
    StartContraception,
    StartCourse,
    StopContraception,
    SymptomReport,
    WorkReview,
)
from isotrack.clinical.units import canonical_unit, to_canonical
from isotrack.errors import CommandRejected
from isotrack.knowledge.base import KnowledgeBase


def enrol(command: EnrolPatient, kb: KnowledgeBase) -> PatientRecord:
    capability = command.pregnancy_capability
    return PatientRecord(
        patient_id=command.patient_id,
        name=command.name,
        birth_date=command.birth_date,
        sex=Sex(command.sex),
        pregnancy_capability=PregnancyCapability(capability) if capability else None,
        capability_reason=command.capability_reason,
        programme=command.programme or kb.text("ppp.default_programme"),
    )


def evolve(
    record: PatientRecord | None, command: AnyCommand, *, kb: KnowledgeBase
) -> PatientRecord:
    """The record after ``command`` (which ``apply`` has already checked)."""
    if isinstance(command, EnrolPatient):
        if record is not None:
            raise CommandRejected("patient", f"{record.patient_id} is already enrolled")
        return enrol(command, kb)
    if record is None:
        raise CommandRejected("patient", "not enrolled: enrol the patient first (EnrolPatient)")
    on = command.on
    match command:
        case RecordPregnancyCapability():
            return replace(
                record,
                pregnancy_capability=PregnancyCapability(command.capability),
                capability_reason=command.reason,
            )
        case RecordWeight():
            kg = to_canonical("weight", command.value, command.unit, kb)
            return replace(record, weights=(*record.weights, Weight(kg, on)))
        case RecordLabResult():
            return replace(record, labs=(*record.labs, _lab(command, kb)))
        case RecordPregnancyTest():
            test = PregnancyTest(on, TestResult(command.result), TestSetting(command.setting))
            return replace(record, pregnancy_tests=(*record.pregnancy_tests, test))
        case RecordPregnancyStatus():
            status = PregnancyStatus(on, PregnancyState(command.status), detail=command.note)
            return replace(record, pregnancy_statuses=(*record.pregnancy_statuses, status))
        case StartContraception():
            use = ContraceptionUse(command.method, start=on)
            return replace(record, contraception=(*record.contraception, use))
        case StopContraception():
            return replace(record, contraception=_stopped(record, command))
        case RecordSymptoms():
            report = SymptomReport(on, tuple(dict.fromkeys(command.symptoms)), command.note)
            return replace(record, symptom_reports=(*record.symptom_reports, report))
        case RecordPHQ9():
            screen = MoodScreen(on, command.total, command.item9)
            return replace(record, mood_screens=(*record.mood_screens, screen))
        case RecordLesionCount():
            count = LesionCount(on, command.nodules, command.inflammatory, command.comedones)
            return replace(record, lesion_counts=(*record.lesion_counts, count))
        case RecordOverride():
            current = record.current_course
            override = Override(
                on, command.rule_id, command.reason, current.course_id if current else None
            )
            return replace(record, overrides=(*record.overrides, override))
        case AssignWorkItem():
            review = WorkReview(on, command.item, "assigned", assignee=command.assignee.strip())
            return replace(record, work_reviews=(*record.work_reviews, review))
        case AcknowledgeWorkItem():
            review = WorkReview(on, command.item, "acknowledged", note=command.note.strip())
            return replace(record, work_reviews=(*record.work_reviews, review))
        case ResolveWorkItem():
            review = WorkReview(on, command.item, "resolved", note=command.note.strip())
            return replace(record, work_reviews=(*record.work_reviews, review))
        case RecordComprehensionAnswers():
            return replace(
                record,
                comprehension_checks=(
                    *record.comprehension_checks,
                    _comprehension_check(record, command, kb),
                ),
            )
        case RecordCounselling():
            counselling = Counselling(
                on, command.topic, command.note, len(record.comprehension_checks)
            )
            return replace(record, counselling=(*record.counselling, counselling))
        case StartCourse():
            target = command.target_mg_per_kg
            if target is None:
                target = kb.number("course.cumulative_target_mg_per_kg")
            course = CourseState(command.course_id, command.product, on, float(target))
            return replace(record, courses=(*record.courses, course))
        case _:
            return _with_course(record, _evolve_course(record, _course(record), command, kb))


def _comprehension_check(
    record: PatientRecord, command: RecordComprehensionAnswers, kb: KnowledgeBase
) -> ComprehensionCheck:
    programme = programme_of(record, kb)
    course = record.current_course
    return ComprehensionCheck(
        on=command.on,
        answers=command.answers,
        wrong=wrong_answers(command.answers, programme.id, kb),
        programme=programme.id,
        version=programme.version,
        course_id=course.course_id if course is not None else None,
        prescriptions_before=len(course.prescriptions) if course is not None else 0,
    )


def _lab(command: RecordLabResult, kb: KnowledgeBase) -> LabResult:
    high = command.reference_high
    return LabResult(
        analyte=command.analyte,
        value=to_canonical(command.analyte, command.value, command.unit, kb),
        unit=canonical_unit(command.analyte),
        on=command.on,
        reference_high=None
        if high is None
        else to_canonical(command.analyte, high, command.unit, kb),
        code=command.code,
    )


def _stopped(record: PatientRecord, command: StopContraception) -> tuple[ContraceptionUse, ...]:
    in_use = record.contraception_in_use(command.method)
    if in_use is None:
        raise CommandRejected("method", f"{command.method!r} is not in use")
    # A use's end is its last day of use: a method stopped on a day (the patient's "I
    # stopped using this") protects nobody that day, so it ended the day before (the
    # day it started, when stopped the day it started).
    last_day = command.on - timedelta(days=1)
    if in_use.start is not None:
        last_day = max(last_day, in_use.start)
    return tuple(
        replace(use, end=last_day) if use is in_use else use for use in record.contraception
    )


def _course(record: PatientRecord) -> CourseState:
    course = record.current_course
    if course is None:
        raise CommandRejected("course", "no course: start one with StartCourse")
    return course


def _with_course(record: PatientRecord, course: CourseState) -> PatientRecord:
    return replace(
        record,
        courses=tuple(course if c.course_id == course.course_id else c for c in record.courses),
    )


def _evolve_course(
    record: PatientRecord, course: CourseState, command: AnyCommand, kb: KnowledgeBase
) -> CourseState:
    on = command.on
    match command:
        case Prescribe():
            programme = programme_of(record, kb)
            prescription = PrescriptionState(
                id=command.prescription_id,
                on=on,
                dose_mg=command.dose_mg,
                times_per_day=command.times_per_day,
                strength_mg=command.strength_mg,
                quantity=command.quantity,
                supply_days=command.supply_days,
                override_reason=command.override_reason,
                programme=programme.id,
                programme_version=programme.version,
                regimen=prescribed_regimen(command),
            )
            return replace(course, prescriptions=(*course.prescriptions, prescription))
        case RecordAuthorization():
            return _authorized(record, course, command, kb)
        case Dispense():
            return _dispensed(course, command)
        case RecordMissedDoses():
            missed = tuple(sorted({*course.missed_days, *command.days}))
            return replace(course, missed_days=missed)
        case PauseCourse():
            return replace(
                course,
                status="paused",
                pauses=(*course.pauses, (on, None)),
                pause_reasons=(*course.pause_reasons, command.reason),
            )
        case ResumeCourse():
            if course.open_pause is None:
                raise CommandRejected("course", f"course {course.course_id} is not paused")
            return replace(
                course, status="active", pauses=(*course.pauses[:-1], (course.open_pause, on))
            )
        case ChangeDose():
            change = DoseChangeState(
                on, command.dose_mg, command.times_per_day, command.override_reason
            )
            return replace(course, dose_changes=(*course.dose_changes, change))
        case EndCourse():
            return replace(course, status="ended", end=on, end_reason=command.reason)
        case _:
            raise CommandRejected("command", f"{type(command).__name__} is not a course command")


def _dispensed(course: CourseState, command: Dispense) -> CourseState:
    prescription = course.prescription(command.prescription_id)
    if prescription is None:
        raise CommandRejected(
            "prescription_id",
            f"no prescription {command.prescription_id!r} in course {course.course_id}",
        )
    updated = replace(
        prescription, dispensed_capsules=prescription.dispensed_capsules + command.quantity
    )
    mg = float(prescription.mg_of(command.quantity))
    used = command.authorization_id
    if not used:  # the one in force, as the check found it: each is used once
        in_force, _ = valid_authorization(course, prescription.id, command.on)
        used = in_force.id if in_force is not None else ""
    dispense = DispenseState(
        prescription.id, command.on, command.quantity, mg, used, command.dispensed_by
    )
    return replace(
        course,
        prescriptions=tuple(updated if p is prescription else p for p in course.prescriptions),
        dispenses=(*course.dispenses, dispense),
    )


def _authorized(
    record: PatientRecord, course: CourseState, command: RecordAuthorization, kb: KnowledgeBase
) -> CourseState:
    prescription = course.prescription(command.prescription_id)
    if prescription is None:
        raise CommandRejected(
            "prescription_id",
            f"no prescription {command.prescription_id!r} in course {course.course_id}",
        )
    programme = programme_of(record, kb)
    authorization = AuthorizationState(
        id=command.authorization_id,
        on=command.on,
        prescription_id=prescription.id,
        not_after=command.not_after,
        max_quantity=command.max_quantity,
        dispensed_before=prescription.dispensed_capsules,
        programme=programme.id,
        programme_version=programme.version,
    )
    return replace(course, authorizations=(*course.authorizations, authorization))
