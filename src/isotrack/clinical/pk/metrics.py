"""Measures of simulated curves, computed as a PK study would from sampled
concentrations (never read back from the parameters): non-compartmental Cmax,
Tmax, AUC and terminal half-life, and each day's peak and trough.

The ``*_rows`` functions take one curve per row (subjects × times) and measure
every row at once; the single-curve functions are those rows of one.

Days: day 1 is the hours [0, 24) from hour 0 of the dose history (the first dose
of a regular regimen, the first day of a course record), day *n* the hours
[24·(n−1), 24·n). A day's peak is the highest sample of the day and its mean the
mean of its samples. Its trough is the lowest sample of the day counted from the
curve's first peak on: until the first dose has peaked the level only rises from
zero (before the dose, and while the dose waits in the gut during its lag), and
that is not a trough. So every trough is above zero, the first dosing day has one
(from its peak to the end of the day), and a day that ends before the first peak
has none.

>>> t = np.arange(0.0, 200.0, 1.0)
>>> c = 100 * np.exp(-np.log(2) / 20 * t)
>>> round(terminal_half_life(t, c, start=48.0), 6)
20.0
>>> rise_and_fall = np.array([0.0, 0.0, 5.0, 9.0, 8.0, 6.0])
>>> day_levels(np.arange(6.0) * 4, rise_and_fall, day=1)
DayLevels(day=1, peak=9.0, trough=6.0, mean=4.666666666666667)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from isotrack.clinical.pk.regimen import HOURS_PER_DAY
from isotrack.clinical.pk.solver import Array
from isotrack.errors import InvalidInputError

_TIME_DIGITS = 9
"""Times are compared to day boundaries at the solver's precision (1e-9 h)."""


def auc_rows(times: Array, rows: Array, start: float = 0.0, end: float = np.inf) -> Array:
    """Linear trapezoidal area under each row's samples between ``start`` and ``end``."""
    keep = (times >= start) & (times <= end)
    t, c = times[keep], rows[:, keep]
    area: Array = np.sum((t[1:] - t[:-1]) * (c[:, 1:] + c[:, :-1]) / 2, axis=1)
    return area


def auc(times: Array, conc: Array, start: float = 0.0, end: float = np.inf) -> float:
    """Linear trapezoidal area under the samples between ``start`` and ``end``."""
    return float(auc_rows(times, conc[None, :], start, end)[0])


def terminal_rate_rows(times: Array, rows: Array, start: float, end: float = np.inf) -> Array:
    """λz of each row: minus the slope of the least-squares line through the logs
    of its positive samples in [start, end]. Refused when a row has fewer than 3
    positive samples there or does not fall."""
    window = (times >= start) & (times <= end)
    t, c = times[window], rows[:, window]
    positive = c > 0
    weight = positive.astype(np.float64)
    count = weight.sum(axis=1)
    if np.any(count < 3):
        raise InvalidInputError("half-life", "fewer than 3 positive samples in the window")
    logs = np.log(np.where(positive, c, 1.0))
    centred = t[None, :] - ((weight * t).sum(axis=1) / count)[:, None]
    slope = (weight * centred * logs).sum(axis=1) / (weight * centred * centred).sum(axis=1)
    if np.any(slope >= 0):
        raise InvalidInputError("half-life", "the concentrations do not fall in the window")
    rate: Array = -slope
    return rate


def terminal_half_life(times: Array, conc: Array, start: float, end: float = np.inf) -> float:
    """Half-life of the log-linear regression of the samples in [start, end]."""
    return math.log(2) / float(terminal_rate_rows(times, conc[None, :], start, end)[0])


def auc_to_infinity_rows(times: Array, rows: Array, terminal_start: float) -> Array:
    """AUC0–∞ of each row: trapezoids to the last sample plus C_last / λz, λz from
    the samples from ``terminal_start`` on."""
    rate = terminal_rate_rows(times, rows, terminal_start)
    total: Array = auc_rows(times, rows) + rows[:, -1] / rate
    return total


def auc_to_infinity(times: Array, conc: Array, terminal_start: float) -> float:
    """AUC0–∞: trapezoids to the last sample plus C_last / λz."""
    return float(auc_to_infinity_rows(times, conc[None, :], terminal_start)[0])


def peak_rows(times: Array, rows: Array) -> tuple[Array, Array]:
    """(Cmax, Tmax) of each row: its highest sample and the first time it is reached."""
    index = np.argmax(rows, axis=1)
    cmax: Array = rows[np.arange(rows.shape[0]), index]
    tmax: Array = times[index]
    return cmax, tmax


def peak(times: Array, conc: Array) -> tuple[float, float]:
    """(Cmax, Tmax) of the samples."""
    cmax, tmax = peak_rows(times, conc[None, :])
    return float(cmax[0]), float(tmax[0])


@dataclass(frozen=True, slots=True)
class DayLevels:
    """One day of one curve (ng/mL); see the module docstring for the window.
    ``trough`` is None when the day ends before the curve's first peak."""

    day: int
    peak: float
    trough: float | None
    mean: float


def day_of(time_h: float) -> int:
    """The day (1 = hours [0, 24)) that an hour of the history falls in."""
    return math.floor(round(time_h, _TIME_DIGITS) / HOURS_PER_DAY) + 1


def first_peak_index(conc: Array) -> int | None:
    """Index of the curve's first peak: the first positive sample that the next
    one is below; None while the curve has not fallen yet."""
    falls = np.flatnonzero((conc[:-1] > 0) & (conc[1:] < conc[:-1]))
    return int(falls[0]) if falls.size else None


def daily_levels(times: Array, conc: Array) -> tuple[DayLevels, ...]:
    """Every day of the curve that has a sample, in order."""
    days = np.floor(np.round(times, _TIME_DIGITS) / HOURS_PER_DAY).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]]) if days.size else days
    ends = np.r_[starts[1:], days.size]
    first = first_peak_index(conc)
    levels = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        samples = conc[start:end]
        after_peak = conc[max(start, first) : end] if first is not None else samples[:0]
        levels.append(
            DayLevels(
                day=int(days[start]) + 1,
                peak=float(samples.max()),
                trough=float(after_peak.min()) if after_peak.size else None,
                mean=float(samples.mean()),
            )
        )
    return tuple(levels)


def day_levels(times: Array, conc: Array, day: int) -> DayLevels | None:
    """The levels of one day (1 = hours [0, 24)); None when no sample falls in it."""
    return next((levels for levels in daily_levels(times, conc) if levels.day == day), None)
