from __future__ import annotations

from datetime import date

import pytest

import isotrack.clinical.screening.rules.supply  # noqa: F401  # registers the supply rules
from isotrack.clinical.findings import Assessment, Severity
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import IsotretinoinCourse, PatientSnapshot
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders import TODAY, man, order


def screen(
    kb: KnowledgeBase, patient: PatientSnapshot | None = None, **changes: object
) -> Assessment:
    return screen_order(patient or man(), order(**changes), on=TODAY, kb=kb)


# --- SUPPLY-OVER-30-DAYS ----------------------------------------------------------


def test_thirty_day_supply_does_not_fire(kb: KnowledgeBase) -> None:
    # 60 capsules of 35 mg at 70 mg/day: exactly 30 days.
    assert not screen(kb).has("SUPPLY-OVER-30-DAYS")


def test_supply_duration_over_thirty_days_is_critical(kb: KnowledgeBase) -> None:
    result = screen(kb, supply_days=31.0, quantity=None)
    finding = next(f for f in result.findings if f.rule_id == "SUPPLY-OVER-30-DAYS")
    assert finding.severity is Severity.CRITICAL
    assert "31 days" in finding.summary


def test_quantity_lasting_over_thirty_days_fires(kb: KnowledgeBase) -> None:
    # 62 capsules of 35 mg at 2 a day last 31 days, whatever the stated duration.
    result = screen(kb, quantity=62.0, supply_days=30.0)
    finding = next(f for f in result.findings if f.rule_id == "SUPPLY-OVER-30-DAYS")
    assert "31 days" in finding.detail


def test_quantity_uses_capsules_per_day_from_the_strength(kb: KnowledgeBase) -> None:
    # 60 capsules of 20 mg = 1200 mg / 70 mg/day = 17 days.
    assert not screen(kb, strength_mg=20.0, quantity=60.0, supply_days=None).has(
        "SUPPLY-OVER-30-DAYS"
    )
    # 120 capsules of 20 mg = 2400 mg / 70 mg/day = 34 days.
    assert screen(kb, strength_mg=20.0, quantity=120.0, supply_days=None).has("SUPPLY-OVER-30-DAYS")


def test_order_without_supply_or_quantity_says_supply_was_not_checked(kb: KnowledgeBase) -> None:
    result = screen(kb, supply_days=None, quantity=None)
    assert not result.has("SUPPLY-OVER-30-DAYS")
    assert any("Supply length not checked" in a for a in result.assumptions)


def test_topical_gel_is_not_under_the_supply_limit(kb: KnowledgeBase) -> None:
    gel = screen(
        kb,
        product="isotrex-gel",
        route="topical",
        dose_mg=None,
        strength_mg=None,
        quantity=None,
        supply_days=60.0,
        repeats=2,
    )
    assert not gel.has("SUPPLY-OVER-30-DAYS")
    assert not gel.has("REFILLS-NOT-ALLOWED")


# --- REFILLS-NOT-ALLOWED ----------------------------------------------------------


def test_one_refill_is_critical(kb: KnowledgeBase) -> None:
    result = screen(kb, repeats=1)
    finding = next(f for f in result.findings if f.rule_id == "REFILLS-NOT-ALLOWED")
    assert finding.severity is Severity.CRITICAL


def test_no_refills_or_unstated_refills_do_not_fire(kb: KnowledgeBase) -> None:
    assert not screen(kb, repeats=0).has("REFILLS-NOT-ALLOWED")
    assert not screen(kb, repeats=None).has("REFILLS-NOT-ALLOWED")


# --- PRODUCT-NOT-SUBSTITUTABLE ----------------------------------------------------


def on_course(product: str | None, start: date = date(2026, 1, 5)) -> PatientSnapshot:
    return man(courses=(IsotretinoinCourse(start=start, product=product, prescriptions=2),))


def test_switch_from_absorica_to_absorica_ld_fires(kb: KnowledgeBase) -> None:
    result = screen(kb, on_course("absorica"), product="absorica-ld", strength_mg=28.0)
    finding = next(f for f in result.findings if f.rule_id == "PRODUCT-NOT-SUBSTITUTABLE")
    assert finding.severity is Severity.INFO
    assert "2026-01-05" in finding.summary
    assert "Absorica LD" in finding.detail


def test_same_group_generic_to_eu_capsules_does_not_fire(kb: KnowledgeBase) -> None:
    result = screen(kb, on_course("conventional"), product="eu-capsules", strength_mg=None)
    assert not result.has("PRODUCT-NOT-SUBSTITUTABLE")


def test_switch_against_the_most_recent_past_course_fires(kb: KnowledgeBase) -> None:
    past = IsotretinoinCourse(start=date(2024, 1, 1), end=date(2024, 6, 1), product="absorica")
    result = screen(kb, man(courses=(past,)), product="conventional")
    assert result.has("PRODUCT-NOT-SUBSTITUTABLE")


def test_first_course_has_no_switch(kb: KnowledgeBase) -> None:
    assert not screen(kb).has("PRODUCT-NOT-SUBSTITUTABLE")


def test_course_without_a_recorded_product_is_noted(kb: KnowledgeBase) -> None:
    result = screen(kb, on_course(None), product="absorica")
    assert not result.has("PRODUCT-NOT-SUBSTITUTABLE")
    assert any("product of the isotretinoin course" in a for a in result.assumptions)


# --- ROUTE-UNSUPPORTED ------------------------------------------------------------


def test_rectal_route_is_critical(kb: KnowledgeBase) -> None:
    result = screen(kb, route="rectal", product=None)
    finding = next(f for f in result.findings if f.rule_id == "ROUTE-UNSUPPORTED")
    assert finding.severity is Severity.CRITICAL
    assert "rectal" in finding.summary


def test_product_that_does_not_exist_is_unsupported(kb: KnowledgeBase) -> None:
    result = screen(kb, route="topical", product="topical-ointment", dose_mg=None)
    assert result.has("ROUTE-UNSUPPORTED")


def test_oral_route_in_capitals_is_supported(kb: KnowledgeBase) -> None:
    assert not screen(kb, route="Oral").has("ROUTE-UNSUPPORTED")


def test_topical_gel_by_its_route_is_supported(kb: KnowledgeBase) -> None:
    gel = screen(kb, product="isotrex-gel", route="topical", dose_mg=None, strength_mg=None)
    assert not gel.has("ROUTE-UNSUPPORTED")


# --- a route beside the other order checks ------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"route": "rectal", "product": None},
        {"route": "intravenous"},
        {"route": "rectal", "product": "rectal-suppository"},
    ],
    ids=["rectal, no product", "intravenous capsules", "suppository that does not exist"],
)
def test_refills_and_supply_are_checked_beside_route_unsupported(
    kb: KnowledgeBase, changes: dict[str, object]
) -> None:
    result = screen(kb, repeats=2, supply_days=90.0, **changes)
    assert result.has("ROUTE-UNSUPPORTED")
    assert result.has("REFILLS-NOT-ALLOWED")
    assert result.has("SUPPLY-OVER-30-DAYS")


def test_an_unread_route_still_gets_the_refill_check(kb: KnowledgeBase) -> None:
    result = screen(kb, route="c99999", route_recognised=False, repeats=1)
    assert result.has("REFILLS-NOT-ALLOWED")
    assert not result.has("ROUTE-UNSUPPORTED")


def test_a_topical_gel_has_no_refill_check(kb: KnowledgeBase) -> None:
    gel = screen(
        kb, product="isotrex-gel", route="topical", dose_mg=None, strength_mg=None, repeats=2
    )
    assert not gel.has("REFILLS-NOT-ALLOWED")


def test_a_dose_range_counts_the_supply_at_its_low_end(kb: KnowledgeBase) -> None:
    # 60 capsules of 35 mg: 30 days at 70 mg/day, but 60 days at the lowest 35 mg/day.
    ranged = screen(kb, lowest_daily_mg=35.0)
    finding = next(f for f in ranged.findings if f.rule_id == "SUPPLY-OVER-30-DAYS")
    assert "at 35 mg/day" in finding.detail
    assert not screen(kb).has("SUPPLY-OVER-30-DAYS")
