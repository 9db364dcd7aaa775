"""PK benchmark: the vectorised exact solution vs ``scipy.integrate.solve_ivp``.

Workload (issue 8): 40 mg twice a day with food for 20 weeks, sampled hourly
(3,360 points), for a virtual population drawn from the model's between-subject
variability. The same model (the rate matrices of ``isotrack.clinical.pk.solver``,
subjects drawn the same way, the same dose arrivals) is solved three ways:

- ``isotrack (exact, vectorised)``: :func:`isotrack.clinical.pk.simulation.run`,
  the matrix exponential stepped over all subjects at once, with the percentile
  curves and washout times computed (what ``isotrack pk simulate`` does);
- ``solve_ivp per subject``: the textbook reference, one RK45 integration per
  subject between dose arrivals (rtol 1e-6, atol 1e-9 mg), each dose added to
  its depot when it arrives;
- ``solve_ivp stacked``: one RK45 integration of the whole population as one
  large system (NumPy right-hand side), the fairest vectorised use of solve_ivp.

The references run on fewer subjects (their time grows linearly with the
subjects), so the ratio compares time per subject. The largest relative
difference between the exact and the solve_ivp isotretinoin concentrations is
printed as a check that the three solve the same model.

Run: ``.venv/bin/python bench/bench_pk.py [--population N]`` (the ``bench`` extra has scipy).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from common import load_average, machine
from scipy.integrate import solve_ivp

from isotrack.clinical.pk import Dose, pk_model, regular_regimen
from isotrack.clinical.pk.simulation import run
from isotrack.clinical.pk.solver import (
    CENTRAL,
    FIRST_DEPOT,
    Group,
    Subjects,
    rate_matrices,
    state_blocks,
    subjects,
)
from isotrack.knowledge import default_knowledge

WEEKS = 20
RTOL, ATOL = 1e-6, 1e-9


def timed(work: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def arrivals(
    people: Subjects, doses: Sequence[Dose], groups: list[Group]
) -> list[tuple[float, int, float]]:
    """(arrival time h, depot index, mg) of every dose, in time order."""
    return sorted(
        (d.time_h + people.tlag[(d.formulation, d.fed)], groups.index((d.formulation, d.fed)), d.mg)
        for d in doses
    )


def reference(
    people: Subjects, doses: Sequence[Dose], times: np.ndarray, *, stacked: bool
) -> np.ndarray:
    """Isotretinoin concentrations (n, T) by solve_ivp between dose arrivals."""
    groups = sorted({(d.formulation, d.fed) for d in doses})
    a = rate_matrices(people, groups)
    events = arrivals(people, doses, groups)
    size = a.shape[-1]
    result = np.zeros((people.n, times.size))
    batches = [np.arange(people.n)] if stacked else [np.array([i]) for i in range(people.n)]
    bounds = [e[0] for e in events] + [float(times[-1])]
    for batch in batches:
        m = a[batch]
        k = batch.size

        def rhs(_t: float, y: np.ndarray, m: np.ndarray = m, k: int = k) -> np.ndarray:
            return (m @ y.reshape(k, size, 1)).reshape(-1)

        x = np.zeros((k, size))
        start, index = 0.0, 0
        for stop in bounds:
            while index < len(events) and events[index][0] <= start:
                _, depot, mg = events[index]
                x[:, FIRST_DEPOT + depot] += mg * people.f[groups[depot]][batch]
                index += 1
            if stop <= start:
                continue
            wanted = times[(times > start) & (times <= stop)]
            solution = solve_ivp(
                rhs, (start, stop), x.reshape(-1), method="RK45", rtol=RTOL, atol=ATOL,
                t_eval=np.unique(np.append(wanted, stop)),
            )  # fmt: skip
            states = solution.y.reshape(k, size, -1)
            if wanted.size:
                columns = np.searchsorted(times, wanted)
                central = states[:, CENTRAL, : wanted.size]
                result[batch[:, None], columns[None, :]] = (
                    central / people.v1[batch][:, None] * 1000
                )
            x = states[:, :, -1]
            start = stop
    return result


def exact(people: Subjects, doses: Sequence[Dose], times: np.ndarray) -> np.ndarray:
    return np.concatenate([p for _, p, _ in state_blocks(people, doses, times)], axis=1)


def largest_difference(approximate: np.ndarray, truth: np.ndarray) -> float:
    positive = truth > 1e-3
    return float(np.max(np.abs(approximate[positive] - truth[positive]) / truth[positive]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--population", type=int, default=10_000)
    parser.add_argument("--reference-subjects", type=int, default=20)
    parser.add_argument("--stacked-subjects", type=int, default=500)
    args = parser.parse_args()
    model = pk_model(default_knowledge())
    doses = regular_regimen(40, times_per_day=2, days=WEEKS * 7)
    times = np.arange(WEEKS * 7 * 24, dtype=np.float64)
    groups = sorted({(d.formulation, d.fed) for d in doses})
    print(machine())
    print(load_average())
    print(f"{WEEKS} weeks of 40 mg twice daily with food, {times.size} hourly points")

    ours, _ = timed(lambda: run(model, doses, times, args.population, 1, (5.0, 50.0, 95.0), 0.1))
    few = subjects(model, groups, args.reference_subjects, seed=2)
    per_subject, slow = timed(lambda: reference(few, doses, times, stacked=False))
    many = subjects(model, groups, args.stacked_subjects, seed=3)
    stacked, together = timed(lambda: reference(many, doses, times, stacked=True))
    assert isinstance(slow, np.ndarray)
    assert isinstance(together, np.ndarray)
    error = largest_difference(slow, exact(few, doses, times))
    stacked_error = largest_difference(together, exact(many, doses, times))

    rows = [
        ("isotrack (exact, vectorised)", args.population, ours),
        ("solve_ivp per subject", args.reference_subjects, per_subject),
        ("solve_ivp stacked", args.stacked_subjects, stacked),
    ]
    base = ours / args.population
    print(f"{'':30} {'subjects':>9} {'s':>8} {'ms/subject':>11} {'× isotrack time':>16}")
    for label, count, seconds in rows:
        each = seconds / count
        print(f"{label:30} {count:9d} {seconds:8.2f} {each * 1000:11.3f} {each / base:16.0f}")
    print(f"largest relative difference, solve_ivp per subject vs exact: {error:.1e}")
    print(f"largest relative difference, solve_ivp stacked vs exact: {stacked_error:.1e}")
    print(f"{args.population} virtual patients in {ours:.2f} s (issue 8: seconds, not minutes)")


if __name__ == "__main__":
    main()
