"""SUPPLY-ON-HAND at the record: a prescription, an authorisation or a dispense
while the supply already dispensed covers more than the clinic's limit is
refused until a clinician records the decision to go ahead that day."""

from __future__ import annotations

from datetime import date

from isotrack.clinical.state.commands import Prescribe
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_record import (
    authorize,
    day,
    dispense,
    early_supply,
    enrol_man,
    enrolled,
    prescribe,
    run,
    standard_commands,
    standard_course,
    start_course,
)
from tests.clinical.test_record import refused


def test_a_second_supply_ten_days_after_the_first_is_refused_at_each_step(
    kb: KnowledgeBase,
) -> None:
    record = standard_course(kb)  # 60 capsules for 30 days dispensed on day 0
    error = refused(record, prescribe(10, prescription_id="p2"), kb)
    assert error.field == "supply"
    assert "SUPPLY-ON-HAND" in error.message
    assert "20 days" in error.message
    assert str(day(23)) in error.message  # when it would be in time
    record = run([early_supply(10), prescribe(10, prescription_id="p2")], kb, record)
    # The prescriber's decision covers its authorisation and its dispense...
    record = run([authorize(11, "p2", until=16), dispense(12, prescription_id="p2")], kb, record)
    assert [d.on for d in record.courses[0].dispenses] == [day(0), day(12)]
    # ...but not the next early supply: that needs a decision of its own.
    error = refused(record, prescribe(14, prescription_id="p3"), kb)
    assert "SUPPLY-ON-HAND" in error.message


def test_without_a_decision_the_authorisation_and_the_dispense_are_refused(
    kb: KnowledgeBase,
) -> None:
    # p2 written in time (day 23), then the rest of p1 handed out late on day 24.
    record = enrolled(
        kb, start_course(0), prescribe(0), authorize(0, quantity=30), dispense(0, quantity=30)
    )
    record = run(
        [prescribe(12, prescription_id="p2"), authorize(14, until=20, quantity=30)], kb, record
    )
    record = run([dispense(14, quantity=30)], kb, record)  # the rest of p1: no refill
    assert "SUPPLY-ON-HAND" in refused(record, authorize(15, "p2"), kb).message
    record = run([early_supply(15), authorize(15, "p2")], kb, record)
    assert record.courses[0].authorizations[-1].prescription_id == "p2"


def test_at_the_clinic_limit_the_next_prescription_goes_ahead(kb: KnowledgeBase) -> None:
    record = run([prescribe(23, prescription_id="p2")], kb, standard_course(kb))
    assert [p.id for p in record.courses[0].prescriptions] == ["p1", "p2"]


def test_the_rest_of_the_same_prescription_is_no_early_refill(kb: KnowledgeBase) -> None:
    record = enrolled(
        kb, start_course(0), prescribe(0), authorize(0, quantity=30), dispense(0, quantity=30)
    )
    record = run([authorize(2, quantity=30), dispense(2, quantity=30)], kb, record)
    assert sum(d.quantity for d in record.courses[0].dispenses) == 60


def test_a_decision_made_before_the_supply_was_dispensed_does_not_count(
    kb: KnowledgeBase,
) -> None:
    record = run([early_supply(-1), *standard_commands()[1:]], kb, run([enrol_man()], kb))
    assert "SUPPLY-ON-HAND" in refused(record, prescribe(10, prescription_id="p2"), kb).message


def test_the_demo_clinic_has_a_patient_asking_for_an_early_refill(kb: KnowledgeBase) -> None:
    from isotrack.clinical.order import IsotretinoinOrder
    from isotrack.clinical.record import replay, to_snapshot
    from isotrack.clinical.screening import screen_order
    from isotrack.demo.clinic import demo_clinic

    today = date(2026, 3, 2)
    nico = next(p for p in demo_clinic(today, kb) if p.patient_id == "demo-nico")
    record = replay(nico.commands, kb=kb, strict=True)
    repeat = IsotretinoinOrder(
        product="conventional", dose_mg=30, times_per_day=2, strength_mg=30, quantity=60,
        supply_days=30, repeats=0,
    )  # fmt: skip
    result = screen_order(to_snapshot(record, on=today, kb=kb), repeat, on=today, kb=kb)
    assert "SUPPLY-ON-HAND" in result.rule_ids
    again = Prescribe(
        on=today, prescription_id="again", dose_mg=30, times_per_day=2, strength_mg=30,
        quantity=60, supply_days=30,
    )  # fmt: skip
    error = refused(record, again, kb)
    assert "20 days" in error.message
