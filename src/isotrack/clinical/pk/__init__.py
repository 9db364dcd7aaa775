"""Pharmacokinetics of isotretinoin and 4-oxo-isotretinoin (issue 8, docs/pk.md).

A linear model built from label numbers in the knowledge base (``pk.toml``):
lagged first-order absorption by formulation and meal, two-compartment
isotretinoin, 4-oxo-isotretinoin formed from its clearance, log-normal
between-subject variability. Pure: the knowledge base, the dose history and
the random seed are arguments.

Public API: :func:`simulate` (curves, population percentiles, washout),
:func:`single_dose` (the label's Cmax, Tmax and AUC0–∞ of one dose),
:func:`regular_regimen`, :func:`course_doses` and :class:`Dose` (dose
histories, from options or from a course record), :func:`pk_model`
and :func:`formulation_of` (parameters), and the measures of :mod:`.metrics`
(non-compartmental measures; each day's peak and trough).
"""

from __future__ import annotations

from isotrack.clinical.pk.course import course_doses
from isotrack.clinical.pk.metrics import (
    DayLevels,
    auc,
    auc_to_infinity,
    daily_levels,
    day_levels,
    day_of,
    peak,
    terminal_half_life,
)
from isotrack.clinical.pk.parameters import FORMULATIONS, PkModel, formulation_of, pk_model
from isotrack.clinical.pk.regimen import Dose, regular_regimen
from isotrack.clinical.pk.simulation import Simulation, simulate
from isotrack.clinical.pk.single_dose import AUC_INTERVAL, Exposure, SingleDose, single_dose

__all__ = [
    "AUC_INTERVAL",
    "FORMULATIONS",
    "DayLevels",
    "Dose",
    "Exposure",
    "PkModel",
    "Simulation",
    "SingleDose",
    "auc",
    "auc_to_infinity",
    "course_doses",
    "daily_levels",
    "day_levels",
    "day_of",
    "formulation_of",
    "peak",
    "pk_model",
    "regular_regimen",
    "simulate",
    "single_dose",
    "terminal_half_life",
]
