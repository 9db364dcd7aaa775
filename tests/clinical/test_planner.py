from __future__ import annotations

from datetime import date, timedelta

import pytest

from isotrack.clinical.dosing import Regimen
from isotrack.clinical.dosing.planner import (
    CoursePlan,
    DoseChange,
    MissedDose,
    WeightChange,
    plan_course,
)
from isotrack.clinical.dosing.products import default_mg_per_kg_day, label_doses
from isotrack.errors import InvalidInputError, NotFoundError
from isotrack.knowledge import KnowledgeBase

START = date(2026, 3, 2)

# facts.md §2, Absorica USPI 2022 Tables 1–2: weight -> total mg/day at the three doses.
ABSORICA_TABLE = {
    40: (20, 40, 80),
    50: (25, 50, 100),
    60: (30, 60, 120),
    70: (35, 70, 140),
    80: (40, 80, 160),
    90: (45, 90, 180),
    100: (50, 100, 200),
}
ABSORICA_LD_TABLE = {
    40: (16, 32, 64),
    50: (20, 40, 80),
    60: (24, 48, 96),
    70: (28, 56, 112),
    80: (32, 64, 128),
    90: (36, 72, 144),
    100: (40, 80, 160),
}
LABEL_TABLES = [
    ("absorica", (0.5, 1.0, 2.0), ABSORICA_TABLE),
    ("absorica-ld", (0.4, 0.8, 1.6), ABSORICA_LD_TABLE),
]


def plan(kb: KnowledgeBase, **changes: object) -> CoursePlan:
    arguments: dict[str, object] = {
        "weight_kg": 70.0,
        "product": "absorica",
        "target_mg_per_kg": 150.0,
        "daily_mg_per_kg": 1.0,
        "start": START,
        "kb": kb,
    }
    arguments.update(changes)
    return plan_course(**arguments)  # type: ignore[arg-type]


def assert_real_capsules(capsules: Regimen, strengths: tuple[float, ...]) -> None:
    assert all(c in strengths for dose in capsules.doses for c in dose.capsules_mg)
    assert sum(c for dose in capsules.doses for c in dose.capsules_mg) == capsules.total_mg


# --- the label tables ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "weight", "index"),
    [
        (product, weight, index)
        for product, _, table in LABEL_TABLES
        for weight in table
        for index in range(3)
    ],
)
def test_planner_reproduces_the_absorica_label_tables_exactly(
    kb: KnowledgeBase, product: str, weight: int, index: int
) -> None:
    levels, table = next((lv, t) for p, lv, t in LABEL_TABLES if p == product)
    result = plan(kb, product=product, weight_kg=float(weight), daily_mg_per_kg=levels[index])
    assert result.daily_mg == table[weight][index]
    assert result.capsules.total_mg == table[weight][index]
    assert_real_capsules(result.capsules, kb.product(product).strengths_mg)


@pytest.mark.parametrize(("product", "levels", "table"), LABEL_TABLES)
def test_label_doses_list_the_three_label_levels(
    kb: KnowledgeBase, product: str, levels: tuple[float, ...], table: dict[int, tuple[int, ...]]
) -> None:
    for weight, expected in table.items():
        doses = label_doses(kb, product, float(weight))
        assert [d.level for d in doses] == ["usual_min", "usual_max", "absolute_max"]
        assert tuple(d.mg_per_kg_day for d in doses) == levels
        assert tuple(d.daily_mg for d in doses) == expected


def test_35_mg_of_absorica_is_split_25_morning_and_10_evening(kb: KnowledgeBase) -> None:
    capsules = plan(kb, daily_mg_per_kg=0.5).capsules
    assert [d.capsules_mg for d in capsules.doses] == [(25.0,), (10.0,)]


def test_even_split_is_preferred_among_equally_few_capsules(kb: KnowledgeBase) -> None:
    # 70 mg: 35 + 35 rather than 40 + 30.
    assert [d.capsules_mg for d in plan(kb).capsules.doses] == [(35.0,), (35.0,)]


def test_dose_with_no_two_dose_split_is_once_daily_and_noted(kb: KnowledgeBase) -> None:
    # Absorica 25 mg/day (50 kg at 0.5): no two Absorica capsules make 25 mg.
    result = plan(kb, weight_kg=50.0, daily_mg_per_kg=0.5)
    assert [d.capsules_mg for d in result.capsules.doses] == [(25.0,)]
    assert any("once a day" in note for note in result.notes)


def test_dose_between_capsule_totals_takes_the_closest_and_notes_it(kb: KnowledgeBase) -> None:
    result = plan(kb, weight_kg=72.0, daily_mg_per_kg=1.0)  # 72 mg asked
    assert result.daily_mg == 70.0
    assert any("closest capsule combination" in note for note in result.notes)


def test_combination_never_exceeds_the_absolute_maximum(kb: KnowledgeBase) -> None:
    # 2 mg/kg at 43 kg = 86 mg; 85 is closest and allowed, 90 would be above.
    result = plan(kb, weight_kg=43.0, daily_mg_per_kg=2.0)
    assert result.daily_mg == 85.0
    assert result.daily_mg <= 2.0 * 43.0


# --- days to target and the weekly table ----------------------------------------------


def test_one_mg_per_kg_reaches_150_mg_per_kg_in_150_days(kb: KnowledgeBase) -> None:
    result = plan(kb)
    assert result.dosing_days == 150
    assert result.end == START + timedelta(days=149)
    assert result.cumulative_mg_per_kg == 150.0
    assert result.cumulative_mg == 150 * 70.0


def test_weekly_table_has_one_row_a_week_and_ends_on_the_last_dosing_day(
    kb: KnowledgeBase,
) -> None:
    weeks = plan(kb).weeks
    assert [w.week for w in weeks] == list(range(1, 23))
    assert weeks[0].on == START + timedelta(days=6)
    assert weeks[0].cumulative_mg == 7 * 70.0
    assert weeks[0].cumulative_mg_per_kg == 7.0
    assert weeks[0].daily_mg == 70.0
    assert weeks[-1].on == START + timedelta(days=149)
    assert weeks[-1].cumulative_mg_per_kg == 150.0


def test_missed_days_give_no_dose_and_push_the_end_date(kb: KnowledgeBase) -> None:
    missed = (MissedDose(START + timedelta(days=3)), MissedDose(START + timedelta(days=4)))
    result = plan(kb, history=missed)
    assert result.dosing_days == 150
    assert result.end == START + timedelta(days=151)
    assert result.weeks[0].cumulative_mg == 5 * 70.0
    assert result.missed == (START + timedelta(days=3), START + timedelta(days=4))


def test_weight_gain_recalculates_a_weight_based_dose(kb: KnowledgeBase) -> None:
    gain = WeightChange(START + timedelta(days=28), 80.0)
    result = plan(kb, history=(gain,))
    assert [p.daily_mg for p in result.periods] == [70.0, 80.0]
    assert result.periods[1].start == gain.on
    # Every day is exactly 1 mg/kg: still 150 dosing days.
    assert result.dosing_days == 150


def test_weight_gain_keeps_a_fixed_dose_and_lengthens_the_course(kb: KnowledgeBase) -> None:
    gain = WeightChange(START + timedelta(days=28), 80.0)
    result = plan(kb, history=(gain,), weight_based=False)
    assert {p.daily_mg for p in result.periods} == {70.0}
    # 28 days at 1 mg/kg, then 70/80 = 0.875 mg/kg/day: 122 / 0.875 = 139.4 -> 140 days.
    assert result.dosing_days == 28 + 140


def test_weight_loss_never_leaves_a_fixed_dose_above_the_maximum(kb: KnowledgeBase) -> None:
    loss = WeightChange(START + timedelta(days=7), 60.0)
    result = plan(kb, daily_mg_per_kg=2.0, history=(loss,), weight_based=False)
    assert result.periods[-1].daily_mg == 120.0
    assert any("would exceed the absolute maximum" in note for note in result.notes)


def test_dose_change_applies_from_its_date(kb: KnowledgeBase) -> None:
    change = DoseChange(START + timedelta(days=10), 0.5)
    result = plan(kb, history=(change,))
    assert [(p.start, p.daily_mg) for p in result.periods] == [(START, 70.0), (change.on, 35.0)]
    # 10 days at 1 mg/kg, then 140 mg/kg at 0.5 mg/kg/day = 280 days.
    assert result.dosing_days == 290


def test_start_low_gives_four_weeks_at_half_a_mg_per_kg(kb: KnowledgeBase) -> None:
    result = plan(kb, start_low=True)
    assert [(p.start, p.daily_mg) for p in result.periods] == [
        (START, 35.0),
        (START + timedelta(weeks=4), 70.0),
    ]
    assert result.daily_mg == 70.0  # the chosen dose
    # 28 days at 0.5 = 14 mg/kg, then 136 days at 1 mg/kg.
    assert result.dosing_days == 28 + 136


def test_start_low_is_skipped_when_the_chosen_dose_is_not_higher(kb: KnowledgeBase) -> None:
    result = plan(kb, start_low=True, daily_mg_per_kg=0.5, target_mg_per_kg=60.0)
    assert len(result.periods) == 1
    assert any("Start-low not applied" in note for note in result.notes)


# --- what the planner refuses or flags ---------------------------------------------


def test_low_dose_regimen_is_allowed_and_noted(kb: KnowledgeBase) -> None:
    result = plan(kb, daily_mg_per_kg=0.3, target_mg_per_kg=120.0)
    assert result.daily_mg == 20.0
    assert any("low-dose regimen" in note for note in result.notes)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"daily_mg_per_kg": 2.01}, "daily_mg_per_kg"),
        ({"daily_mg_per_kg": 0.0}, "daily_mg_per_kg"),
        ({"product": "absorica-ld", "daily_mg_per_kg": 1.7}, "daily_mg_per_kg"),
        ({"weight_kg": 1.9}, "weight_kg"),
        ({"weight_kg": 401.0}, "weight_kg"),
        ({"target_mg_per_kg": 0.0}, "target_mg_per_kg"),
        ({"target_mg_per_kg": 301.0}, "target_mg_per_kg"),
        ({"product": "isotrex-gel"}, "product"),
        ({"product": "rectal-suppository"}, "product"),
        ({"history": (MissedDose(START - timedelta(days=1)),)}, "history"),
        ({"history": (DoseChange(START, 2.5),)}, "history dose"),
        ({"history": (WeightChange(START, 0.5),)}, "history weight"),
    ],
)
def test_impossible_plans_are_refused_naming_the_field(
    kb: KnowledgeBase, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        plan(kb, **changes)
    assert caught.value.field == field


def test_unknown_product_is_not_found(kb: KnowledgeBase) -> None:
    with pytest.raises(NotFoundError):
        plan(kb, product="accutane-xr")


def test_plan_longer_than_the_cap_is_refused(kb: KnowledgeBase) -> None:
    # 0.1 mg/kg/day (7 mg asked, 10 mg given = 0.14) to 150 mg/kg: over 1000 days.
    with pytest.raises(InvalidInputError, match="not reached within 730 days"):
        plan(kb, daily_mg_per_kg=0.1)


def test_weight_too_low_for_the_smallest_capsule_is_refused(kb: KnowledgeBase) -> None:
    # At 4 kg the maximum is 8 mg/day, below the smallest Absorica capsule (10 mg).
    with pytest.raises(InvalidInputError, match="smallest"):
        plan(kb, weight_kg=4.0)


def test_default_dose_is_the_top_of_the_label_range(kb: KnowledgeBase) -> None:
    assert default_mg_per_kg_day(kb, "absorica") == 1.0
    assert default_mg_per_kg_day(kb, "absorica-ld") == 0.8
