"""Properties of the PK simulation for any dose history (Hypothesis), the
washout, the population summary and the refusals."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.pk import FORMULATIONS, Dose, regular_regimen, simulate
from isotrack.clinical.pk.parameters import pk_model
from isotrack.clinical.pk.solver import metzler_expm
from isotrack.errors import InvalidInputError
from isotrack.knowledge import default_knowledge

doses = st.builds(
    Dose,
    time_h=st.floats(0, 240, allow_nan=False),
    mg=st.floats(0.5, 200, allow_nan=False),
    fed=st.booleans(),
    formulation=st.sampled_from(FORMULATIONS),
)
histories = st.lists(doses, min_size=1, max_size=12)


@settings(max_examples=50, deadline=None)
@given(history=histories, population=st.sampled_from([0, 5]), seed=st.integers(0, 2**32 - 1))
def test_concentrations_are_never_negative(history: list[Dose], population: int, seed: int) -> None:
    result = simulate(
        default_knowledge(), history, step_h=1.0, follow_h=120, population=population, seed=seed
    )
    assert np.all(result.parent >= 0)
    assert np.all(result.oxo >= 0)


@settings(max_examples=150, deadline=None)
@given(history=histories)
def test_once_the_last_dose_is_absorbed_both_species_only_fall_after_their_peak(
    history: list[Dose],
) -> None:
    """After the last dose has been absorbed (99.99 % of every dose has left the
    gut), each species rises at most once more (4-oxo-isotretinoin is still being
    formed; isotretinoin may still return from the tissues) and from that peak
    on only falls: stopping the drug never makes a level climb back.

    Not from the moment of the last dose: a small last dose taken while a large
    earlier one is falling makes a bump while it is absorbed (Hypothesis found
    that one)."""
    kb = default_knowledge()
    model = pk_model(kb)

    def absorbed(dose: Dose) -> float:
        absorption = model.absorption(dose.formulation, fed=dose.fed)
        return dose.time_h + absorption.tlag + math.log(1e4) / absorption.ka

    result = simulate(kb, history, step_h=0.5, follow_h=24 * 12)
    after = result.times_h >= max(absorbed(d) for d in history)
    for curve in (result.parent[0][after], result.oxo[0][after]):
        tail = curve[int(np.argmax(curve)) :]
        assert np.all(np.diff(tail) <= 1e-9 * max(float(tail[0]), 1e-300))


def test_a_missed_day_lowers_exposure_and_recovers() -> None:
    kb = default_knowledge()
    full = simulate(kb, regular_regimen(40, times_per_day=2, days=20), follow_h=24)
    missed = simulate(
        kb, regular_regimen(40, times_per_day=2, days=20, missed_days=(10,)), follow_h=24
    )
    day10 = slice(9 * 24, 10 * 24)
    assert missed.parent[0][day10].mean() < 0.6 * full.parent[0][day10].mean()
    assert missed.parent[0][-1] == pytest.approx(full.parent[0][-1], rel=0.02)


def test_washout_to_10_percent_takes_days_not_weeks_for_the_typical_patient() -> None:
    result = simulate(default_knowledge(), regular_regimen(40, times_per_day=2, days=30))
    parent, oxo = float(result.washout_parent_h[0]), float(result.washout_oxo_h[0])
    assert 24 < parent < oxo < 10 * 24
    # The washout line is 10 % of the steady-state average: the curve is below it then.
    at = np.searchsorted(result.times_h, result.last_dose_h + parent)
    assert result.parent[0][at] < 0.1 * result.steady_parent[0]


def test_washout_is_nan_when_the_follow_up_is_too_short() -> None:
    result = simulate(
        default_knowledge(), regular_regimen(40, times_per_day=2, days=10), follow_h=12
    )
    assert math.isnan(float(result.washout_parent_h[0]))


def test_a_population_gives_ordered_percentiles_and_is_reproducible_by_seed() -> None:
    kb = default_knowledge()
    history = regular_regimen(40, times_per_day=2, days=10, fed=False)
    first = simulate(kb, history, population=300, seed=7)
    again = simulate(kb, history, population=300, seed=7)
    other = simulate(kb, history, population=300, seed=8)
    assert first.parent.shape[0] == 3
    assert np.all(first.parent[0] <= first.parent[1])
    assert np.all(first.parent[1] <= first.parent[2])
    assert np.array_equal(first.parent, again.parent)
    assert not np.array_equal(first.parent, other.parent)
    assert np.all(first.washout_parent_h[:-1] <= first.washout_parent_h[1:])


def test_population_auc_spread_fasted_is_near_the_label_cv() -> None:
    """Simulated AUC CV of a single 80 mg fasted dose is close to the label's 46 %."""
    from isotrack.clinical.pk.solver import subjects

    people = subjects(pk_model(default_knowledge()), [("conventional", False)], 20_000, seed=3)
    auc = 80 * people.f[("conventional", False)] / people.cl
    assert np.std(auc) / np.mean(auc) == pytest.approx(0.46, abs=0.03)


def test_the_matrix_exponential_matches_the_closed_form_of_a_chain() -> None:
    ka, k = 1.3, 0.2
    m = np.array([[[-ka, 0.0], [ka, -k]]]) * 5.0
    e = metzler_expm(m)[0]
    assert e[0, 0] == pytest.approx(math.exp(-ka * 5))
    assert e[1, 0] == pytest.approx(ka / (ka - k) * (math.exp(-k * 5) - math.exp(-ka * 5)))


def run_refused(call: Callable[[], object]) -> None:
    history = call()
    if isinstance(history, tuple):
        simulate(default_knowledge(), history)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: Dose(-1.0, 40), "dose time"),
        (lambda: Dose(0.0, 0), "dose"),
        (lambda: Dose(0.0, 40, formulation="gel"), "formulation"),
        (lambda: regular_regimen(40, times_per_day=5, days=3), "times per day"),
        (lambda: regular_regimen(40, times_per_day=1, days=3, missed_days=(1, 2, 3)), "doses"),
        (lambda: regular_regimen(40, times_per_day=1, days=3, missed_days=(4,)), "missed"),
        (lambda: simulate(default_knowledge(), [Dose(0, 40)], washout_fraction=1.0), "fraction"),
        (lambda: simulate(default_knowledge(), [Dose(0, 40)], step_h=0.0001), "step"),
    ],
)
def test_impossible_input_is_refused_naming_the_field(
    call: Callable[[], object], field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        run_refused(call)
    assert caught.value.field == field
