"""Non-compartmental measures of a simulated curve, computed as a PK study
would from sampled concentrations (never read back from the parameters).

>>> import numpy as np
>>> t = np.arange(0.0, 200.0, 1.0)
>>> c = 100 * np.exp(-np.log(2) / 20 * t)
>>> round(terminal_half_life(t, c, start=48.0), 6)
20.0
"""

from __future__ import annotations

import math

import numpy as np

from isotrack.clinical.pk.solver import Array
from isotrack.errors import InvalidInputError


def auc(times: Array, conc: Array, start: float = 0.0, end: float = np.inf) -> float:
    """Linear trapezoidal area under the samples between ``start`` and ``end``."""
    keep = (times >= start) & (times <= end)
    t, c = times[keep], conc[keep]
    return float(np.sum((t[1:] - t[:-1]) * (c[1:] + c[:-1]) / 2))


def terminal_half_life(times: Array, conc: Array, start: float, end: float = np.inf) -> float:
    """Half-life of the log-linear regression of the samples in [start, end]."""
    keep = (times >= start) & (times <= end) & (conc > 0)
    if np.count_nonzero(keep) < 3:
        raise InvalidInputError("half-life", "fewer than 3 positive samples in the window")
    slope = float(np.polyfit(times[keep], np.log(conc[keep]), 1)[0])
    if slope >= 0:
        raise InvalidInputError("half-life", "the concentrations do not fall in the window")
    return float(np.log(2) / -slope)


def auc_to_infinity(times: Array, conc: Array, terminal_start: float) -> float:
    """AUC0–∞: trapezoids to the last sample plus C_last / λz."""
    rate = math.log(2) / terminal_half_life(times, conc, terminal_start)
    return auc(times, conc) + float(conc[-1]) / rate


def peak(times: Array, conc: Array) -> tuple[float, float]:
    """(Cmax, Tmax) of the samples."""
    index = int(np.argmax(conc))
    return float(conc[index]), float(times[index])
