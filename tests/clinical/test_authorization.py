"""Dispensing authorisations: issued with the programme's terms and the identity
of the patient, stated as claims a token carries (read back exactly, refused when
malformed), and used once: a second dispense under one authorisation, more capsules
than it allows, or a day outside it are refused, saying why."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from msgspec.structs import replace

from isotrack.clinical.programme.authorization import (
    Authorization,
    as_command,
    authorization_claims,
    authorization_from_claims,
    authorize_dispense,
    check_in_force,
)
from isotrack.clinical.record.aggregate import PatientRecord, apply
from isotrack.clinical.state.commands import Dispense, Prescribe
from isotrack.errors import CommandRejected, InvalidInputError, ProgrammeRefusal
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_programme import (
    EU,
    US,
    authorize,
    day,
    dispense,
    eligible,
    man,
    prescribe,
    run,
)

AUTHORIZATION = Authorization(
    id="PA-7KQ2MX9RTD",
    patient_id="w1",
    patient_name="Ana López",
    birth_date=date(2001, 5, 4),
    prescription_id="p2",
    product="isotretinoin-capsule",
    capsules=((30.0, 30), (25.0, 30)),
    max_days=30,
    issued_on=date(2026, 3, 2),
    not_after=date(2026, 3, 8),
    prescriber="dr.kim",
    programme="us-ipledge-2024",
)


def issued(record: PatientRecord, n: int, kb: KnowledgeBase) -> Authorization:
    return authorize_dispense(record, on=day(n), kb=kb, authorization_id=f"PA-{n}")


# --- the claims -------------------------------------------------------------------------------


def test_the_claims_read_back_to_the_same_authorisation() -> None:
    claims = authorization_claims(AUTHORIZATION)
    assert claims["nm"] == "Ana López"
    assert claims["dob"] == "2001-05-04"
    assert claims["caps"] == [[30, 30], [25, 30]]
    assert claims["dnd"] == "2026-03-08"
    assert authorization_from_claims(claims) == AUTHORIZATION
    assert AUTHORIZATION.max_quantity == 60


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"v": 1}, "format 1 is not 2"),
        ({"nm": 7}, "nm is not text"),
        ({"caps": [[30, -1]]}, "capsules [30, -1] are not [mg, count]"),
        ({"caps": [[True, 30]]}, "capsules [True, 30] are not [mg, count]"),
        ({"caps": []}, "no capsules or no days of supply"),
        ({"ds": "30"}, "no capsules or no days of supply"),
        ({"dnd": "someday"}, "Invalid isoformat string: 'someday'"),
    ],
)
def test_malformed_claims_are_refused(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        authorization_from_claims(authorization_claims(AUTHORIZATION) | change)
    assert str(caught.value) == f"token: is malformed: {reason}"


def test_a_missing_claim_is_refused() -> None:
    claims = authorization_claims(AUTHORIZATION)
    del claims["dob"]
    with pytest.raises(InvalidInputError) as caught:
        authorization_from_claims(claims)
    assert str(caught.value) == "token: is malformed: 'dob'"


def test_an_authorisation_is_not_in_force_after_its_date_or_before_its_issue() -> None:
    check_in_force(AUTHORIZATION, AUTHORIZATION.not_after)
    with pytest.raises(ProgrammeRefusal) as caught:
        check_in_force(AUTHORIZATION, date(2026, 3, 9))
    assert str(caught.value) == (
        "token: authorisation PA-7KQ2MX9RTD expired: do not dispense after 2026-03-08 "
        "(checked on 2026-03-09); needs a new authorisation"
    )
    with pytest.raises(ProgrammeRefusal) as caught:
        check_in_force(AUTHORIZATION, date(2026, 3, 1))
    assert "is not in force before then" in str(caught.value)


# --- used once --------------------------------------------------------------------------------


def named(n: int, authorization_id: str, quantity: int = 60, by: str = "") -> Dispense:
    return Dispense(
        on=day(n), prescription_id="p1", quantity=quantity, authorization_id=authorization_id,
        dispensed_by=by,
    )  # fmt: skip


def test_a_second_dispense_under_one_authorisation_is_refused_saying_when_and_by_whom(
    kb: KnowledgeBase,
) -> None:
    record = run([prescribe(0, "p1"), authorize(0)], kb, man(kb))
    record = run([named(1, "A0", 30, by="pharm.lee at Main St")], kb, record)
    assert record.courses[0].dispenses[0].authorization_id == "A0"
    with pytest.raises(CommandRejected) as caught:
        apply(record, named(2, "A0", 30), today=day(2), kb=kb)
    assert str(caught.value) == (
        "authorization_id: authorisation A0 was already dispensed on 2026-01-06 (30 capsules, "
        "by pharm.lee at Main St): each authorisation is used once; do not dispense again, "
        "ask the prescriber"
    )


def test_a_dispense_naming_no_authorisation_uses_the_one_in_force(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1"), authorize(0), dispense(1, "p1", 30)], kb, man(kb))
    assert record.courses[0].dispenses[0].authorization_id == "A0"
    with pytest.raises(CommandRejected) as caught:
        apply(record, named(2, "A0", 30), today=day(2), kb=kb)
    assert "A0 was already dispensed on" in str(caught.value)
    with pytest.raises(ProgrammeRefusal) as refused:
        apply(record, dispense(2, "p1", 30), today=day(2), kb=kb)
    assert "A0 was used on 2026-01-06 (30 capsules): each authorisation is used once" in str(
        refused.value
    )


def test_more_capsules_than_authorised_are_refused(kb: KnowledgeBase) -> None:
    big = Prescribe(
        on=day(0), prescription_id="p1", dose_mg=20.0, times_per_day=2, strength_mg=10.0,
        quantity=150, supply_days=30,
    )  # fmt: skip
    record = run([big, authorize(0)], kb, man(kb))
    with pytest.raises(CommandRejected) as caught:
        apply(record, named(1, "A0", 121), today=day(1), kb=kb)
    assert str(caught.value) == (
        "quantity: 121 capsules is more than the 120 authorisation A0 allows: dispense at most 120"
    )


def test_a_dispense_after_the_do_not_dispense_after_date_is_refused(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1"), authorize(0)], kb, eligible(US, kb))
    not_after = record.courses[0].authorizations[0].not_after
    late = (not_after - day(0)).days + 1
    with pytest.raises(CommandRejected) as caught:
        apply(record, named(late, "A0"), today=day(late), kb=kb)
    assert caught.value.field == "authorization_id"
    assert f"is in force from {day(0)} to {not_after}, not on {day(late)}" in str(caught.value)


def test_an_unknown_authorisation_is_refused(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1"), authorize(0)], kb, man(kb))
    with pytest.raises(CommandRejected) as caught:
        apply(record, named(1, "PA-FORGED"), today=day(1), kb=kb)
    assert "no authorisation 'PA-FORGED' is recorded in course c1" in str(caught.value)


# --- issuing -------------------------------------------------------------------------------------


def test_an_iplege_authorisation_runs_7_days_from_the_specimen_date(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1")], kb, eligible(US, kb))
    authorization = issued(record, 2, kb)
    assert (authorization.prescription_id, authorization.course_id) == ("p1", "c1")
    assert (authorization.issued_on, authorization.not_after) == (day(2), day(6))
    assert (authorization.max_quantity, authorization.max_days) == (60, 30)
    assert (authorization.programme, authorization.version) == (US, kb.programme(US).version)
    assert (authorization.patient_name, authorization.birth_date) == (
        record.name,
        record.birth_date,
    )
    assert authorization.product == record.courses[0].product
    assert authorization.capsules == ((30.0, 60),)


def test_an_eu_authorisation_runs_7_days_after_the_prescription(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1")], kb, eligible(EU, kb))
    assert issued(record, 0, kb).not_after == day(7)


def test_the_maximum_quantity_is_30_days_of_the_dose(kb: KnowledgeBase) -> None:
    big = Prescribe(
        on=day(0), prescription_id="p1", dose_mg=20.0, times_per_day=2, strength_mg=10.0,
        quantity=150, supply_days=30,
    )  # fmt: skip
    record = run([big], kb, man(kb))
    authorization = issued(record, 0, kb)
    assert authorization.max_quantity == 120  # 30 days × 40 mg / 10 mg, not the 150 written
    short = replace(big, prescription_id="p2", quantity=20, supply_days=10)
    record = run([short], kb, man(kb))
    assert (issued(record, 0, kb).max_quantity, issued(record, 0, kb).max_days) == (20, 10)


def test_an_issued_authorisation_is_recorded_and_allows_the_dispense(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1")], kb, man(kb))
    authorization = issued(record, 0, kb)
    record = apply(record, as_command(authorization), today=day(0), kb=kb)
    (recorded,) = record.courses[0].authorizations
    assert (recorded.id, recorded.not_after, recorded.max_quantity) == (
        authorization.id,
        authorization.not_after,
        authorization.max_quantity,
    )
    record = run([dispense(3, "p1")], kb, record)
    assert record.courses[0].prescriptions[0].dispensed_capsules == 60


def test_an_authorisation_id_is_used_once(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1"), authorize(0)], kb, man(kb))
    with pytest.raises(InvalidInputError) as caught:
        authorize_dispense(record, on=day(0), kb=kb, authorization_id="A0")
    assert str(caught.value) == "authorization_id: A0 is already used: give a new id"
