"""What the planner proposes, order screening accepts: a dose planned inside a
product's usual range is never flagged as above it."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.dosing.planner import plan_course
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import PatientSnapshot, Sex, Weight
from isotrack.knowledge import default_knowledge

KB = default_knowledge()
START = date(2026, 3, 2)
ORAL = [p for p in KB.products if p.available and p.route == "oral"]


@settings(max_examples=150, deadline=None)
@given(
    product=st.sampled_from(ORAL),
    weight=st.floats(min_value=25, max_value=200, allow_nan=False).map(lambda w: round(w, 1)),
    fraction=st.floats(min_value=0, max_value=1),
)
def test_a_plan_inside_the_usual_range_is_not_flagged_above_it(
    product: object, weight: float, fraction: float
) -> None:
    from isotrack.knowledge.model import Product

    assert isinstance(product, Product)
    low = product.usual_min_mg_per_kg_day
    high = product.usual_max_mg_per_kg_day
    assert low is not None
    assert high is not None
    mg_per_kg = round(low + (high - low) * fraction, 3)
    plan = plan_course(weight, product.id, 150, mg_per_kg, start=START, kb=KB)
    doses = plan.capsules.doses
    order = IsotretinoinOrder(
        product=product.id,
        dose_mg=plan.daily_mg / len(doses),
        times_per_day=len(doses),
        quantity=None,
        supply_days=30,
        repeats=0,
    )
    patient = PatientSnapshot(
        "p",
        birth_date=date(1990, 1, 1),
        sex=Sex.MALE,
        weights=(Weight(weight, START - timedelta(days=1)),),
    )
    result = screen_order(patient, order, on=START, kb=KB)
    assert not result.has("DOSE-ABOVE-RANGE"), (weight, product.id, mg_per_kg, plan.daily_mg)
