"""SUPPLY-ON-HAND: a new order while the isotretinoin already dispensed still
covers more than the clinic's limit (default 7 days) is an early or overlapping
refill; a dispense without days supplied is a finding, never a silent pass."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isotrack.clinical.findings import Assessment, Severity
from isotrack.clinical.record import to_snapshot
from isotrack.clinical.screening import screen_order, supply_on_hand
from isotrack.clinical.snapshot import SupplyRecord
from isotrack.errors import InvalidInputError
from isotrack.knowledge import KnowledgeBase, default_knowledge, load_knowledge
from tests.clinical.builders import TODAY, man, order
from tests.clinical.builders_record import day, standard_course

RULE = "SUPPLY-ON-HAND"


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def screen(kb: KnowledgeBase, *supplies: SupplyRecord, **changes: object) -> Assessment:
    return screen_order(man(supplies=supplies), order(**changes), on=TODAY, kb=kb)


def test_the_catalogue_gives_the_rule_and_the_clinic_limit(kb: KnowledgeBase) -> None:
    rule = kb.rule(RULE)
    assert (rule.table, rule.severities, rule.basis) == ("order", ("warning",), "P")
    assert kb.number("ppp.supply_on_hand_max_days") == 7


def test_no_dispense_no_finding(kb: KnowledgeBase) -> None:
    assert not screen(kb).has(RULE)


def test_a_second_supply_ten_days_after_the_first_is_a_warning(kb: KnowledgeBase) -> None:
    # The bug of issue 13: 60 capsules for 30 days, again ten days later.
    result = screen(kb, SupplyRecord(ago(10), 30.0, quantity=60.0, prescription="p1"))
    finding = next(f for f in result.findings if f.rule_id == RULE)
    assert finding.severity is Severity.WARNING
    assert "20 days left" in finding.summary
    assert "clinic policy" in finding.summary
    assert ago(10).isoformat() in finding.detail
    assert (TODAY + timedelta(days=13)).isoformat() in finding.detail  # not before then
    assert finding.policy


def test_exactly_at_the_end_of_the_supply_nothing_fires(kb: KnowledgeBase) -> None:
    assert not screen(kb, SupplyRecord(ago(30), 30.0)).has(RULE)
    assert not screen(kb, SupplyRecord(ago(45), 30.0)).has(RULE)


def test_the_clinic_limit_is_the_grace(kb: KnowledgeBase) -> None:
    # 23 days ago: 7 days left, at the limit; 22 days ago: 8 days, over it.
    assert not screen(kb, SupplyRecord(ago(23), 30.0)).has(RULE)
    assert screen(kb, SupplyRecord(ago(22), 30.0)).has(RULE)


def test_a_clinic_policy_changes_the_limit(tmp_path: Path) -> None:
    policy = tmp_path / "clinic.toml"
    policy.write_text('[parameters]\n"ppp.supply_on_hand_max_days" = 3\n')
    stricter = load_knowledge(policy)
    assert screen(stricter, SupplyRecord(ago(23), 30.0)).has(RULE)
    assert not screen(stricter, SupplyRecord(ago(27), 30.0)).has(RULE)


def test_early_refills_add_up(kb: KnowledgeBase) -> None:
    # Two supplies of 10 days 5 days apart: 15 days left of 20 on the day of the second.
    supplies = (SupplyRecord(ago(5), 10.0), SupplyRecord(TODAY, 10.0))
    found = supply_on_hand(supplies, TODAY)
    assert found.days == 15.0
    assert found.last_covered_day == TODAY + timedelta(days=14)
    assert found.due_on(7) == TODAY + timedelta(days=8)


def test_unknown_days_supplied_is_a_finding_not_a_pass(kb: KnowledgeBase) -> None:
    result = screen(kb, SupplyRecord(ago(10), None, quantity=60.0))
    finding = next(f for f in result.findings if f.rule_id == RULE)
    assert "unknown" in finding.summary
    assert "not recorded" in finding.detail


def test_unknown_days_of_a_dispense_too_old_to_matter_is_quiet(kb: KnowledgeBase) -> None:
    # At most 30 days each: 23 days ago leaves at most 7, 22 days ago may leave 8.
    assert not screen(kb, SupplyRecord(ago(23), None)).has(RULE)
    assert screen(kb, SupplyRecord(ago(22), None)).has(RULE)


def test_a_topical_order_is_not_checked(kb: KnowledgeBase) -> None:
    gel = screen(
        kb,
        SupplyRecord(ago(1), 30.0),
        product="isotrex-gel",
        route="topical",
        strength_mg=None,
        quantity=None,
        dose_mg=None,
        times_per_day=None,
    )
    assert not gel.has(RULE)


def test_the_rest_of_the_same_prescription_is_not_an_early_refill() -> None:
    split = (SupplyRecord(ago(1), 15.0, prescription="p1"),)
    assert supply_on_hand(split, TODAY, exclude_prescription="p1").days == 0
    assert supply_on_hand(split, TODAY).days == 14


def test_a_dispense_dated_after_the_evaluation_date_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInputError) as error:
        screen(kb, SupplyRecord(TODAY + timedelta(days=1), 30.0))
    assert error.value.field == "dispense"


@pytest.mark.parametrize("days", [0.0, -3.0])
def test_a_supply_of_no_days_is_refused(days: float) -> None:
    with pytest.raises(InvalidInputError):
        SupplyRecord(TODAY, days)


def test_the_record_gives_each_dispense_its_days_supplied(kb: KnowledgeBase) -> None:
    record = standard_course(kb)  # 60 capsules for 30 days, all dispensed on day 0
    snapshot = to_snapshot(record, on=day(10), kb=kb)
    assert [(s.on, s.days, s.prescription) for s in snapshot.supplies] == [(day(0), 30.0, "p1")]
    assert to_snapshot(record, on=day(-1), kb=kb).supplies == ()
    assert screen_order(snapshot, order(), on=day(10), kb=kb).has(RULE)
    later = to_snapshot(record, on=day(23), kb=kb)
    assert not screen_order(later, order(), on=day(23), kb=kb).has(RULE)


# --- the count agrees with a patient taking one day's dose a day ----------------------
dispenses = st.lists(
    st.tuples(st.integers(min_value=0, max_value=60), st.integers(min_value=1, max_value=30)),
    max_size=6,
)


@given(dispenses, st.integers(min_value=0, max_value=90))
def test_supply_on_hand_is_what_a_daily_dose_leaves(
    given_dispenses: list[tuple[int, int]], evaluated: int
) -> None:
    start = date(2026, 1, 1)
    supplies = [SupplyRecord(start + timedelta(days=d), float(n)) for d, n in given_dispenses]
    stock = 0
    for today in range(evaluated + 1):
        stock += sum(n for d, n in given_dispenses if d == today)
        if today == evaluated:
            break
        stock = max(0, stock - 1)
    found = supply_on_hand(supplies, start + timedelta(days=evaluated))
    assert found.days == stock


@given(dispenses, st.integers(min_value=0, max_value=60))
def test_the_rule_fires_exactly_when_more_than_the_limit_is_left(
    given_dispenses: list[tuple[int, int]], evaluated: int
) -> None:
    kb = default_knowledge()
    start = TODAY - timedelta(days=evaluated)
    supplies = tuple(
        SupplyRecord(start + timedelta(days=d), float(n))
        for d, n in given_dispenses
        if start + timedelta(days=d) <= TODAY
    )
    left = supply_on_hand(supplies, TODAY).days
    assert screen(kb, *supplies).has(RULE) == (left > kb.number("ppp.supply_on_hand_max_days"))
