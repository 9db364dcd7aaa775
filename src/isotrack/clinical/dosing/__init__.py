"""Dosing: from a weight and a product to capsules, a course plan and the dose
taken so far.

- :mod:`.capsules`: a daily dose made of a product's real capsule strengths;
- :mod:`.products`: a product's label doses and allowed range at one weight;
- :mod:`.planner`: :func:`plan_course`, days to the cumulative target, end date,
  weekly table;
- :mod:`.cumulative`: :func:`cumulative_dose` of a recorded course (dispensed
  minus missed, in mg and mg/kg).

Built on the record's data model (:mod:`isotrack.clinical.state`).
"""

from __future__ import annotations

from isotrack.clinical.dosing.capsules import DailyCapsules, choose_capsules
from isotrack.clinical.dosing.cumulative import CumulativeDose, DayDose, cumulative_dose
from isotrack.clinical.dosing.planner import (
    CoursePlan,
    DoseChange,
    DosePeriod,
    HistoryEvent,
    MissedDose,
    WeightChange,
    plan_course,
)
from isotrack.clinical.dosing.products import (
    LabelDose,
    check_target,
    default_mg_per_kg_day,
    label_doses,
    oral_product,
)

__all__ = [
    "CoursePlan",
    "CumulativeDose",
    "DailyCapsules",
    "DayDose",
    "DoseChange",
    "DosePeriod",
    "HistoryEvent",
    "LabelDose",
    "MissedDose",
    "WeightChange",
    "check_target",
    "choose_capsules",
    "cumulative_dose",
    "default_mg_per_kg_day",
    "label_doses",
    "oral_product",
    "plan_course",
]
