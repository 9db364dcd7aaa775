"""The pharmacist's check with an early supply (SUPPLY-ON-HAND): an unmet
requirement until the prescriber's decision is recorded, then shown beside the
verdict."""

from __future__ import annotations

from isotrack.clinical.record.aggregate import PatientRecord, apply
from isotrack.clinical.state.commands import AnyCommand, RecordOverride
from isotrack.knowledge import KnowledgeBase
from isotrack.web.routes.pharmacy_view import dispense_check
from tests.clinical.builders_record import (
    authorize,
    day,
    dispense,
    enrolled,
    prescribe,
    run,
    start_course,
)


def split_first_supply(kb: KnowledgeBase) -> PatientRecord:
    """p1: 30 of 60 capsules on day 0 and the rest on day 14; p2 written on day 12."""
    record = enrolled(
        kb, start_course(0), prescribe(0), authorize(0, quantity=30), dispense(0, quantity=30)
    )
    commands: list[AnyCommand] = [
        prescribe(12, prescription_id="p2"),
        authorize(14, until=20, quantity=30),
        dispense(14, quantity=30),
    ]
    return run(commands, kb, record)


def test_an_early_supply_without_a_decision_is_an_unmet_requirement(kb: KnowledgeBase) -> None:
    check = dispense_check(split_first_supply(kb), on=day(15), kb=kb)
    assert check.verdict == "refused"
    assert check.supply is not None
    assert check.supply.rule_id == "SUPPLY-ON-HAND"
    assert check.supply_decision is None
    (line,) = [r for r in check.unmet if r.key == "supply"]
    assert "prescriber's decision" in line.detail
    assert str(day(23)) in line.detail  # when it would be in time


def test_with_the_prescribers_decision_the_authorisation_may_be_issued(
    kb: KnowledgeBase,
) -> None:
    decided = RecordOverride(on=day(15), rule_id="SUPPLY-ON-HAND", reason="travelling abroad")
    record = apply(split_first_supply(kb), decided, today=day(15), kb=kb)
    check = dispense_check(record, on=day(15), kb=kb)
    assert check.verdict == "authorise"
    assert check.supply_decision is not None
    assert check.supply_decision.reason == "travelling abroad"


def test_no_early_supply_no_section(kb: KnowledgeBase) -> None:
    record = split_first_supply(kb)
    assert dispense_check(record, on=day(23), kb=kb).supply is None
