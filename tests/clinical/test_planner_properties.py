"""Properties of the planner for any weight, oral product and dose in range."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.dosing.planner import (
    CoursePlan,
    HistoryEvent,
    MissedDose,
    WeightChange,
    plan_course,
)
from isotrack.clinical.units import exact
from isotrack.knowledge import KnowledgeBase, default_knowledge

START = date(2026, 3, 2)
KB = default_knowledge()
ORAL_PRODUCTS = sorted(p.id for p in KB.products if p.available and p.route == "oral")


@st.composite
def product_and_dose(draw: st.DrawFn) -> tuple[str, float]:
    product = KB.product(draw(st.sampled_from(ORAL_PRODUCTS)))
    assert product.usual_min_mg_per_kg_day is not None
    assert product.absolute_max_mg_per_kg_day is not None
    # From half the usual minimum (a low-dose regimen) up to the absolute maximum.
    low = product.usual_min_mg_per_kg_day / 2
    dose = draw(st.floats(low, product.absolute_max_mg_per_kg_day, allow_nan=False))
    return product.id, round(dose, 3)


weights = st.floats(25, 200, allow_nan=False).map(lambda w: round(w, 1))


@st.composite
def histories(draw: st.DrawFn, start_weight: float) -> tuple[HistoryEvent, ...]:
    """Missed days and weight changes (within ±30 % of the start weight, so that even a
    fixed low dose reaches the target before the planner's cap)."""
    missed = draw(st.lists(st.integers(0, 120), max_size=20, unique=True))
    factors = st.floats(0.7, 1.3, allow_nan=False)
    changes = draw(st.lists(st.tuples(st.integers(1, 120), factors), max_size=3))
    events: list[HistoryEvent] = [MissedDose(START + timedelta(days=d)) for d in missed]
    events += [
        WeightChange(START + timedelta(days=d), round(start_weight * f, 1)) for d, f in changes
    ]
    return tuple(events)


def weight_on(plan_start_weight: float, history: tuple[HistoryEvent, ...], day: date) -> float:
    changes = sorted(
        (e for e in history if isinstance(e, WeightChange) and e.on <= day), key=lambda e: e.on
    )
    return changes[-1].weight_kg if changes else plan_start_weight


def check_plan(kb: KnowledgeBase, plan: CoursePlan, history: tuple[HistoryEvent, ...]) -> None:
    product = kb.product(plan.product)
    assert product.absolute_max_mg_per_kg_day is not None
    highest = exact(product.absolute_max_mg_per_kg_day)
    assert 0 < exact(plan.daily_mg) <= highest * exact(plan.weight_kg)
    for period in plan.periods:
        weight = weight_on(plan.weight_kg, history, period.start)
        assert 0 < exact(period.daily_mg) <= highest * exact(weight)
        for dose in period.capsules.doses:
            assert dose.capsules_mg
            assert all(c in product.strengths_mg for c in dose.capsules_mg)
    cumulative = [Fraction(0)] + [exact(w.cumulative_mg) for w in plan.weeks]
    assert cumulative == sorted(cumulative)
    per_kg = [w.cumulative_mg_per_kg for w in plan.weeks]
    assert per_kg == sorted(per_kg)
    assert plan.weeks[-1].cumulative_mg_per_kg >= plan.target_mg_per_kg
    assert plan.end >= plan.start + timedelta(days=plan.dosing_days - 1)


@settings(max_examples=60, deadline=None)
@given(weight=weights, chosen=product_and_dose(), target=st.floats(5, 60, allow_nan=False))
def test_plan_stays_in_range_with_real_capsules(
    weight: float, chosen: tuple[str, float], target: float
) -> None:
    product, dose = chosen
    plan = plan_course(weight, product, round(target, 1), dose, start=START, kb=KB)
    check_plan(KB, plan, ())
    assert plan.dosing_days == plan.end.toordinal() - START.toordinal() + 1


@settings(max_examples=40, deadline=None)
@given(
    weight=weights,
    chosen=product_and_dose(),
    data=st.data(),
    weight_based=st.booleans(),
    start_low=st.booleans(),
)
def test_plan_with_missed_days_and_weight_changes_stays_in_range(
    weight: float,
    chosen: tuple[str, float],
    data: st.DataObject,
    weight_based: bool,
    start_low: bool,
) -> None:
    product, dose = chosen
    history = data.draw(histories(weight))
    plan = plan_course(
        weight,
        product,
        30.0,
        dose,
        start=START,
        kb=KB,
        history=history,
        weight_based=weight_based,
        start_low=start_low,
    )
    check_plan(KB, plan, history)
    missed = {e.on for e in history if isinstance(e, MissedDose)}
    assert plan.end not in missed
    calendar_days = plan.end.toordinal() - START.toordinal() + 1
    assert plan.dosing_days == calendar_days - len(plan.missed)
