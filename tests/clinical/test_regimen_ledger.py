"""A split-dose regimen read the same by the dispense, the cumulative-dose ledger and
the PK dose history (issue 13): a Hypothesis property over random takeable regimens,
recorded through real commands."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.dosing import Administration, Regimen, cumulative_dose
from isotrack.clinical.pk import course_doses
from isotrack.clinical.record.aggregate import apply
from isotrack.clinical.state import RecordMissedDoses, prescription_of
from isotrack.clinical.units import exact
from isotrack.errors import CommandRejected
from isotrack.knowledge import default_knowledge
from tests.clinical.builders_record import (
    authorize,
    counsel,
    day,
    dispense,
    enrol_man,
    prescribe,
    run,
    start_course,
    weight,
)

KB = default_knowledge()
STRENGTHS = KB.product("conventional").strengths_mg

administrations = st.lists(st.sampled_from(STRENGTHS), min_size=1, max_size=2).map(
    lambda capsules: Administration(tuple(sorted(capsules, reverse=True)))
)
regimens = st.lists(administrations, min_size=1, max_size=3).map(
    lambda doses: Regimen(tuple(doses))
)


@settings(max_examples=40, deadline=None)
@given(
    regimen=regimens.filter(lambda r: r.total_mg <= 140),  # 2 mg/kg/day at 70 kg
    supply_days=st.integers(1, 30),
    data=st.data(),
)
def test_dispense_ledger_and_pk_agree_for_any_takeable_regimen(
    regimen: Regimen, supply_days: int, data: st.DataObject
) -> None:
    days_dispensed = data.draw(st.integers(1, supply_days), label="days dispensed")
    capsules = regimen.capsule_count * days_dispensed
    prescription = prescription_of(
        on=day(0), prescription_id="p1", regimen=regimen, supply_days=supply_days,
        override_reason="regimen chosen for the test",
    )  # fmt: skip
    record = run(
        [enrol_man(), counsel(), weight(0), start_course(0), prescription,
         authorize(0, quantity=capsules), dispense(0, quantity=capsules)],
        KB,
    )  # fmt: skip
    missed = data.draw(st.sets(st.integers(1, 40), max_size=5), label="missed days")
    if missed:
        record = apply(
            record, RecordMissedDoses(on=day(41), days=tuple(sorted(day(n) for n in missed))),
            today=day(41), kb=KB,
        )  # fmt: skip
    course = record.courses[0]
    (stored,) = course.prescriptions
    assert stored.regimen == regimen
    assert stored.capsules_by_strength(capsules) == regimen.quantities(days_dispensed)
    (handed_out,) = course.dispenses
    daily = exact(regimen.total_mg)
    assert exact(handed_out.mg) == daily * days_dispensed

    on = day(data.draw(st.integers(0, 45), label="evaluated on day"))
    ledger = cumulative_dose(record, course, on=on, kb=KB)
    assert exact(ledger.mg) + exact(ledger.missed_mg) + exact(ledger.on_hand_mg) == exact(
        handed_out.mg
    )
    taken_days = [d for d in ledger.days if d.status == "taken"]
    assert exact(ledger.mg) == daily * len(taken_days)  # whole days: never a part of one

    doses = course_doses(record, course, on=on, kb=KB)
    assert sum((exact(d.mg) for d in doses), Fraction(0)) == exact(ledger.mg)
    for taken in taken_days:
        start = (taken.on - course.start).days * 24
        that_day = [d.mg for d in doses if start <= d.time_h < start + 24]
        assert tuple(that_day) == regimen.doses_mg  # morning first, as prescribed


def test_a_dispense_that_splits_a_day_of_two_strengths_is_refused() -> None:
    regimen = Regimen((Administration((30.0,)), Administration((25.0,))))
    prescription = prescription_of(on=day(0), prescription_id="p1", regimen=regimen, supply_days=30)
    record = run([enrol_man(), counsel(), weight(0, 58.0), start_course(0), prescription,
                  authorize(0, quantity=60)], KB)  # fmt: skip
    with pytest.raises(CommandRejected, match="DOSE-NOT-TAKEABLE") as refused:
        apply(record, dispense(0, quantity=59), today=day(0), kb=KB)
    assert "multiple of 2 capsules a day (1 × 30 mg and 1 × 25 mg)" in refused.value.message
    record = apply(record, dispense(0, quantity=60), today=day(0), kb=KB)
    assert record.courses[0].dispenses[0].mg == 30 * 55


def test_an_untakeable_prescription_is_refused_with_the_nearest_regimens() -> None:
    """Issue 13: 27.5 mg twice a day of 10 mg capsules was stored."""
    record = run([enrol_man(), counsel(), weight(0, 58.0), start_course(0, product="absorica")], KB)
    untakeable = prescribe(0, dose_mg=27.5, strength_mg=10.0, quantity=165)
    with pytest.raises(CommandRejected) as refused:
        apply(record, untakeable, today=day(0), kb=KB)
    assert refused.value.field == "dose_mg"
    assert "27.5 mg cannot be made from 10 mg capsules (DOSE-NOT-TAKEABLE)" in str(refused.value)
    assert "morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg)" in str(refused.value)
