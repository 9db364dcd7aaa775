"""The PK summary the surfaces report (issue 12): each day's peak and trough in
fixed day windows, and the single-dose Cmax, Tmax and AUC0–∞. The single-dose
values against the label's table are in test_pk_label.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.pk import (
    FORMULATIONS,
    Dose,
    daily_levels,
    day_levels,
    day_of,
    regular_regimen,
    simulate,
    single_dose,
)
from isotrack.clinical.pk.solver import Array
from isotrack.knowledge import default_knowledge
from tests.clinical.test_pk_properties import histories


def test_one_day_of_one_dose_has_the_peak_and_troughs_of_its_curve() -> None:
    """The issue's command: `pk simulate --dose 80 --times-per-day 1 --days 1`
    reported a last-day peak of 0 and troughs of 0 (its window was the 24 h
    before the last dose, which held only the sample at the dose)."""
    result = simulate(default_knowledge(), regular_regimen(80, times_per_day=1, days=1))
    assert day_of(result.last_dose_h) == 1
    for curve in (result.parent[0], result.oxo[0]):
        levels = day_levels(result.times_h, curve, 1)
        assert levels is not None
        assert levels.peak == pytest.approx(curve[:24].max())
        assert levels.peak > 100
        assert levels.trough is not None
        assert 0 < levels.trough < levels.peak
        assert levels.trough == pytest.approx(curve[int(np.argmax(curve[:24])) : 24].min())


@pytest.mark.parametrize("times_per_day", [1, 2, 3, 4])
@pytest.mark.parametrize("days", [1, 2, 7])
@pytest.mark.parametrize("fed", [True, False], ids=["fed", "fasted"])
@pytest.mark.parametrize("formulation", FORMULATIONS)
@pytest.mark.parametrize("population", [0, 20])
def test_the_last_dosing_day_is_the_day_of_the_last_dose_and_has_its_peak(
    times_per_day: int, days: int, fed: bool, formulation: str, population: int
) -> None:
    history = regular_regimen(
        40, times_per_day=times_per_day, days=days, fed=fed, formulation=formulation
    )
    result = simulate(default_knowledge(), history, population=population, seed=1, follow_h=48)
    day = day_of(result.last_dose_h)
    assert day == days
    window = (result.times_h >= 24 * (days - 1)) & (result.times_h < 24 * days)
    for rows in (result.parent, result.oxo):
        for curve in rows:
            levels = day_levels(result.times_h, curve, day)
            assert levels is not None
            assert levels.peak == curve[window].max() > 0
            if levels.trough is None:  # still rising all day: only 4-oxo, on its first day
                assert rows is result.oxo
                assert np.all(np.diff(curve[: int(np.flatnonzero(window)[-1]) + 2]) >= 0)
            else:
                assert 0 < levels.trough <= levels.peak
    for curve in result.parent:  # isotretinoin peaks within hours: every day has a trough
        levels = day_levels(result.times_h, curve, day)
        assert levels is not None
        assert levels.trough is not None


def first_peak(curve: Array) -> int | None:
    for index in range(len(curve) - 1):
        if curve[index] > 0 and curve[index + 1] < curve[index]:
            return index
    return None


@settings(max_examples=60, deadline=None)
@given(
    history=histories,
    step=st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.0]),
    population=st.sampled_from([0, 5]),
    seed=st.integers(0, 2**32 - 1),
)
def test_each_days_peak_and_trough_are_the_extremes_of_the_curve_in_that_day(
    history: list[Dose], step: float, population: int, seed: int
) -> None:
    """For any dose history: a day is the hours [24(n−1), 24n); its peak is the
    highest sample in it, its trough the lowest from the curve's first peak on,
    and from then on every trough is above zero and at most its day's peak."""
    result = simulate(
        default_knowledge(), history, step_h=step, follow_h=72, population=population, seed=seed
    )
    times = result.times_h
    for curve in (*result.parent, *result.oxo):
        levels = daily_levels(times, curve)
        peaked = first_peak(curve)
        last_day = int(times[-1] // 24) + 1
        assert [d.day for d in levels] == list(range(1, last_day + 1))
        for day in levels:
            inside = np.flatnonzero((times >= 24 * (day.day - 1)) & (times < 24 * day.day))
            assert day.peak == curve[inside].max()
            assert day.mean == pytest.approx(curve[inside].mean())
            counted = inside[inside >= peaked] if peaked is not None else inside[:0]
            if counted.size:
                assert day.trough == curve[counted].min()
                assert day.peak >= day.trough > 0
            else:
                assert day.trough is None
        if peaked is not None:  # the day of the first peak and every day after have one
            assert all(d.trough is not None for d in levels if d.day >= day_of(times[peaked]))


def test_a_day_before_the_first_dose_has_a_zero_peak_and_no_trough() -> None:
    result = simulate(default_knowledge(), [Dose(50.0, 40)], follow_h=24)
    first, second, third = daily_levels(result.times_h, result.parent[0])[:3]
    for before in (first, second):  # the dose at hour 50 is on day 3
        assert (before.peak, before.trough, before.mean) == (0.0, None, 0.0)
    assert third.peak > 0
    assert third.trough is not None


def test_single_dose_auc_is_the_steady_state_exposure_of_the_same_patients() -> None:
    """In a linear model one dose's AUC0–∞ equals the area of a dosing interval at
    steady state, so AUC0–∞ / 24 h is the steady-state average of that dose once
    a day: for the typical patient and, percentile by percentile, for the same
    virtual patients (same seed)."""
    kb = default_knowledge()
    for population in (0, 300):
        once = regular_regimen(30, times_per_day=1, days=1, fed=False, formulation="absorica")
        steady = simulate(kb, once, population=population, seed=5, follow_h=24).steady_parent
        single = single_dose(
            kb, 30, fed=False, formulation="absorica", population=population, seed=5
        )
        assert np.allclose(single.parent.auc / 24, steady, rtol=0.005)


def test_a_population_gives_ordered_single_dose_percentiles_reproducible_by_seed() -> None:
    kb = default_knowledge()
    first = single_dose(kb, 40, population=200, seed=9)
    again = single_dose(kb, 40, population=200, seed=9)
    assert first.percentiles == (5.0, 50.0, 95.0)
    for measure in (first.parent.cmax, first.parent.auc, first.oxo.cmax, first.oxo.tmax):
        assert np.all(np.diff(measure) >= 0)
    assert np.array_equal(first.oxo.auc, again.oxo.auc)


def test_4_oxo_peaks_later_and_higher_in_area_than_isotretinoin_after_one_dose() -> None:
    measures = single_dose(default_knowledge(), 80, fed=True)
    assert measures.oxo.tmax[0] > measures.parent.tmax[0]
    assert measures.oxo.auc[0] / measures.parent.auc[0] == pytest.approx(3.4, rel=0.05)
