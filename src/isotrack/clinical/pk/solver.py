"""The exact solution of the linear model, vectorised over subjects.

States of one subject: isotretinoin in the central and peripheral compartments,
4-oxo-isotretinoin (as amount formed per fraction ``fm``), and one gut depot per
absorption (formulation × meal) that the dose history uses. Between two grid
times the system is linear with constant coefficients, so the state moves by
the matrix exponential ``expm(A·Δt)``: exact, whatever the step. Doses enter
their depot when their lag has passed (those instants are grid times too).

The exponential is computed for a Metzler matrix (off-diagonal ≥ 0) as
``e^(−c) · expm(A·Δt + c·I)`` with a non-negative Taylor series and squaring,
so every concentration is ≥ 0 by construction, not by clipping.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from isotrack.clinical.pk.parameters import PkModel
from isotrack.clinical.pk.regimen import Dose

Array = NDArray[np.float64]
Group = tuple[str, bool]
"""An absorption: (formulation, fed)."""

CENTRAL, PERIPHERAL, OXO, FIRST_DEPOT = 0, 1, 2, 3
NG_PER_ML_PER_MG_PER_L = 1000.0
_TAYLOR_TERMS = 14
_DELTA_DIGITS = 9
_CACHE_SIZE = 16


@dataclass(frozen=True, slots=True)
class Subjects:
    """Parameters of ``n`` subjects, one array entry each."""

    cl: Array
    v1: Array
    q: Array
    v2: Array
    oxo_k: Array
    oxo_volume: Array
    ka: dict[Group, Array]
    f: dict[Group, Array]
    tlag: dict[Group, float]

    @property
    def n(self) -> int:
        return int(self.cl.shape[0])

    def part(self, rows: slice) -> Subjects:
        """The subjects ``rows``: a population simulated a chunk at a time."""
        return Subjects(
            cl=self.cl[rows],
            v1=self.v1[rows],
            q=self.q[rows],
            v2=self.v2[rows],
            oxo_k=self.oxo_k[rows],
            oxo_volume=self.oxo_volume[rows],
            ka={group: values[rows] for group, values in self.ka.items()},
            f={group: values[rows] for group, values in self.f.items()},
            tlag=self.tlag,
        )


def subjects(model: PkModel, groups: Sequence[Group], n: int, seed: int | None) -> Subjects:
    """``n`` subjects: the typical one repeated (``seed`` None) or drawn from the
    log-normal between-subject distributions with a seeded generator."""
    var = model.variability
    if seed is None:
        eta = {name: np.zeros(n) for name in ("cl", "v", "kafed", "kafast", "ffed", "ffast", "oxo")}
    else:
        rng = np.random.default_rng(seed)
        sds = {
            "cl": var.cl,
            "v": var.v,
            "kafed": var.ka_fed,
            "kafast": var.ka_fasted,
            "ffed": var.f_fed,
            "ffast": var.f_fasted,
            "oxo": var.oxo,
        }
        eta = {name: rng.normal(0.0, sd, n) for name, sd in sds.items()}
    clearance = np.exp(eta["cl"])
    volume = np.exp(eta["v"])
    ka: dict[Group, Array] = {}
    f: dict[Group, Array] = {}
    tlag: dict[Group, float] = {}
    for group in groups:
        form, fed = group
        typical = model.absorption(form, fed=fed)
        ka[group] = typical.ka * np.exp(eta["kafed" if fed else "kafast"])
        f[group] = typical.f * np.exp(eta["ffed" if fed else "ffast"])
        tlag[group] = typical.tlag
    return Subjects(
        cl=model.cl * clearance,
        v1=model.v1 * volume,
        q=model.q * clearance,
        v2=model.v2 * volume,
        oxo_k=model.oxo_k * np.exp(eta["oxo"]),
        oxo_volume=model.oxo_volume * volume,
        ka=ka,
        f=f,
        tlag=tlag,
    )


def rate_matrices(people: Subjects, groups: Sequence[Group]) -> Array:
    """``A`` of ``dx/dt = A·x`` for every subject: shape (n, states, states)."""
    size = FIRST_DEPOT + len(groups)
    a = np.zeros((people.n, size, size))
    k10, k12, k21 = people.cl / people.v1, people.q / people.v1, people.q / people.v2
    a[:, CENTRAL, CENTRAL] = -(k10 + k12)
    a[:, CENTRAL, PERIPHERAL] = k21
    a[:, PERIPHERAL, CENTRAL] = k12
    a[:, PERIPHERAL, PERIPHERAL] = -k21
    a[:, OXO, CENTRAL] = k10
    a[:, OXO, OXO] = -people.oxo_k
    for index, group in enumerate(groups):
        depot = FIRST_DEPOT + index
        a[:, depot, depot] = -people.ka[group]
        a[:, CENTRAL, depot] = people.ka[group]
    return a


def metzler_expm(m: Array) -> Array:
    """``expm`` of a batch of Metzler matrices (..., k, k), every entry ≥ 0.

    >>> m = np.array([[[-1.0, 0.0], [1.0, -0.5]]])
    >>> bool(np.allclose(metzler_expm(m)[0, 0, 0], np.exp(-1.0)))
    True
    """
    size = m.shape[-1]
    identity = np.eye(size)
    shift = np.max(-np.diagonal(m, axis1=-2, axis2=-1), axis=-1, initial=0.0)
    b = m + shift[..., None, None] * identity
    norm = float(np.max(np.abs(b).sum(axis=-2), initial=0.0))
    squarings = max(0, int(np.ceil(np.log2(norm / 0.5)))) if norm > 0.5 else 0
    b = b / 2.0**squarings
    term = np.broadcast_to(identity, b.shape).copy()
    result = term.copy()
    for k in range(1, _TAYLOR_TERMS + 1):
        term = term @ b / k
        result += term
    result *= np.exp(-shift / 2.0**squarings)[..., None, None]
    for _ in range(squarings):
        result = result @ result
    return result


def state_blocks(
    people: Subjects, doses: Sequence[Dose], times: Array, block: int = 168
) -> Iterator[tuple[int, Array, Array]]:
    """Concentrations (ng/mL) at ``times`` (sorted, ≥ 0), in blocks of time:
    ``(first time index, parent (n, b), oxo (n, b))``. Memory stays
    O(n × block) whatever the length of the history."""
    groups = sorted({(d.formulation, d.fed) for d in doses})
    a = rate_matrices(people, groups)
    arrivals: dict[float, list[tuple[int, float]]] = {}
    for dose in doses:
        group = (dose.formulation, dose.fed)
        at = round(dose.time_h + people.tlag[group], _DELTA_DIGITS)
        arrivals.setdefault(at, []).append((groups.index(group), dose.mg))
    outputs = [round(float(t), _DELTA_DIGITS) for t in times]
    grid = sorted(set(outputs) | set(arrivals) | {0.0})
    x = np.zeros((a.shape[-1], people.n))  # states × subjects: each update is elementwise
    cache: dict[float, Array] = {}
    parent = np.empty((people.n, block))
    oxo = np.empty((people.n, block))
    filled, start, next_output = 0, 0, 0
    previous = grid[0]
    for now in grid:
        step = round(now - previous, _DELTA_DIGITS)
        if step > 0:
            if step not in cache:
                if len(cache) >= _CACHE_SIZE:
                    cache.pop(next(iter(cache)))
                cache[step] = np.ascontiguousarray(metzler_expm(a * step).transpose(1, 2, 0))
            x = (cache[step] * x[None, :, :]).sum(axis=1)
        previous = now
        for index, mg in arrivals.get(now, ()):
            x[FIRST_DEPOT + index] += mg * people.f[groups[index]]
        while next_output < len(outputs) and outputs[next_output] == now:
            parent[:, filled] = x[CENTRAL] / people.v1 * NG_PER_ML_PER_MG_PER_L
            oxo[:, filled] = x[OXO] / people.oxo_volume * NG_PER_ML_PER_MG_PER_L
            filled += 1
            next_output += 1
            if filled == block:
                yield start, parent.copy(), oxo.copy()
                start, filled = start + block, 0
    if filled:
        yield start, parent[:, :filled].copy(), oxo[:, :filled].copy()
