from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isotrack.clinical.screening.rules.dosing  # noqa: F401  # registers the dose rules
from isotrack.clinical.findings import Assessment, Severity
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import Weight
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders import TODAY, man, order


def screen(kb: KnowledgeBase, **order_changes: object) -> Assessment:
    return screen_order(man(), order(**order_changes), on=TODAY, kb=kb)


def severity_of(result: Assessment, rule_id: str) -> Severity:
    return next(f.severity for f in result.findings if f.rule_id == rule_id)


# --- DOSE-ABOVE-RANGE -------------------------------------------------------------


def test_exactly_one_mg_per_kg_does_not_fire_above_range(kb: KnowledgeBase) -> None:
    result = screen(kb, dose_mg=35.0, times_per_day=2)  # 70 mg at 70 kg
    assert not result.has("DOSE-ABOVE-RANGE")


def test_just_above_usual_maximum_warns(kb: KnowledgeBase) -> None:
    result = screen(kb, dose_mg=36.0, times_per_day=2)  # 72 mg at 70 kg = 1.03 mg/kg/day
    assert result.has("DOSE-ABOVE-RANGE")
    assert severity_of(result, "DOSE-ABOVE-RANGE") is Severity.WARNING


def test_above_absolute_maximum_is_critical_and_names_range_dose_and_weight(
    kb: KnowledgeBase,
) -> None:
    result = screen(kb, dose_mg=80.0, times_per_day=2, strength_mg=40.0)  # 160 mg at 70 kg
    finding = next(f for f in result.findings if f.rule_id == "DOSE-ABOVE-RANGE")
    assert finding.severity is Severity.CRITICAL
    assert "0.5–1 mg/kg/day" in finding.detail
    assert "absolute maximum 2 mg/kg/day" in finding.detail
    assert "160 mg/day" in finding.detail
    assert "2.29 mg/kg/day" in finding.detail
    assert "70 kg (weighed 2026-02-20)" in finding.detail
    assert "2026-02-20" in finding.summary


def test_exactly_two_mg_per_kg_is_a_warning_not_critical(kb: KnowledgeBase) -> None:
    result = screen(kb, dose_mg=70.0, times_per_day=2)  # 140 mg at 70 kg
    assert severity_of(result, "DOSE-ABOVE-RANGE") is Severity.WARNING


def test_absorica_ld_uses_its_own_lower_range(kb: KnowledgeBase) -> None:
    # 56 mg at 70 kg = 0.8 mg/kg/day: the top of the LD range, no finding.
    at_max = screen(kb, product="absorica-ld", dose_mg=28.0, times_per_day=2, strength_mg=28.0)
    assert not at_max.has("DOSE-ABOVE-RANGE")
    # 64 mg = 0.91 mg/kg/day: fine for conventional capsules, above the LD maximum.
    above = screen(kb, product="absorica-ld", dose_mg=32.0, times_per_day=2, strength_mg=32.0)
    assert severity_of(above, "DOSE-ABOVE-RANGE") is Severity.WARNING


def test_no_recent_weight_makes_no_mg_per_kg_judgement_and_says_so(kb: KnowledgeBase) -> None:
    old = man(weights=(Weight(70.0, date(2025, 6, 1)),))
    result = screen_order(old, order(dose_mg=100.0, times_per_day=2), on=TODAY, kb=kb)
    assert not result.has("DOSE-ABOVE-RANGE")
    assert not result.has("DOSE-BELOW-RANGE")
    assert any("mg/kg not checked: no recent weight" in a for a in result.assumptions)


def test_topical_gel_gets_no_dose_rules(kb: KnowledgeBase) -> None:
    gel = order(
        product="isotrex-gel",
        route="topical",
        dose_mg=None,
        times_per_day=1,
        strength_mg=None,
        quantity=None,
        supply_days=None,
    )
    result = screen_order(man(), gel, on=TODAY, kb=kb)
    for rule_id in ("DOSE-ABOVE-RANGE", "DOSE-BELOW-RANGE", "DOSE-ONCE-DAILY", "DOSE-UNPARSEABLE"):
        assert not result.has(rule_id)
    assert any("topical" in a for a in result.assumptions)


@settings(max_examples=60, deadline=None)
@given(
    weight=st.floats(min_value=30, max_value=150, allow_nan=False),
    mg_per_kg=st.floats(min_value=0.05, max_value=3.0, allow_nan=False),
)
def test_above_range_severity_follows_the_mg_per_kg_band(
    kb: KnowledgeBase, weight: float, mg_per_kg: float
) -> None:
    daily = weight * mg_per_kg
    patient = man(weights=(Weight(weight, date(2026, 2, 20)),))
    result = screen_order(patient, order(dose_mg=daily / 2, times_per_day=2), on=TODAY, kb=kb)
    per_kg = (daily / 2 * 2) / weight
    tolerance = kb.number("dose.tolerance_mg_per_kg_day")
    product = kb.product("conventional")
    assert product.absolute_max_mg_per_kg_day is not None
    assert product.usual_max_mg_per_kg_day is not None
    assert product.usual_min_mg_per_kg_day is not None
    if per_kg > product.absolute_max_mg_per_kg_day + tolerance:
        assert severity_of(result, "DOSE-ABOVE-RANGE") is Severity.CRITICAL
    elif per_kg > product.usual_max_mg_per_kg_day + tolerance:
        assert severity_of(result, "DOSE-ABOVE-RANGE") is Severity.WARNING
    else:
        assert not result.has("DOSE-ABOVE-RANGE")
    below = per_kg < product.usual_min_mg_per_kg_day - tolerance
    assert result.has("DOSE-BELOW-RANGE") == below


# --- DOSE-BELOW-RANGE -------------------------------------------------------------


def test_below_usual_minimum_is_info(kb: KnowledgeBase) -> None:
    result = screen(kb, dose_mg=15.0, times_per_day=2, strength_mg=None)  # 30 mg = 0.43 mg/kg
    assert severity_of(result, "DOSE-BELOW-RANGE") is Severity.INFO
    finding = next(f for f in result.findings if f.rule_id == "DOSE-BELOW-RANGE")
    assert "0.43 mg/kg/day" in finding.detail


def test_exactly_half_mg_per_kg_is_not_below_range(kb: KnowledgeBase) -> None:
    result = screen(kb, dose_mg=17.5, times_per_day=2, strength_mg=None)  # 35 mg at 70 kg
    assert not result.has("DOSE-BELOW-RANGE")


# --- DOSE-ONCE-DAILY --------------------------------------------------------------


def test_whole_dose_once_a_day_fires(kb: KnowledgeBase) -> None:
    result = screen(kb, dose_mg=70.0, times_per_day=1, quantity=30.0, strength_mg=70.0)
    assert result.has("DOSE-ONCE-DAILY")
    assert severity_of(result, "DOSE-ONCE-DAILY") is Severity.INFO


def test_two_doses_a_day_does_not_fire_once_daily(kb: KnowledgeBase) -> None:
    assert not screen(kb).has("DOSE-ONCE-DAILY")


# --- DOSE-UNPARSEABLE -------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [{"dose_mg": None}, {"times_per_day": None}, {"product": None}],
    ids=["no dose", "no frequency", "unknown product"],
)
def test_unreadable_dose_frequency_or_product_warns(
    kb: KnowledgeBase, changes: dict[str, object]
) -> None:
    result = screen(kb, text="isotretinoin as directed", **changes)
    assert severity_of(result, "DOSE-UNPARSEABLE") is Severity.WARNING
    assert not result.has("DOSE-ABOVE-RANGE")


def test_readable_order_is_not_unparseable(kb: KnowledgeBase) -> None:
    assert not screen(kb).has("DOSE-UNPARSEABLE")


def test_a_rectal_order_is_still_dose_checked_beside_route_unsupported(kb: KnowledgeBase) -> None:
    result = screen(kb, route="rectal", product=None, dose_mg=None)
    assert result.has("ROUTE-UNSUPPORTED")
    assert result.has("DOSE-UNPARSEABLE")


def test_an_unread_route_warns_and_the_order_is_checked_as_oral(kb: KnowledgeBase) -> None:
    result = screen(kb, route="swallow whole", route_recognised=False, dose_mg=120.0)
    finding = next(f for f in result.findings if f.rule_id == "DOSE-UNPARSEABLE")
    assert finding.severity is Severity.WARNING
    assert "'swallow whole'" in finding.summary
    assert result.has("DOSE-ABOVE-RANGE")
    assert not result.has("ROUTE-UNSUPPORTED")


def test_split_doses_are_checked_at_their_daily_total(kb: KnowledgeBase) -> None:
    split = screen(kb, dose_mg=27.5, times_per_day=2, doses_mg=(30.0, 25.0), strength_mg=None)
    assert not split.has("DOSE-UNPARSEABLE")
    heavy = screen(kb, dose_mg=60.0, times_per_day=2, doses_mg=(80.0, 40.0), strength_mg=None)
    finding = next(f for f in heavy.findings if f.rule_id == "DOSE-ABOVE-RANGE")
    assert "80 + 40 mg = 120 mg/day" in finding.detail
