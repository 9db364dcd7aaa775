"""The cumulative dose ledger on worked examples: dispensed minus missed, in mg and
mg/kg with the weight in force each day."""

from __future__ import annotations

import pytest

from isotrack.clinical.record.aggregate import CumulativeDose, PatientRecord, cumulative_dose
from isotrack.clinical.state.commands import (
    AnyCommand,
    ChangeDose,
    EndCourse,
    PauseCourse,
    RecordMissedDoses,
    ResumeCourse,
)
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_record import (
    authorize,
    day,
    dispense,
    early_supply,
    enrolled,
    prescribe,
    run,
    standard_course,
    start_course,
    weight,
)

SUPPLY_MG = 60 * 35.0
"""The standard dispense: 60 capsules of 35 mg, 70 mg a day for 30 days."""


def dose_on(record: PatientRecord, n: int, kb: KnowledgeBase) -> CumulativeDose:
    return cumulative_dose(record, record.courses[0], on=day(n), kb=kb)


def then(kb: KnowledgeBase, *commands: AnyCommand) -> PatientRecord:
    return run(commands, kb, standard_course(kb))


def test_each_day_takes_the_daily_dose_from_the_supply(kb: KnowledgeBase) -> None:
    dose = dose_on(standard_course(kb), 9, kb)
    assert dose.mg == 700.0  # 10 days × 70 mg, day 0 included
    assert dose.mg_per_kg == pytest.approx(10.0)
    assert (dose.dispensed_mg, dose.missed_mg, dose.on_hand_mg) == (SUPPLY_MG, 0.0, 1400.0)
    assert [d.status for d in dose.days] == ["taken"] * 10


def test_the_dose_stops_when_the_supply_runs_out(kb: KnowledgeBase) -> None:
    dose = dose_on(standard_course(kb), 40, kb)
    assert dose.mg == SUPPLY_MG
    assert dose.days[29].status == "taken"
    assert {d.status for d in dose.days[30:]} == {"no-supply"}


def test_a_missed_day_takes_nothing_and_its_dose_stays_unused(kb: KnowledgeBase) -> None:
    record = then(kb, RecordMissedDoses(on=day(6), days=(day(3), day(5))))
    assert dose_on(record, 4, kb).mg == 4 * 70.0
    assert dose_on(record, 4, kb).days[3].status == "missed"
    used_up = dose_on(record, 40, kb)
    assert used_up.mg == SUPPLY_MG - 2 * 70.0  # dispensed minus the missed doses
    assert used_up.missed_mg == 140.0
    assert used_up.on_hand_mg == 0.0
    assert used_up.days[29].status == "taken"  # the course is not lengthened


def test_a_paused_day_takes_nothing_and_the_supply_waits(kb: KnowledgeBase) -> None:
    record = then(kb, PauseCourse(on=day(10), reason="trip"), ResumeCourse(on=day(15)))
    dose = dose_on(record, 40, kb)
    assert [d.status for d in dose.days[10:15]] == ["paused"] * 5
    assert dose.mg == SUPPLY_MG  # all taken, five days later
    assert dose.days[34].status == "taken"
    assert dose.days[35].status == "no-supply"


def test_a_dose_change_changes_the_daily_draw(kb: KnowledgeBase) -> None:
    record = then(kb, ChangeDose(on=day(10), dose_mg=20, times_per_day=2))
    dose = dose_on(record, 11, kb)
    assert [d.daily_mg for d in dose.days[9:]] == [70.0, 40.0, 40.0]
    assert dose.mg == 10 * 70.0 + 2 * 40.0


def test_a_prescription_takes_effect_on_its_first_dispense(kb: KnowledgeBase) -> None:
    record = then(
        kb,
        early_supply(20),
        prescribe(20, prescription_id="p2", dose_mg=20.0, strength_mg=20.0),
        authorize(25, "p2"),
        dispense(25, prescription_id="p2"),
    )
    daily = [d.daily_mg for d in dose_on(record, 26, kb).days]
    assert daily[24:] == [70.0, 40.0, 40.0]


def test_a_later_dose_change_wins_over_an_earlier_prescription_dispensed_after_it(
    kb: KnowledgeBase,
) -> None:
    record = then(
        kb,
        early_supply(20),
        prescribe(20, prescription_id="p2"),
        ChangeDose(on=day(22), dose_mg=20, times_per_day=2),
        authorize(25, "p2"),
        dispense(25, prescription_id="p2"),
    )
    daily = [d.daily_mg for d in dose_on(record, 26, kb).days]
    assert daily[21:] == [70.0] + [40.0] * 5  # days 21 to 26


def test_nothing_is_taken_before_the_first_dispense(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(0), prescribe(0), authorize(3), dispense(3, quantity=10))
    dose = dose_on(record, 4, kb)
    assert [d.status for d in dose.days] == ["no-dose"] * 3 + ["taken"] * 2
    assert dose.mg == 140.0


def test_a_short_supply_gives_a_partial_last_day(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(0), prescribe(0), authorize(0), dispense(0, quantity=3))
    dose = dose_on(record, 2, kb)
    assert [d.taken_mg for d in dose.days] == [70.0, 35.0, 0.0]
    assert dose.mg == 105.0


def test_mg_per_kg_uses_the_weight_in_force_each_day(kb: KnowledgeBase) -> None:
    record = then(kb, weight(5, 50.0))
    dose = dose_on(record, 9, kb)
    assert [d.weight_kg for d in dose.days[4:6]] == [70.0, 50.0]
    assert dose.mg_per_kg == pytest.approx(5 * 70 / 70 + 5 * 70 / 50)
    assert dose.mg == 700.0


def test_nothing_is_counted_after_the_end_of_the_course(kb: KnowledgeBase) -> None:
    record = then(kb, EndCourse(on=day(9), reason="stopped"))
    dose = dose_on(record, 40, kb)
    assert len(dose.days) == 10
    assert dose.mg == 700.0
    assert dose.on_hand_mg == 1400.0  # left over, never taken


def test_before_the_course_starts_the_dose_is_zero(kb: KnowledgeBase) -> None:
    record = standard_course(kb)
    dose = cumulative_dose(record, record.courses[0], on=day(-1), kb=kb)
    assert (dose.mg, dose.mg_per_kg, dose.days) == (0.0, 0.0, ())
