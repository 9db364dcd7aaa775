"""Impossible input is refused at the door with a typed error naming the field,
and units are normalised there (lb → kg, mmol/L → mg/dL, g → mg)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import LabResult, MoodScreen, PregnancyTest, TestResult, Weight
from isotrack.clinical.units import to_canonical
from isotrack.errors import InvalidInputError, NotFoundError
from isotrack.knowledge import KnowledgeBase, default_knowledge
from tests.clinical.builders import TODAY, man, order


def refused(kb: KnowledgeBase, field: str, **changes: object) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        screen_order(man(**changes), order(), on=TODAY, kb=kb)
    assert caught.value.field == field
    return caught.value


@pytest.mark.parametrize("kg", [0.0, -3.0])
def test_a_weight_of_zero_or_less_is_refused_on_construction(kg: float) -> None:
    with pytest.raises(InvalidInputError, match="weight"):
        Weight(kg, TODAY)


def test_a_weight_of_700_kg_is_refused_naming_the_field(kb: KnowledgeBase) -> None:
    error = refused(kb, "weight", weights=(Weight(700.0, TODAY),))
    assert "700 kg" in str(error)


def test_a_negative_or_zero_dose_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="dose_mg"):
        IsotretinoinOrder(dose_mg=-40.0, times_per_day=2)
    with pytest.raises(InvalidInputError, match="times_per_day"):
        IsotretinoinOrder(dose_mg=40.0, times_per_day=0)


def test_an_absurd_daily_dose_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInputError, match="order dose"):
        screen_order(man(), order(dose_mg=900.0), on=TODAY, kb=kb)


def test_a_pregnancy_test_dated_after_the_evaluation_date_is_refused(kb: KnowledgeBase) -> None:
    later = PregnancyTest(TODAY + timedelta(days=1), TestResult.NEGATIVE)
    error = refused(kb, "pregnancy test", pregnancy_tests=(later,))
    assert str(TODAY + timedelta(days=1)) in str(error)


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("lab result", {"labs": (LabResult("alt", 20.0, "U/L", TODAY + timedelta(days=3)),)}),
        ("weight", {"weights": (Weight(70.0, TODAY + timedelta(days=1)),)}),
        ("mood screen", {"mood_screens": (MoodScreen(TODAY + timedelta(days=2), 3),)}),
        ("birth_date", {"birth_date": TODAY + timedelta(days=1)}),
    ],
)
def test_records_dated_after_the_evaluation_date_are_refused(
    kb: KnowledgeBase, field: str, changes: dict[str, object]
) -> None:
    refused(kb, field, **changes)


def test_an_unknown_product_is_not_found(kb: KnowledgeBase) -> None:
    with pytest.raises(NotFoundError, match="known: absorica"):
        screen_order(man(), order(product="accutane-xr"), on=TODAY, kb=kb)


def test_pounds_grams_and_mmol_are_converted(kb: KnowledgeBase) -> None:
    assert to_canonical("weight", 154, "lbs", kb) == pytest.approx(69.853, abs=1e-3)
    assert to_canonical("weight", 70000, "g", kb) == pytest.approx(70.0)
    assert to_canonical("dose", 0.04, "g", kb) == pytest.approx(40.0)
    assert to_canonical("triglycerides", 5.65, "mmol/L", kb) == pytest.approx(500.4, abs=0.1)
    assert to_canonical("cholesterol", 5.0, "mmol/l", kb) == pytest.approx(193.35)
    assert to_canonical("alt", 40, "U/L", kb) == 40


def test_an_unknown_unit_is_refused_not_guessed(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInputError, match="stone"):
        to_canonical("weight", 11, "stone", kb)
    with pytest.raises(InvalidInputError, match="analyte"):
        to_canonical("potassium", 4, "mmol/L", kb)


@given(st.floats(min_value=0.1, max_value=50, allow_nan=False))
def test_triglyceride_conversion_round_trips_through_the_knowledge_factor(mmol: float) -> None:
    kb = default_knowledge()
    factor = next(u.factor for u in kb.unit_conversions if u.id == "tg-mmol-mgdl")
    assert to_canonical("triglycerides", mmol, "mmol/L", kb) / factor == pytest.approx(mmol)


def test_validation_changes_nothing_and_a_valid_snapshot_passes(kb: KnowledgeBase) -> None:
    snapshot = man(weights=(Weight(70.0, date(2026, 2, 20)),))
    before = repr(snapshot)
    screen_order(snapshot, order(), on=TODAY, kb=kb)
    assert repr(snapshot) == before
