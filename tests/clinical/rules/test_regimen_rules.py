"""DOSE-NOT-TAKEABLE: a dose per administration the capsules cannot make."""

from __future__ import annotations

from isotrack.clinical.dosing import Administration, Regimen
from isotrack.clinical.findings import Severity
from isotrack.clinical.screening import screen_order
from isotrack.clinical.snapshot import Weight
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders import TODAY, man, order

RULE = "DOSE-NOT-TAKEABLE"
AT_58_KG = man(weights=(Weight(58.0, TODAY),))


def test_the_planner_bug_of_issue_13_is_critical_with_the_nearest_regimens(
    kb: KnowledgeBase,
) -> None:
    """Absorica 27.5 mg twice a day from 10 mg capsules, 165 capsules, at 58 kg."""
    untakeable = order(product="absorica", dose_mg=27.5, strength_mg=10.0, quantity=165.0)
    result = screen_order(AT_58_KG, untakeable, on=TODAY, kb=kb)
    finding = next(f for f in result.findings if f.rule_id == RULE)
    assert finding.severity is Severity.CRITICAL
    assert "27.5 mg × 2/day cannot be made from 10 mg capsules" in finding.summary
    # 30 + 25 mg (Absorica strengths) makes the 55 mg/day exactly; 30 + 20 mg is the
    # nearest with 10 mg capsules that stays within 1 mg/kg/day at 58 kg (60 mg would not).
    assert "morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg) = 55 mg/day" in finding.detail
    assert "morning 30 mg (3 × 10 mg), evening 20 mg (2 × 10 mg) = 50 mg/day" in finding.detail
    assert "= 60 mg/day" not in finding.detail


def test_a_split_dose_the_strengths_make_is_takeable(kb: KnowledgeBase) -> None:
    split = order(product="absorica", dose_mg=27.5, doses_mg=(30.0, 25.0), strength_mg=None)
    assert not screen_order(AT_58_KG, split, on=TODAY, kb=kb).has(RULE)


def test_several_capsules_of_the_ordered_strength_make_a_dose(kb: KnowledgeBase) -> None:
    two_of_twenty = order(dose_mg=40.0, strength_mg=20.0, quantity=120.0)
    assert not screen_order(man(), two_of_twenty, on=TODAY, kb=kb).has(RULE)


def test_a_dose_the_ordered_strength_cannot_make_fires_even_if_another_strength_can(
    kb: KnowledgeBase,
) -> None:
    """35 mg exists as a capsule, but not as a number of 20 mg capsules."""
    result = screen_order(man(), order(dose_mg=35.0, strength_mg=20.0), on=TODAY, kb=kb)
    assert result.has(RULE)


def test_a_regimen_of_capsules_the_product_does_not_have_fires(kb: KnowledgeBase) -> None:
    """Absorica LD has no 10 mg capsule."""
    regimen = Regimen((Administration((10.0, 10.0)), Administration((20.0,))))
    ld = order(product="absorica-ld", dose_mg=None, doses_mg=(), times_per_day=2,
               strength_mg=None, regimen=regimen)  # fmt: skip
    assert screen_order(man(), ld, on=TODAY, kb=kb).has(RULE)


def test_a_topical_order_has_no_capsules_to_check(kb: KnowledgeBase) -> None:
    gel = order(product="isotrex-gel", route="topical", dose_mg=0.5, strength_mg=None)
    assert not screen_order(man(), gel, on=TODAY, kb=kb).has(RULE)


def test_the_supply_of_a_split_regimen_counts_its_capsules_a_day(kb: KnowledgeBase) -> None:
    """60 capsules of 30 mg + 25 mg a day last 30 days (not 60 × 30 mg ÷ 55 mg = 32.7)."""
    split = Regimen((Administration((30.0,)), Administration((25.0,))))
    month = order(product="absorica", dose_mg=27.5, doses_mg=(30.0, 25.0), strength_mg=30.0,
                  regimen=split, quantity=60.0, supply_days=30.0)  # fmt: skip
    assert not screen_order(AT_58_KG, month, on=TODAY, kb=kb).has("SUPPLY-OVER-30-DAYS")
    longer = order(product="absorica", dose_mg=27.5, doses_mg=(30.0, 25.0), strength_mg=30.0,
                   regimen=split, quantity=62.0, supply_days=30.0)  # fmt: skip
    assert screen_order(AT_58_KG, longer, on=TODAY, kb=kb).has("SUPPLY-OVER-30-DAYS")
