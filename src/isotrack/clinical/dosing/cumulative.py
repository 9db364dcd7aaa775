"""The cumulative dose of a course: what was dispensed minus the missed doses,
in mg and in mg/kg with the weight in force each day.

The model is a day-by-day ledger of the capsules the patient holds, from the
first day of the course up to and including the evaluation day (or the last
day of the course, if it ended before):

1. A dispense adds its capsules × strength (mg) to the supply on hand, on the
   day of the dispense.
2. The daily dose in force (:meth:`CourseState.dose_on`: the prescribed dose
   from the day the prescription is first dispensed, or a later dose change)
   is drawn from the supply each day, or what is left when the supply holds
   less.
3. On a day recorded as missed, that draw is not taken: it is counted as
   missed and those mg stay unused (the patient does not take them later, so
   the course is not lengthened by a missed day).
4. On a paused day nothing is drawn; the supply waits for the resumption.
5. Nothing is drawn before a dose is in force, when the supply is empty, or
   after the course's end.

Hence at every day ``taken + missed + on hand = dispensed``; once the supply
is used up, the cumulative dose is exactly the dispensed mg minus the missed
days' doses, and it never decreases from one day to the next. The mg/kg of
each day's dose uses the weight in force that day (the latest recorded on or
before it); it is None when a dose was taken on a day with no weight yet.
Sums are exact (fractions of the decimal values entered).

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
>>> dose = cumulative_dose(record, course, on=date(2026, 3, 5), kb=default_knowledge())
>>> dose.mg, dose.missed_mg, dose.on_hand_mg, dose.mg_per_kg
(210.0, 70.0, 1820.0, 3.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Literal

from isotrack.clinical.snapshot import Weight
from isotrack.clinical.state import CourseState, DoseStep, PatientRecord
from isotrack.clinical.units import exact
from isotrack.knowledge.base import KnowledgeBase

ZERO = Fraction(0)

DayStatus = Literal["taken", "missed", "paused", "no-dose", "no-supply"]
"""taken: some or all of the daily dose; missed: a recorded missed day with supply;
paused; no-dose: nothing dispensed yet; no-supply: the supply ran out."""


@dataclass(frozen=True, slots=True)
class DayDose:
    """One day of the ledger."""

    on: date
    status: DayStatus
    daily_mg: float
    """The daily dose in force (0 when none)."""
    taken_mg: float
    missed_mg: float
    weight_kg: float | None
    """The weight in force that day."""
    cumulative_mg: float
    cumulative_mg_per_kg: float | None
    on_hand_mg: float
    """Supply left at the end of the day."""


@dataclass(frozen=True, slots=True)
class CumulativeDose:
    mg: float
    mg_per_kg: float | None
    days: tuple[DayDose, ...]
    dispensed_mg: float = 0.0
    """Dispensed up to the evaluation day (or the course's end)."""
    missed_mg: float = 0.0
    on_hand_mg: float = 0.0
    """Dispensed but not yet drawn (or left over when the course ended)."""


def cumulative_dose(
    record: PatientRecord, course: CourseState, *, on: date, kb: KnowledgeBase
) -> CumulativeDose:
    """The cumulative dose of ``course`` up to and including ``on`` (see the module
    docstring for the model). ``kb`` is unused today and kept for the contract."""
    last = on if course.end is None else min(on, course.end)
    supplied: dict[date, Fraction] = {}
    for dispense in course.dispenses:
        supplied[dispense.on] = supplied.get(dispense.on, ZERO) + exact(dispense.mg)
    missed_days = frozenset(course.missed_days)
    steps = course.dose_steps()
    # The weights by date (on one day, the one recorded last wins, as in weight_on).
    weights = [w for _, w in sorted(enumerate(record.weights), key=lambda iw: (iw[1].on, iw[0]))]
    next_step = next_weight = 0
    step: DoseStep | None = None
    weight: Weight | None = None
    daily = dispensed = taken_total = missed_total = on_hand = ZERO
    per_kg: Fraction | None = ZERO
    # Floats of the running totals, converted only when they change.
    daily_mg = cumulative_mg = on_hand_mg = 0.0
    cumulative_mg_per_kg: float | None = 0.0
    days: list[DayDose] = []
    day = course.start
    while day <= last:
        while next_step < len(steps) and steps[next_step].on <= day:
            step, next_step = steps[next_step], next_step + 1
            daily = step.daily_mg
            daily_mg = float(daily)
        while next_weight < len(weights) and weights[next_weight].on <= day:
            weight, next_weight = weights[next_weight], next_weight + 1
        arriving = supplied.get(day)
        if arriving is not None:
            dispensed += arriving
            on_hand += arriving
        drawn = ZERO
        status: DayStatus
        if course.paused_on(day):
            status = "paused"
        elif step is None:
            status = "no-dose"
        elif not on_hand or not daily:
            status = "no-supply"
        else:
            drawn = min(on_hand, daily)
            status = "missed" if day in missed_days else "taken"
        if drawn:
            on_hand -= drawn
            if status == "taken":
                taken_total += drawn
                cumulative_mg = float(taken_total)
                if per_kg is not None:
                    per_kg = None if weight is None else per_kg + drawn / exact(weight.kg)
                    cumulative_mg_per_kg = None if per_kg is None else float(per_kg)
            else:
                missed_total += drawn
        if arriving is not None or drawn:
            on_hand_mg = float(on_hand)
        drawn_mg = float(drawn)
        days.append(
            DayDose(
                on=day,
                status=status,
                daily_mg=daily_mg if step is not None else 0.0,
                taken_mg=drawn_mg if status == "taken" else 0.0,
                missed_mg=drawn_mg if status == "missed" else 0.0,
                weight_kg=weight.kg if weight is not None else None,
                cumulative_mg=cumulative_mg,
                cumulative_mg_per_kg=cumulative_mg_per_kg,
                on_hand_mg=on_hand_mg,
            )
        )
        day += timedelta(days=1)
    return CumulativeDose(
        mg=float(taken_total),
        mg_per_kg=float(per_kg) if per_kg is not None else None,
        days=tuple(days),
        dispensed_mg=float(dispensed),
        missed_mg=float(missed_total),
        on_hand_mg=float(on_hand),
    )
