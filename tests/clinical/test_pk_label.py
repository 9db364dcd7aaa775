"""ACCEPTANCE (issue 8): the PK model reproduces the label numbers of facts.md §8,
measured on simulated curves as a PK study would (never read from parameters).
The single-dose table is checked on :func:`single_dose`, the measures that
``isotrack pk simulate`` and the API report (issue 12)."""

from __future__ import annotations

import pytest

from isotrack.clinical.pk import (
    Dose,
    Simulation,
    auc,
    peak,
    regular_regimen,
    simulate,
    single_dose,
    terminal_half_life,
)
from isotrack.knowledge import KnowledgeBase, default_knowledge

TERMINAL_FROM_H = 72.0


def single(
    kb: KnowledgeBase, mg: float, *, fed: bool, formulation: str = "conventional"
) -> Simulation:
    return simulate(kb, [Dose(0.0, mg, fed, formulation)], step_h=0.02, follow_h=480.0)


def within(value: float, target: float, tolerance: float) -> bool:
    return abs(value - target) <= tolerance * target


@pytest.mark.parametrize(
    ("fed", "label_auc", "label_cmax", "label_tmax"),
    [(True, 10_004, 862, 5.3), (False, 3_703, 301, 3.2)],
    ids=["fed", "fasted"],
)
def test_a_single_80_mg_dose_reproduces_the_label_table(
    fed: bool, label_auc: float, label_cmax: float, label_tmax: float
) -> None:
    kb = default_knowledge()
    reported = single_dose(kb, 80, fed=fed).parent
    assert within(float(reported.auc[0]), label_auc, 0.15)
    assert within(float(reported.cmax[0]), label_cmax, 0.15)
    assert abs(float(reported.tmax[0]) - label_tmax) <= 1.5
    curve = single(kb, 80, fed=fed)
    assert within(terminal_half_life(curve.times_h, curve.parent[0], TERMINAL_FROM_H), 21.0, 0.10)


def test_tmax_is_later_with_food_than_fasted() -> None:
    kb = default_knowledge()
    fed = single(kb, 80, fed=True)
    fasted = single(kb, 80, fed=False)
    assert peak(fed.times_h, fed.parent[0])[1] > peak(fasted.times_h, fasted.parent[0])[1]


def test_food_more_than_doubles_exposure_to_conventional_capsules() -> None:
    kb = default_knowledge()
    fed, fasted = single(kb, 80, fed=True), single(kb, 80, fed=False)
    ratio = auc(fed.times_h, fed.parent[0]) / auc(fasted.times_h, fasted.parent[0])
    assert within(ratio, 10_004 / 3_703, 0.05)


def test_the_4_oxo_half_life_is_the_label_24_hours() -> None:
    curve = single(default_knowledge(), 80, fed=True)
    assert within(terminal_half_life(curve.times_h, curve.oxo[0], 120.0), 24.0, 0.10)


@pytest.fixture(scope="module")
def twice_daily() -> Simulation:
    doses = regular_regimen(40, times_per_day=2, days=30)
    return simulate(default_knowledge(), doses, step_h=0.25, follow_h=24.0)


def day_auc(curve: Simulation, row: int, day: int, *, oxo: bool = False) -> float:
    conc = (curve.oxo if oxo else curve.parent)[row]
    return auc(curve.times_h, conc, 24.0 * (day - 1), 24.0 * day)


def test_at_steady_state_4_oxo_exposure_is_3_4_times_the_parent(twice_daily: Simulation) -> None:
    ratio = day_auc(twice_daily, 0, 29, oxo=True) / day_auc(twice_daily, 0, 29)
    assert within(ratio, 3.4, 0.15)


@pytest.mark.parametrize("oxo", [False, True], ids=["isotretinoin", "4-oxo"])
def test_twice_daily_dosing_is_at_90_percent_of_steady_state_by_day_5(
    twice_daily: Simulation, oxo: bool
) -> None:
    fraction = day_auc(twice_daily, 0, 5, oxo=oxo) / day_auc(twice_daily, 0, 29, oxo=oxo)
    assert 0.90 <= fraction <= 1.0


def test_absorica_food_raises_exposure_about_half() -> None:
    kb = default_knowledge()
    fed = single(kb, 40, fed=True, formulation="absorica")
    fasted = single(kb, 40, fed=False, formulation="absorica")
    ratio = auc(fed.times_h, fed.parent[0]) / auc(fasted.times_h, fasted.parent[0])
    assert within(ratio, 1.5, 0.05)


def test_absorica_fasted_is_about_1_83_times_conventional_fasted() -> None:
    """An independent check: the 1.83 figure was not used to build the model."""
    kb = default_knowledge()
    lidose = single(kb, 40, fed=False, formulation="absorica")
    conventional = single(kb, 40, fed=False)
    ratio = auc(lidose.times_h, lidose.parent[0]) / auc(
        conventional.times_h, conventional.parent[0]
    )
    assert within(ratio, 1.83, 0.10)


def test_absorica_ld_32_mg_fed_is_equivalent_to_absorica_40_mg_fed() -> None:
    kb = default_knowledge()
    ld = single(kb, 32, fed=True, formulation="absorica-ld")
    lidose = single(kb, 40, fed=True, formulation="absorica")
    auc_ratio = auc(ld.times_h, ld.parent[0]) / auc(lidose.times_h, lidose.parent[0])
    cmax_ratio = peak(ld.times_h, ld.parent[0])[0] / peak(lidose.times_h, lidose.parent[0])[0]
    assert 0.8 <= auc_ratio <= 1.25
    assert 0.8 <= cmax_ratio <= 1.25
