"""to_snapshot shows the record as it stood on one day, and the engine judges it."""

from __future__ import annotations

from isotrack.clinical.monitoring.lesions import lesion_change
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.record.aggregate import cumulative_dose, to_snapshot
from isotrack.clinical.screening.context import assess_course, screen_order
from isotrack.clinical.state.commands import (
    ChangeDose,
    PauseCourse,
    RecordLesionCount,
    RecordPregnancyTest,
    StartContraception,
    StopContraception,
)
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_record import (
    authorize,
    comprehension,
    counsel,
    day,
    dispense,
    early_supply,
    enrol_woman,
    enrolled,
    prescribe,
    run,
    standard_course,
    start_course,
    weight,
)
from tests.clinical.test_record import full_course


def test_data_dated_after_the_day_is_left_out(kb: KnowledgeBase) -> None:
    record = run(full_course(), kb)
    snapshot = to_snapshot(record, on=day(20), kb=kb)
    assert [w.on for w in snapshot.weights] == [day(0)]
    assert [t.on for t in snapshot.pregnancy_tests] == [day(-35), day(-2)]
    assert [lab.on for lab in snapshot.labs] == [day(-3)]


def test_a_course_that_ended_later_is_still_running_on_the_day(kb: KnowledgeBase) -> None:
    record = run(full_course(), kb)
    assert to_snapshot(record, on=day(89), kb=kb).courses[0].end is None
    assert to_snapshot(record, on=day(90), kb=kb).courses[0].end == day(90)


def test_a_course_started_after_the_day_is_left_out(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(3))
    assert to_snapshot(record, on=day(2), kb=kb).courses == ()
    assert len(to_snapshot(record, on=day(3), kb=kb).courses) == 1


def test_a_method_stopped_after_the_day_is_in_use_on_the_day(kb: KnowledgeBase) -> None:
    record = run(
        [
            enrol_woman(),
            StartContraception(on=day(-5), method="male-condom"),
            StopContraception(on=day(3), method="male-condom"),
        ],
        kb,
    )
    assert to_snapshot(record, on=day(1), kb=kb).contraception[0].end is None
    # stopped on day 3: day 2 was its last day of use (issue 13)
    assert to_snapshot(record, on=day(2), kb=kb).contraception[0].end == day(2)
    assert to_snapshot(record, on=day(3), kb=kb).contraception[0].end == day(2)
    assert to_snapshot(record, on=day(-6), kb=kb).contraception == ()


def test_the_course_carries_its_cumulative_dose_prescriptions_and_dose_increase(
    kb: KnowledgeBase,
) -> None:
    record = run(
        [
            early_supply(9),
            prescribe(9, prescription_id="p2", dose_mg=20.0, strength_mg=20.0),
            early_supply(10),
            authorize(10, "p2"),
            dispense(10, prescription_id="p2"),
            ChangeDose(on=day(12), dose_mg=30, times_per_day=2),
        ],
        kb,
        standard_course(kb),
    )
    (course,) = record.courses
    for on, prescriptions, increase in (
        (day(8), 1, None),
        (day(11), 2, None),  # 70 -> 40 mg/day: a decrease
        (day(12), 2, day(12)),  # 40 -> 60 mg/day
    ):
        snapshot_course = to_snapshot(record, on=on, kb=kb).courses[0]
        assert snapshot_course.prescriptions == prescriptions
        assert snapshot_course.last_dose_increase == increase
        assert snapshot_course.cumulative_mg == cumulative_dose(record, course, on=on, kb=kb).mg
        assert snapshot_course.product == "conventional"
        assert snapshot_course.target_mg_per_kg == course.target_mg_per_kg


def test_a_paused_course_is_said_in_the_notes(kb: KnowledgeBase) -> None:
    record = run([PauseCourse(on=day(5), reason="TG 600 mg/dL")], kb, standard_course(kb))
    assert to_snapshot(record, on=day(4), kb=kb).notes == ()
    (note,) = to_snapshot(record, on=day(5), kb=kb).notes
    assert "paused since 2026-03-07 (TG 600 mg/dL)" in note


def test_order_screening_reads_the_cumulative_dose_of_the_record(kb: KnowledgeBase) -> None:
    record = enrolled(
        kb, start_course(0, target_mg_per_kg=2), prescribe(0), authorize(0), dispense(0)
    )
    order = IsotretinoinOrder(
        product="conventional", dose_mg=35, times_per_day=2, strength_mg=35, quantity=60,
        supply_days=30,
    )  # fmt: skip
    one_day = screen_order(to_snapshot(record, on=day(0), kb=kb), order, on=day(0), kb=kb)
    assert not one_day.has("CUMULATIVE-TARGET-REACHED")  # 70 mg = 1 mg/kg
    two_days = screen_order(to_snapshot(record, on=day(1), kb=kb), order, on=day(1), kb=kb)
    assert two_days.has("CUMULATIVE-TARGET-REACHED")  # 140 mg = 2 mg/kg


def test_the_course_assessment_reads_the_record_tests(kb: KnowledgeBase) -> None:
    commands = [
        enrol_woman(),
        counsel(),
        StartContraception(on=day(-40), method="implant-etonogestrel"),
        StartContraception(on=day(-40), method="male-condom"),
        RecordPregnancyTest(on=day(-35), result="negative"),
        RecordPregnancyTest(on=day(-1), result="negative"),
        weight(0, 60),
        start_course(0),
        comprehension(0),
        prescribe(0, dose_mg=30.0, strength_mg=30.0),
        authorize(0),
        dispense(0),
    ]
    record = run(commands, kb)
    due_after = int(kb.number("ppp.monthly_test_interval_days"))
    before = assess_course(to_snapshot(record, on=day(5), kb=kb), on=day(5), kb=kb)
    assert not before.has("MON-PREG-TEST-DUE")
    late = day(due_after + 5)
    overdue = assess_course(to_snapshot(record, on=late, kb=kb), on=late, kb=kb)
    assert overdue.has("MON-PREG-TEST-DUE")


# --- lesion counts against the baseline ---------------------------------------------


def test_lesion_change_compares_the_latest_count_with_the_baseline(kb: KnowledgeBase) -> None:
    record = run(
        [
            RecordLesionCount(on=day(-10), nodules=12, inflammatory=30),
            RecordLesionCount(on=day(-3), nodules=10, inflammatory=40, comedones=5),
            RecordLesionCount(on=day(40), nodules=4, inflammatory=10, comedones=5),
            RecordLesionCount(on=day(80), nodules=2, inflammatory=6),
        ],
        kb,
        standard_course(kb),
    )
    course = record.courses[0]
    change = lesion_change(record, course, on=day(60))
    assert change is not None
    assert change.baseline.on == day(-3)  # the latest before the start
    assert change.latest.on == day(40)  # nothing after the day counts
    assert (change.change("nodules"), change.fraction("nodules")) == (-6, -0.6)
    assert change.change("comedones") == 0
    later = lesion_change(record, course, on=day(80))
    assert later is not None
    assert later.change("comedones") is None  # not counted on day 80


def test_lesion_change_needs_a_baseline_and_a_later_count(kb: KnowledgeBase) -> None:
    record = run([RecordLesionCount(on=day(1), nodules=10)], kb, standard_course(kb))
    assert lesion_change(record, record.courses[0], on=day(30)) is None
    record = run([RecordLesionCount(on=day(20), nodules=0)], kb, record)
    change = lesion_change(record, record.courses[0], on=day(30))
    assert change is not None
    assert change.baseline.on == day(1)  # no count before the start: the first of the course
    assert change.fraction("nodules") == -1.0
