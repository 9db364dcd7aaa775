"""Simulate a dose history: one typical patient's curves, or percentiles of a
virtual population, and the washout after the last dose.

Washout: the time from the last dose until the concentration stays below
``fraction`` of the steady-state average that the last day's dosing would give
(``F·mg per day / (CL·24 h)`` for isotretinoin, × ``CL / (k_oxo·Vm)`` for
4-oxo-isotretinoin), per subject.

>>> from isotrack.knowledge import default_knowledge
>>> from isotrack.clinical.pk.regimen import regular_regimen
>>> doses = regular_regimen(40, times_per_day=2, days=30)
>>> result = simulate(default_knowledge(), doses, step_h=1.0)
>>> round(float(result.parent[0].max()))  # ng/mL, typical patient
617
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from isotrack.clinical.pk.parameters import PkModel, pk_model
from isotrack.clinical.pk.regimen import HOURS_PER_DAY, Dose, last_dose_time
from isotrack.clinical.pk.solver import Array, Subjects, state_blocks, subjects
from isotrack.errors import InvalidInputError
from isotrack.knowledge.base import KnowledgeBase

MAX_POINTS = 200_000
"""Most output times one simulation may have (a year at 3-minute steps)."""
DEFAULT_PERCENTILES = (5.0, 50.0, 95.0)


@dataclass(frozen=True, slots=True)
class Simulation:
    """Concentrations (ng/mL) at ``times_h``.

    ``parent`` and ``oxo`` have one row per subject for the typical patient
    (one row) and one row per percentile for a population. ``washout_h`` has,
    for each species, the typical patient's time (one value) or the same
    percentiles over subjects; NaN when the curve is still above the line at
    the end of the simulation."""

    times_h: Array
    parent: Array
    oxo: Array
    subjects: int
    percentiles: tuple[float, ...]
    last_dose_h: float
    washout_fraction: float
    washout_parent_h: Array
    washout_oxo_h: Array
    steady_parent: Array
    """Steady-state average of the last day's dosing (ng/mL), per row like washout."""
    steady_oxo: Array


def simulate(
    kb: KnowledgeBase,
    doses: Sequence[Dose],
    *,
    step_h: float = 1.0,
    follow_h: float = 30 * HOURS_PER_DAY,
    population: int = 0,
    seed: int = 0,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    washout_fraction: float = 0.1,
) -> Simulation:
    """Simulate ``doses`` from hour 0 until ``follow_h`` after the last dose,
    sampled every ``step_h`` hours: the typical patient when ``population`` is 0,
    else ``population`` subjects drawn with ``seed`` and summarised by percentiles."""
    if not 0 < washout_fraction < 1:
        raise InvalidInputError("fraction", f"must be between 0 and 1, got {washout_fraction}")
    if not step_h > 0:
        raise InvalidInputError("step", f"must be more than 0 h, got {step_h}")
    last = last_dose_time(doses)
    end = last + follow_h
    count = math.floor(end / step_h) + 1
    if count > MAX_POINTS:
        raise InvalidInputError(
            "step", f"{count} time points; use a longer step or a shorter history (≤ {MAX_POINTS})"
        )
    if population < 0:
        raise InvalidInputError("population", f"must be 0 or more, got {population}")
    times = np.arange(count, dtype=np.float64) * step_h
    return run(pk_model(kb), doses, times, population, seed, tuple(percentiles), washout_fraction)


def run(
    model: PkModel,
    doses: Sequence[Dose],
    times: Array,
    population: int,
    seed: int,
    percentiles: tuple[float, ...],
    washout_fraction: float,
) -> Simulation:
    groups = sorted({(d.formulation, d.fed) for d in doses})
    people = subjects(model, groups, max(population, 1), seed if population else None)
    last = last_dose_time(doses)
    steady_parent, steady_oxo = steady_levels(people, doses, last)
    parent = np.empty((len(percentiles) if population else 1, times.size))
    oxo = np.empty_like(parent)
    above_parent = np.full(people.n, -np.inf)
    above_oxo = np.full(people.n, -np.inf)
    for start, p_block, o_block in state_blocks(people, doses, times):
        block_times = times[start : start + p_block.shape[1]]
        window = slice(start, start + p_block.shape[1])
        if population:
            parent[:, window] = np.percentile(p_block, percentiles, axis=0)
            oxo[:, window] = np.percentile(o_block, percentiles, axis=0)
        else:
            parent[:, window], oxo[:, window] = p_block, o_block
        after = block_times >= last
        line_p = washout_fraction * steady_parent[:, None]
        line_o = washout_fraction * steady_oxo[:, None]
        above_parent = _latest(above_parent, block_times, after & (p_block >= line_p))
        above_oxo = _latest(above_oxo, block_times, after & (o_block >= line_o))
    washout_p = _washout(above_parent, times, last)
    washout_o = _washout(above_oxo, times, last)

    def summary(values: Array) -> Array:
        if not population:
            return values
        summarised: Array = np.percentile(values, percentiles).astype(np.float64)
        return summarised

    return Simulation(
        times_h=times,
        parent=parent,
        oxo=oxo,
        subjects=population,
        percentiles=percentiles if population else (),
        last_dose_h=last,
        washout_fraction=washout_fraction,
        washout_parent_h=summary(washout_p),
        washout_oxo_h=summary(washout_o),
        steady_parent=summary(steady_parent),
        steady_oxo=summary(steady_oxo),
    )


def steady_levels(people: Subjects, doses: Sequence[Dose], last: float) -> tuple[Array, Array]:
    """Per subject, the steady-state average concentrations (ng/mL) of repeating
    the last day's doses (those within 24 h up to the last one) every day."""
    daily = np.zeros(people.n)
    for dose in doses:
        if dose.time_h > last - HOURS_PER_DAY:
            daily += dose.mg * people.f[(dose.formulation, dose.fed)]
    parent = daily / (people.cl * HOURS_PER_DAY) * 1000.0
    oxo = parent * people.cl / (people.oxo_k * people.oxo_volume)
    return parent, oxo


def _latest(current: Array, times: Array, above: NDArray[np.bool_]) -> Array:
    """The latest time each subject was above the line, updated with a block."""
    if not above.any():
        return current
    stamped = np.where(above, times[None, :], -np.inf)
    latest: Array = np.maximum(current, stamped.max(axis=1))
    return latest


def _washout(latest_above: Array, times: Array, last: float) -> Array:
    """Hours from the last dose to the first sample after the last one above the
    line (0 when never above after the last dose; NaN when still above at the end)."""
    following = np.searchsorted(times, latest_above, side="right")
    result = np.zeros(latest_above.shape)
    seen = np.isfinite(latest_above)
    ended = seen & (following >= times.size)
    inside = seen & ~ended
    result[inside] = times[following[inside]] - last
    result[ended] = np.nan
    return result
