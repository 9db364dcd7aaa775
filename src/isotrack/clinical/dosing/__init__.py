"""Dosing: from a weight and a product to a regimen, a course plan and the dose
taken so far.

- :class:`Regimen` (defined in :mod:`isotrack.clinical.order.regimen`, below the
  record and screening, which hold it): each daily administration with its
  capsule combination of a product's real strengths; :func:`regimen_of` whether
  doses can be taken, :func:`nearest_regimens` the takeable ones nearest;
- :mod:`.products`: a product's label doses and allowed range at one weight;
- :mod:`.planner`: :func:`plan_course`, days to the cumulative target, end date,
  weekly table;
- :mod:`.cumulative`: :func:`cumulative_dose` of a recorded course (dispensed
  minus missed, in mg and mg/kg).

Built on the record's data model (:mod:`isotrack.clinical.state`).
"""

from __future__ import annotations

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
from isotrack.clinical.order.regimen import (
    Administration,
    Regimen,
    administration_names,
    administration_of,
    choose_capsules,
    nearest_for_product,
    nearest_regimens,
    regimen_of,
)

__all__ = [
    "Administration",
    "CoursePlan",
    "CumulativeDose",
    "DayDose",
    "DoseChange",
    "DosePeriod",
    "HistoryEvent",
    "LabelDose",
    "MissedDose",
    "Regimen",
    "WeightChange",
    "administration_names",
    "administration_of",
    "check_target",
    "choose_capsules",
    "cumulative_dose",
    "default_mg_per_kg_day",
    "label_doses",
    "nearest_for_product",
    "nearest_regimens",
    "oral_product",
    "plan_course",
    "regimen_of",
]
