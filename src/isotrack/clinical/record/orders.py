"""The orders the course view screens before they are written: the planned first
prescription of a course (the planner's regimen at the weight in force) and the
words of a dose ("morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg)")."""

from __future__ import annotations

from datetime import date

from isotrack.clinical.dosing import Regimen, default_mg_per_kg_day, plan_course
from isotrack.clinical.order import IsotretinoinOrder, times_a_day
from isotrack.clinical.state import CourseState, PatientRecord
from isotrack.errors import IsotrackError
from isotrack.knowledge.base import KnowledgeBase


def planned_first_order(
    record: PatientRecord, course: CourseState, on: date, kb: KnowledgeBase
) -> tuple[IsotretinoinOrder, str] | None:
    weight = record.weight_on(on)
    if weight is None:
        return (
            IsotretinoinOrder(product=course.product, text="first prescription, dose not set"),
            "the first prescription (no weight recorded, so no planned dose)",
        )
    try:
        per_kg = default_mg_per_kg_day(kb, course.product)
        plan = plan_course(
            weight.kg, course.product, course.target_mg_per_kg, per_kg, start=on, kb=kb
        )
    except IsotrackError:
        return None
    doses = plan.capsules.doses
    strengths = plan.capsules.strengths_used
    supply = int(kb.number("ppp.max_supply_days"))
    dose_mg = plan.daily_mg / len(doses)
    order = IsotretinoinOrder(
        product=course.product,
        dose_mg=dose_mg,
        times_per_day=len(doses),
        doses_mg=plan.capsules.doses_mg,
        regimen=plan.capsules,
        strength_mg=next(iter(strengths)) if len(strengths) == 1 else None,
        quantity=plan.capsules.capsule_count * supply,
        supply_days=supply,
        repeats=0,
        text=f"first prescription: {plan.capsules.describe()}",
        source="planner",
    )
    return order, (
        f"the planned first prescription ({per_kg:g} mg/kg/day at {weight.kg:g} kg, planner)"
    )


def dose_words(dose_mg: float, times_per_day: int, regimen: Regimen | None = None) -> str:
    """'morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg)' for a regimen."""
    if regimen is not None:
        return regimen.describe()
    return f"{dose_mg:g} mg {times_a_day(times_per_day)}"
