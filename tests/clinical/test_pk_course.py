"""A course record's dispenses and missed days as the PK model's dose history."""

from __future__ import annotations

from datetime import date

import numpy as np

from isotrack.clinical.pk import course_doses, regular_regimen, simulate
from isotrack.clinical.snapshot import Sex, Weight
from isotrack.clinical.state.course import CourseState, DispenseState, PrescriptionState
from isotrack.clinical.state.patient import PatientRecord
from isotrack.knowledge import default_knowledge

START = date(2026, 3, 2)


def record_with(course: CourseState) -> PatientRecord:
    return PatientRecord(
        "m1", "M", date(1998, 5, 4), Sex.MALE, None, "", "us-ipledge-2024",
        weights=(Weight(70, date(2026, 3, 1)),), courses=(course,),
    )  # fmt: skip


def test_a_course_with_missed_days_gives_the_same_levels_as_the_regimen_options() -> None:
    course = CourseState(
        "c1", "absorica", START, 150,
        prescriptions=(PrescriptionState("p1", START, 40, 2, 40, 60, 30, 60),),
        dispenses=(DispenseState("p1", START, 60, 2400),),
        missed_days=(date(2026, 3, 6), date(2026, 3, 7)),
    )  # fmt: skip
    kb = default_knowledge()
    from_record = course_doses(record_with(course), course, on=date(2026, 3, 31), kb=kb)
    from_options = regular_regimen(
        40, times_per_day=2, days=30, formulation="absorica", missed_days=(5, 6)
    )
    assert from_record == from_options
    a, b = simulate(kb, from_record), simulate(kb, from_options)
    assert np.array_equal(a.parent, b.parent)


def test_the_supply_running_out_ends_the_dose_history() -> None:
    course = CourseState(
        "c1", "conventional", START, 150,
        prescriptions=(PrescriptionState("p1", START, 20, 2, 20, 20, 10, 20),),
        dispenses=(DispenseState("p1", START, 20, 400),),
    )  # fmt: skip
    doses = course_doses(record_with(course), course, on=date(2026, 4, 30), kb=default_knowledge())
    assert len(doses) == 20
    assert max(d.time_h for d in doses) == 9 * 24 + 12
