"""The dose history of a course record, for the PK model: the days the ledger of
:func:`isotrack.clinical.dosing.cumulative_dose` counts as taken (dispensed,
in force, not missed, not paused), each day's mg given as the administrations
of the regimen in force (morning 30 mg, evening 25 mg), evenly spaced over the
day. Hour 0 is the first day of the course.

>>> from datetime import date
>>> from isotrack.clinical.state import CourseState, DispenseState, PatientRecord, PrescriptionState
>>> from isotrack.clinical.snapshot import Sex, Weight
>>> from isotrack.knowledge import default_knowledge
>>> course = CourseState(
...     "c1", "conventional", date(2026, 3, 2), 150,
...     prescriptions=(PrescriptionState("p1", date(2026, 3, 2), 35, 2, 35, 60, 30, 60),),
...     dispenses=(DispenseState("p1", date(2026, 3, 2), 60, 2100),),
...     missed_days=(date(2026, 3, 4),),
... )
>>> record = PatientRecord(
...     "m1", "M", date(1998, 5, 4), Sex.MALE, None, "", "us-ipledge-2024",
...     weights=(Weight(70, date(2026, 3, 1)),), courses=(course,),
... )
>>> doses = course_doses(record, course, on=date(2026, 3, 5), kb=default_knowledge())
>>> [(d.time_h, d.mg) for d in doses]  # 3 March taken, 4 March missed
[(0.0, 35.0), (12.0, 35.0), (24.0, 35.0), (36.0, 35.0), (72.0, 35.0), (84.0, 35.0)]
"""

from __future__ import annotations

from datetime import date

from isotrack.clinical.dosing import cumulative_dose
from isotrack.clinical.pk.parameters import formulation_of
from isotrack.clinical.pk.regimen import HOURS_PER_DAY, Dose
from isotrack.clinical.state import CourseState, PatientRecord
from isotrack.clinical.units import exact
from isotrack.knowledge.base import KnowledgeBase


def course_doses(
    record: PatientRecord,
    course: CourseState,
    *,
    on: date,
    kb: KnowledgeBase,
    fed: bool = True,
) -> tuple[Dose, ...]:
    """The doses of ``course`` taken up to ``on`` (see the module docstring); ``fed``
    says how they were taken (the record does not hold meals)."""
    formulation = formulation_of(kb, course.product)
    steps = course.dose_steps()
    doses: list[Dose] = []
    for day in cumulative_dose(record, course, on=on, kb=kb).days:
        step = course.dose_on(day.on, steps)
        if day.status != "taken" or day.taken_mg <= 0 or step is None:
            continue
        start = (day.on - course.start).days * HOURS_PER_DAY
        administrations = step.administrations_mg
        spacing = HOURS_PER_DAY / len(administrations)
        # A day with less than the full dose (the supply ran out) takes each
        # administration's share of it.
        share = exact(day.taken_mg) / step.daily_mg
        doses += [
            Dose(start + i * spacing, float(exact(mg) * share), fed, formulation)
            for i, mg in enumerate(administrations)
        ]
    return tuple(doses)
