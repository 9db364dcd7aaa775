"""The record as the engine reads it on one day: a :class:`PatientSnapshot`.

``to_snapshot(record, on=day)`` shows the record as it stood on ``day``:
everything dated after it is left out (a course started later, a later test),
a course or a contraceptive method that ended after it is still running, and
each course's cumulative dose is counted up to it
(:func:`isotrack.clinical.dosing.cumulative_dose`). Then
``screen_order(snapshot, order, on=day, kb=kb)`` and ``assess_course(snapshot,
on=day, kb=kb)`` judge it. A course paused on that day is said in the notes.

Each dispense is a :class:`SupplyRecord` of the days its capsules last: the
prescription's days of supply, in proportion to the capsules handed out
(:func:`supplies_of`).
"""

from __future__ import annotations

from datetime import date

from isotrack.clinical.dosing import cumulative_dose
from isotrack.clinical.findings import Assessment
from isotrack.clinical.record.reports import reports_to_review
from isotrack.clinical.screening import assess_course
from isotrack.clinical.snapshot import (
    ContraceptionUse,
    IsotretinoinCourse,
    PatientSnapshot,
    SupplyRecord,
)
from isotrack.clinical.state import CourseState, PatientRecord
from isotrack.clinical.units import exact
from isotrack.knowledge.base import KnowledgeBase

SOURCE = "isotrack record"


def findings_on(record: PatientRecord, *, on: date, kb: KnowledgeBase) -> Assessment:
    """The record's findings on ``on``: the one list that the clinic dashboard, the
    patient page, the prescribe page, the pharmacy check and the API show as the
    day's findings (the CDS patient-view makes the same from the record's FHIR)."""
    return assess_course(to_snapshot(record, on=on, kb=kb), on=on, kb=kb)


def course_on(
    record: PatientRecord, course: CourseState, *, on: date, kb: KnowledgeBase
) -> IsotretinoinCourse:
    """One course as it stood on ``on`` (which must not be before its start)."""
    return IsotretinoinCourse(
        start=course.start,
        end=course.end if course.end is not None and course.end <= on else None,
        product=course.product,
        cumulative_mg=cumulative_dose(record, course, on=on, kb=kb).mg,
        target_mg_per_kg=course.target_mg_per_kg,
        last_dose_increase=course.last_dose_increase(on),
        prescriptions=sum(1 for p in course.prescriptions if p.on <= on),
        source=f"{SOURCE}, course {course.course_id}",
    )


def supplies_of(record: PatientRecord, *, on: date) -> tuple[SupplyRecord, ...]:
    """The dispenses of every course up to ``on``, each with the days it supplies:
    the prescription's ``supply_days`` × capsules handed out ÷ capsules prescribed."""
    found: list[SupplyRecord] = []
    for course in record.courses:
        prescriptions = {p.id: p for p in course.prescriptions}
        for dispense in course.dispenses:
            if dispense.on > on:
                continue
            prescription = prescriptions.get(dispense.prescription_id)
            days = None
            if prescription is not None and prescription.quantity > 0:
                share = exact(dispense.quantity) / prescription.quantity
                days = float(prescription.supply_days * share)
            found.append(
                SupplyRecord(
                    on=dispense.on,
                    days=days if days is None or days > 0 else None,
                    quantity=float(dispense.quantity),
                    prescription=dispense.prescription_id,
                    source=f"{SOURCE}, course {course.course_id}",
                )
            )
    return tuple(found)


def _contraception_on(use: ContraceptionUse, on: date) -> ContraceptionUse:
    if use.end is not None and use.end > on:
        return ContraceptionUse(use.method, use.start, None, use.source, use.by_text)
    return use


def _pause_note(course: CourseState, on: date) -> str | None:
    if course.end is not None and course.end < on:
        return None
    for index, (first, resumed) in enumerate(course.pauses):
        if first <= on and (resumed is None or on < resumed):
            reason = course.pause_reasons[index] if index < len(course.pause_reasons) else ""
            because = f" ({reason})" if reason.strip() else ""
            return (
                f"Course {course.course_id} has been paused since {first}{because}: no dose "
                "is counted while it is paused."
            )
    return None


def to_snapshot(record: PatientRecord, *, on: date, kb: KnowledgeBase) -> PatientSnapshot:
    """What the engine reads about the patient on ``on``."""
    courses = [c for c in record.courses if c.start <= on]
    notes = [note for c in courses if (note := _pause_note(c, on)) is not None]
    return PatientSnapshot(
        patient_id=record.patient_id,
        birth_date=record.birth_date,
        sex=record.sex,
        pregnancy_capability=record.pregnancy_capability,
        weights=tuple(w for w in record.weights if w.on <= on),
        labs=tuple(lab for lab in record.labs if lab.on <= on),
        pregnancy_tests=tuple(t for t in record.pregnancy_tests if t.on <= on),
        pregnancy_statuses=tuple(s for s in record.pregnancy_statuses if s.on <= on),
        contraception=tuple(
            _contraception_on(u, on)
            for u in record.contraception
            if u.start is None or u.start <= on
        ),
        mood_screens=tuple(m for m in record.mood_screens if m.on <= on),
        lesion_counts=tuple(c for c in record.lesion_counts if c.on <= on),
        courses=tuple(course_on(record, c, on=on, kb=kb) for c in courses),
        supplies=supplies_of(record, on=on),
        reports_to_review=reports_to_review(record, on=on, kb=kb),
        notes=tuple(notes),
    )
