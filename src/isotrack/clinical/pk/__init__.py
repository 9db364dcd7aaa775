"""Pharmacokinetics of isotretinoin and 4-oxo-isotretinoin (issue 8, docs/pk.md).

A linear model built from label numbers in the knowledge base (``pk.toml``):
lagged first-order absorption by formulation and meal, two-compartment
isotretinoin, 4-oxo-isotretinoin formed from its clearance, log-normal
between-subject variability. Pure: the knowledge base, the dose history and
the random seed are arguments.

Public API: :func:`simulate` (curves, population percentiles, washout),
:func:`regular_regimen`, :func:`course_doses` and :class:`Dose` (dose
histories, from options or from a course record), :func:`pk_model`
and :func:`formulation_of` (parameters), and the measures of :mod:`.metrics`.
"""

from __future__ import annotations

from isotrack.clinical.pk.course import course_doses
from isotrack.clinical.pk.metrics import auc, auc_to_infinity, peak, terminal_half_life
from isotrack.clinical.pk.parameters import FORMULATIONS, PkModel, formulation_of, pk_model
from isotrack.clinical.pk.regimen import Dose, regular_regimen
from isotrack.clinical.pk.simulation import Simulation, simulate

__all__ = [
    "FORMULATIONS",
    "Dose",
    "PkModel",
    "Simulation",
    "auc",
    "auc_to_infinity",
    "course_doses",
    "formulation_of",
    "peak",
    "pk_model",
    "regular_regimen",
    "simulate",
    "terminal_half_life",
]
