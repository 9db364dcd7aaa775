"""The label's single-dose measures for one dose of a regimen: Cmax, Tmax and
AUC0–∞ after that dose taken alone.

The US label's pharmacokinetic table (facts.md §8: 80 mg, fed and fasted, 74
adults) gives, for isotretinoin, AUC0–∞, Cmax and Tmax of a single dose. The
same measures are computed here the way that study computed them, from the
sampled curve of a virtual study: one dose at hour 0, sampled densely while it
is absorbed and peaks, then hourly for 20 days; Cmax and Tmax are the highest
sample and its time; AUC0–∞ is the linear trapezoidal area to the last sample
plus C_last/λz, λz from the log-linear regression of the second half of the
samples (both species are then in their terminal phase, and what is
extrapolated is a negligible part of the area). For 4-oxo-isotretinoin, which
the label does not tabulate after one dose, the model's values are given the
same way.

The typical patient gives one value per measure; a virtual population gives
percentiles of each measure over its patients (the same patients as
:func:`~isotrack.clinical.pk.simulation.simulate` draws with the same seed).

>>> from isotrack.knowledge import default_knowledge
>>> label = single_dose(default_knowledge(), 80.0, fed=True)
>>> round(float(label.parent.cmax[0])), round(float(label.parent.tmax[0]), 1)
(862, 5.3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from isotrack.clinical.pk.metrics import auc_to_infinity_rows, peak_rows
from isotrack.clinical.pk.parameters import pk_model
from isotrack.clinical.pk.regimen import Dose
from isotrack.clinical.pk.simulation import DEFAULT_PERCENTILES
from isotrack.clinical.pk.solver import Array, state_blocks, subjects
from isotrack.errors import InvalidInputError
from isotrack.knowledge.base import KnowledgeBase

DENSE_STEP_H = 0.05
DENSE_UNTIL_H = 48.0
"""Sampled every 3 minutes over the first two days: both peaks (isotretinoin
about 3–5 h, 4-oxo-isotretinoin about 16–18 h after a dose) and their times."""
SPARSE_STEP_H = 1.0
SAMPLED_UNTIL_H = 480.0
"""Then hourly to 20 days: about 20 half-lives of either species."""
TERMINAL_FROM_H = SAMPLED_UNTIL_H / 2
SUBJECTS_PER_CHUNK = 2_000
"""Patients simulated at once: memory stays at a few tens of MB whatever the population."""
AUC_INTERVAL = "0-inf"
"""The interval of the AUC reported: from the dose to infinity, as in the label."""


@dataclass(frozen=True, slots=True)
class Exposure:
    """Single-dose measures of one species: one value each for the typical
    patient, else one per percentile over patients."""

    cmax: Array
    """ng/mL"""
    tmax: Array
    """h after the dose"""
    auc: Array
    """AUC0–∞, ng·h/mL"""


@dataclass(frozen=True, slots=True)
class SingleDose:
    """One dose of ``mg``, of ``formulation``, fed or fasted, taken alone."""

    mg: float
    fed: bool
    formulation: str
    subjects: int
    percentiles: tuple[float, ...]
    parent: Exposure
    oxo: Exposure


def sample_times() -> Array:
    """The virtual study's sampling times (h after the dose)."""
    dense = np.arange(0.0, DENSE_UNTIL_H, DENSE_STEP_H)
    sparse = np.arange(DENSE_UNTIL_H, SAMPLED_UNTIL_H + SPARSE_STEP_H / 2, SPARSE_STEP_H)
    times: Array = np.round(np.concatenate([dense, sparse]), 9)
    return times


def single_dose(
    kb: KnowledgeBase,
    mg: float,
    *,
    fed: bool = True,
    formulation: str = "conventional",
    population: int = 0,
    seed: int = 0,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
) -> SingleDose:
    """Cmax, Tmax and AUC0–∞ of isotretinoin and 4-oxo-isotretinoin after one dose
    (the typical patient when ``population`` is 0, else percentiles over
    ``population`` patients drawn with ``seed``)."""
    if population < 0:
        raise InvalidInputError("population", f"must be 0 or more, got {population}")
    dose = Dose(0.0, mg, fed, formulation)
    group = (formulation, fed)
    people = subjects(pk_model(kb), [group], max(population, 1), seed if population else None)
    times = sample_times()
    parent: list[tuple[Array, Array, Array]] = []
    oxo: list[tuple[Array, Array, Array]] = []
    for first in range(0, people.n, SUBJECTS_PER_CHUNK):
        chunk = people.part(slice(first, first + SUBJECTS_PER_CHUNK))
        blocks = list(state_blocks(chunk, [dose], times))
        for rows, found in (
            (np.concatenate([b[1] for b in blocks], axis=1), parent),
            (np.concatenate([b[2] for b in blocks], axis=1), oxo),
        ):
            cmax, tmax = peak_rows(times, rows)
            found.append((cmax, tmax, auc_to_infinity_rows(times, rows, TERMINAL_FROM_H)))
    levels = tuple(percentiles) if population else ()

    def exposure(found: list[tuple[Array, Array, Array]]) -> Exposure:
        cmax, tmax, area = (np.concatenate(column) for column in zip(*found, strict=True))
        if population:
            cmax, tmax, area = (np.percentile(v, levels) for v in (cmax, tmax, area))
        return Exposure(cmax=cmax, tmax=tmax, auc=area)

    return SingleDose(
        mg=dose.mg,
        fed=fed,
        formulation=formulation,
        subjects=population,
        percentiles=levels,
        parent=exposure(parent),
        oxo=exposure(oxo),
    )
