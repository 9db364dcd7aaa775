"""The course record accepts each kind of command when its rules are met and
refuses it, saying what is unmet, when they are not; replay rebuilds the same
record from the command log."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from msgspec.structs import replace

from isotrack.clinical.record.aggregate import PatientRecord, apply, replay
from isotrack.clinical.snapshot import PregnancyCapability, Sex, TestResult, TestSetting
from isotrack.clinical.state.commands import (
    AnyCommand,
    ChangeDose,
    EndCourse,
    PauseCourse,
    RecordLabResult,
    RecordLesionCount,
    RecordMissedDoses,
    RecordOverride,
    RecordPHQ9,
    RecordPregnancyCapability,
    RecordPregnancyTest,
    RecordSymptoms,
    ResumeCourse,
    StartContraception,
    StopContraception,
)
from isotrack.errors import CommandRejected, NotFoundError
from isotrack.knowledge import KnowledgeBase, load_knowledge
from tests.clinical.builders_record import (
    authorize,
    comprehension,
    counsel,
    day,
    dispense,
    early_supply,
    enrol_man,
    enrol_woman,
    enrolled,
    prescribe,
    run,
    standard_commands,
    standard_course,
    start_course,
    weight,
)


def refused(
    record: PatientRecord | None, command: AnyCommand, kb: KnowledgeBase, today: date | None = None
) -> CommandRejected:
    with pytest.raises(CommandRejected) as caught:
        apply(record, command, today=today or command.on, kb=kb)
    return caught.value


# --- every command ----------------------------------------------------------------


def test_a_command_dated_after_today_is_refused_as_in_the_future(kb: KnowledgeBase) -> None:
    record = enrolled(kb)
    test = RecordPregnancyTest(on=day(3), result="negative")
    error = refused(record, test, kb, today=day(2))
    assert error.field == "on"
    assert "in the future" in error.message
    assert str(day(3)) in error.message


def test_a_command_dated_today_is_accepted(kb: KnowledgeBase) -> None:
    record = enrolled(kb)
    after = apply(record, RecordPregnancyTest(on=day(2), result="negative"), today=day(2), kb=kb)
    assert len(after.pregnancy_tests) == 1


# --- EnrolPatient -------------------------------------------------------------------


def test_enrol_creates_the_record_with_the_default_programme(kb: KnowledgeBase) -> None:
    record = apply(None, enrol_woman(), today=day(-7), kb=kb)
    assert record.patient_id == "w1"
    assert record.sex is Sex.FEMALE
    assert record.pregnancy_capability is PregnancyCapability.CAN
    assert record.programme == kb.text("ppp.default_programme")
    assert record.courses == ()
    assert record.current_course is None


def test_enrol_twice_is_refused(kb: KnowledgeBase) -> None:
    error = refused(enrolled(kb), enrol_man(on=day(1)), kb)
    assert "already enrolled" in error.message


def test_any_other_command_before_enrolment_is_refused(kb: KnowledgeBase) -> None:
    error = refused(None, weight(0), kb)
    assert "enrol the patient first" in error.message


def test_enrol_with_an_unknown_programme_is_refused(kb: KnowledgeBase) -> None:
    error = refused(None, enrol_man(programme="mars-2030"), kb)
    assert error.field == "programme"
    assert "mars-2030" in error.message


def test_enrol_with_a_birth_date_after_the_enrolment_is_refused(kb: KnowledgeBase) -> None:
    error = refused(None, enrol_man(birth_date=day(0)), kb)
    assert error.field == "birth_date"


# --- RecordPregnancyCapability ---------------------------------------------------------


def test_recorded_pregnancy_capability_replaces_the_previous_one(kb: KnowledgeBase) -> None:
    record = run([enrol_woman()], kb)
    change = RecordPregnancyCapability(
        on=day(0), capability="cannot-get-pregnant", reason="hysterectomy 2024"
    )
    after = apply(record, change, today=day(0), kb=kb)
    assert after.pregnancy_capability is PregnancyCapability.CANNOT
    assert after.capability_reason == "hysterectomy 2024"


# --- RecordWeight -------------------------------------------------------------------------


def test_a_weight_in_pounds_is_kept_in_kg(kb: KnowledgeBase) -> None:
    record = run([enrol_man(), weight(0, 154, "lb")], kb)
    assert record.weights[0].kg == pytest.approx(69.85, abs=0.01)


def test_a_weight_in_an_unknown_unit_is_refused(kb: KnowledgeBase) -> None:
    error = refused(run([enrol_man()], kb), weight(0, 70, "stone"), kb)
    assert error.field == "unit"
    assert "stone" in error.message


def test_an_impossible_weight_is_refused_with_the_possible_range(kb: KnowledgeBase) -> None:
    error = refused(run([enrol_man()], kb), weight(0, 500), kb)
    assert error.field == "value"
    assert "outside the possible" in error.message
    just_inside = weight(0, kb.number("valid.weight_max_kg"))
    assert apply(run([enrol_man()], kb), just_inside, today=day(0), kb=kb).weights


# --- RecordLabResult ------------------------------------------------------------------


def test_a_lab_result_is_kept_in_the_canonical_unit(kb: KnowledgeBase) -> None:
    tg = RecordLabResult(
        on=day(0), analyte="triglycerides", value=5.65, unit="mmol/L", reference_high=1.7
    )
    lab = run([enrol_man(), tg], kb).labs[0]
    assert lab.unit == "mg/dL"
    assert lab.value == pytest.approx(500, abs=1)
    assert lab.reference_high == pytest.approx(150, abs=1)


def test_a_lab_result_of_an_unknown_analyte_is_refused(kb: KnowledgeBase) -> None:
    lab = RecordLabResult(on=day(0), analyte="unobtainium", value=1, unit="mg/dL")
    error = refused(run([enrol_man()], kb), lab, kb)
    assert error.field == "analyte"
    assert "triglycerides" in error.message  # names the known analytes


def test_a_lab_result_in_an_unknown_unit_is_refused(kb: KnowledgeBase) -> None:
    lab = RecordLabResult(on=day(0), analyte="alt", value=30, unit="mg/furlong")
    assert refused(run([enrol_man()], kb), lab, kb).field == "unit"


def test_a_negative_lab_result_is_refused(kb: KnowledgeBase) -> None:
    lab = RecordLabResult(on=day(0), analyte="alt", value=-3, unit="U/L")
    assert "negative" in refused(run([enrol_man()], kb), lab, kb).message


# --- RecordPregnancyTest ----------------------------------------------------------------


def test_a_pregnancy_test_is_recorded_with_its_result_and_setting(kb: KnowledgeBase) -> None:
    test = RecordPregnancyTest(on=day(0), result="negative", setting="home")
    recorded = run([enrol_woman(), test], kb).pregnancy_tests[0]
    assert recorded.result is TestResult.NEGATIVE
    assert recorded.setting is TestSetting.HOME
    assert recorded.on == day(0)


# --- Start/StopContraception --------------------------------------------------------------


def test_contraception_start_and_stop_make_one_use_with_dates(kb: KnowledgeBase) -> None:
    record = run(
        [
            enrol_woman(),
            StartContraception(on=day(-5), method="implant-etonogestrel"),
            StopContraception(on=day(3), method="implant-etonogestrel"),
        ],
        kb,
    )
    (use,) = record.contraception
    # the end is the last day of use: stopped on day 3, not in use that day (issue 13)
    assert (use.method, use.start, use.end) == ("implant-etonogestrel", day(-5), day(2))


def test_an_unknown_contraception_method_is_refused(kb: KnowledgeBase) -> None:
    error = refused(run([enrol_woman()], kb), StartContraception(on=day(0), method="hope"), kb)
    assert error.field == "method"
    assert "hope" in error.message


def test_starting_a_method_already_in_use_is_refused(kb: KnowledgeBase) -> None:
    record = run([enrol_woman(), StartContraception(on=day(-5), method="male-condom")], kb)
    error = refused(record, StartContraception(on=day(0), method="male-condom"), kb)
    assert "already in use" in error.message


def test_stopping_a_method_not_in_use_is_refused(kb: KnowledgeBase) -> None:
    record = run([enrol_woman(), StartContraception(on=day(-5), method="male-condom")], kb)
    error = refused(record, StopContraception(on=day(0), method="combined-oral"), kb)
    assert "not in use" in error.message
    assert "male-condom" in error.message  # names what is in use


def test_stopping_a_method_before_it_started_is_refused(kb: KnowledgeBase) -> None:
    record = run(
        [enrol_woman(), StartContraception(on=day(0), method="male-condom")], kb, today=day(5)
    )
    error = refused(record, StopContraception(on=day(-1), method="male-condom"), kb)
    assert "before" in error.message


# --- RecordSymptoms -------------------------------------------------------------------


def test_a_symptom_report_is_recorded(kb: KnowledgeBase) -> None:
    report = RecordSymptoms(on=day(0), symptoms=("low-mood", "blurred-vision"), note="2 weeks")
    recorded = run([enrol_man(), report], kb).symptom_reports[0]
    assert recorded.symptoms == ("low-mood", "blurred-vision")


def test_an_unknown_symptom_is_refused(kb: KnowledgeBase) -> None:
    report = RecordSymptoms(on=day(0), symptoms=("low-mood", "itchy-elbow"))
    error = refused(run([enrol_man()], kb), report, kb)
    assert error.field == "symptoms"
    assert "itchy-elbow" in error.message


def test_a_symptom_report_without_symptoms_is_refused(kb: KnowledgeBase) -> None:
    error = refused(run([enrol_man()], kb), RecordSymptoms(on=day(0), symptoms=()), kb)
    assert "at least one" in error.message


# --- RecordPHQ9 ------------------------------------------------------------------------


def test_a_phq9_score_is_recorded(kb: KnowledgeBase) -> None:
    screen = run([enrol_man(), RecordPHQ9(on=day(0), total=27, item9=3)], kb).mood_screens[0]
    assert (screen.phq9_total, screen.item9) == (27, 3)


def test_a_phq9_total_above_27_is_refused(kb: KnowledgeBase) -> None:
    error = refused(run([enrol_man()], kb), RecordPHQ9(on=day(0), total=28), kb)
    assert error.field == "phq9_total"
    assert "0–27" in error.message


def test_a_phq9_item9_above_the_total_is_refused(kb: KnowledgeBase) -> None:
    error = refused(run([enrol_man()], kb), RecordPHQ9(on=day(0), total=1, item9=2), kb)
    assert error.field == "item9"


# --- RecordLesionCount -------------------------------------------------------------------


def test_a_lesion_count_is_recorded(kb: KnowledgeBase) -> None:
    count = RecordLesionCount(on=day(0), nodules=6, inflammatory=20, comedones=0)
    assert run([enrol_man(), count], kb).lesion_counts[0].nodules == 6


def test_a_negative_lesion_count_is_refused(kb: KnowledgeBase) -> None:
    count = RecordLesionCount(on=day(0), nodules=2, comedones=-1)
    error = refused(run([enrol_man()], kb), count, kb)
    assert isinstance(error, CommandRejected)
    assert "negative" in error.message


# --- StartCourse ---------------------------------------------------------------------------


def test_a_course_starts_with_the_default_target(kb: KnowledgeBase) -> None:
    course = enrolled(kb, start_course(0)).current_course
    assert course is not None
    assert course.status == "active"
    assert course.target_mg_per_kg == kb.number("course.cumulative_target_mg_per_kg")


def test_a_second_course_while_one_is_active_is_refused(kb: KnowledgeBase) -> None:
    error = refused(enrolled(kb, start_course(0)), start_course(1, course_id="c2"), kb)
    assert "end it first" in error.message


def test_a_course_of_an_unknown_product_is_refused(kb: KnowledgeBase) -> None:
    error = refused(enrolled(kb), start_course(0, product="accutane-xr"), kb)
    assert error.field == "product"


def test_a_course_of_a_topical_product_is_refused(kb: KnowledgeBase) -> None:
    error = refused(enrolled(kb), start_course(0, product="isotrex-gel"), kb)
    assert "no oral dose" in error.message


def test_a_course_target_above_the_maximum_is_refused(kb: KnowledgeBase) -> None:
    too_high = kb.number("course.max_target_mg_per_kg") + 1
    error = refused(enrolled(kb), start_course(0, target_mg_per_kg=too_high), kb)
    assert error.field == "target_mg_per_kg"


def test_a_new_course_must_start_after_the_previous_one_ended(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(0), EndCourse(on=day(10), reason="done"))
    error = refused(record, start_course(10, course_id="c2"), kb)
    assert "ended on" in error.message
    assert apply(record, start_course(11, course_id="c2"), today=day(11), kb=kb).current_course


def test_a_course_id_is_used_once(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(0), EndCourse(on=day(10), reason="done"))
    assert "already the id" in refused(record, start_course(20), kb).message


# --- Prescribe ------------------------------------------------------------------------------


def test_a_prescription_in_range_is_accepted(kb: KnowledgeBase) -> None:
    course = enrolled(kb, start_course(0), prescribe(0)).current_course
    assert course is not None
    (prescription,) = course.prescriptions
    assert (prescription.id, prescription.daily_mg, prescription.dispensed_capsules) == (
        "p1",
        70.0,
        0,
    )


def test_prescribing_without_a_course_is_refused(kb: KnowledgeBase) -> None:
    error = refused(enrolled(kb), prescribe(0), kb)
    assert error.message == "course: no course: start one with StartCourse"


def test_prescribing_before_the_course_start_is_refused(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(2))
    error = refused(record, prescribe(1), kb, today=day(2))
    assert "before course c1 started" in error.message


def test_a_strength_the_product_does_not_have_is_refused(kb: KnowledgeBase) -> None:
    error = refused(enrolled(kb, start_course(0)), prescribe(0, strength_mg=15.0), kb)
    assert error.field == "strength_mg"
    assert "10, 20, 25, 30, 35, 40" in error.message


def test_a_supply_longer_than_the_programme_maximum_is_refused(kb: KnowledgeBase) -> None:
    most = int(kb.number("ppp.max_supply_days"))
    record = enrolled(kb, start_course(0))
    error = refused(record, prescribe(0, supply_days=most + 1), kb)
    assert error.field == "supply_days"
    assert apply(record, prescribe(0, supply_days=most), today=day(0), kb=kb)


def test_prescribing_without_a_recent_weight_is_refused(kb: KnowledgeBase) -> None:
    record = run([enrol_man(), start_course(0)], kb)
    assert "record a weight first" in refused(record, prescribe(0), kb).message


def test_a_weight_older_than_the_limit_does_not_count(kb: KnowledgeBase) -> None:
    limit = int(kb.number("dose.weight_max_age_days"))
    record = run([enrol_man(on=day(-60)), counsel(-60), weight(-limit - 1), start_course(0)], kb)
    assert "record a weight first" in refused(record, prescribe(0), kb).message
    record = run([enrol_man(on=day(-60)), counsel(-60), weight(-limit), start_course(0)], kb)
    assert apply(record, prescribe(0), today=day(0), kb=kb)


def test_a_dose_above_the_usual_range_needs_an_override_reason(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(0))
    high = prescribe(0, dose_mg=40.0, strength_mg=40.0)  # 80 mg/day at 70 kg = 1.14 mg/kg/day
    error = refused(record, high, kb)
    assert error.field == "override_reason"
    assert "outside the usual 0.5–1 mg/kg/day" in error.message
    with_reason = replace(high, override_reason="severe nodular acne, relapse")
    assert apply(record, with_reason, today=day(0), kb=kb).current_course


def test_a_dose_below_the_usual_range_needs_an_override_reason(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(0))
    low = prescribe(0, dose_mg=10.0, strength_mg=10.0, times_per_day=1)  # 0.14 mg/kg/day
    assert refused(record, low, kb).field == "override_reason"


def test_a_dose_above_the_absolute_maximum_is_refused_even_with_a_reason(
    kb: KnowledgeBase,
) -> None:
    record = enrolled(kb, start_course(0))
    huge = prescribe(0, dose_mg=80.0, strength_mg=40.0, override_reason="I insist")
    error = refused(record, huge, kb)  # 160 mg/day at 70 kg = 2.29 mg/kg/day
    assert error.field == "dose_mg"
    assert "absolute maximum" in error.message


def test_a_prescription_id_is_used_once(kb: KnowledgeBase) -> None:
    error = refused(standard_course(kb), prescribe(1), kb)
    assert "already used" in error.message


def test_prescribing_while_paused_is_refused(kb: KnowledgeBase) -> None:
    record = run([PauseCourse(on=day(5), reason="high triglycerides")], kb, standard_course(kb))
    error = refused(record, prescribe(6, prescription_id="p2"), kb)
    assert "resume it" in error.message


def test_prescribing_before_the_latest_event_of_the_course_is_refused(kb: KnowledgeBase) -> None:
    record = run(
        [authorize(3), dispense(3, quantity=10)], kb, enrolled(kb, start_course(0), prescribe(0))
    )
    error = refused(record, prescribe(2, prescription_id="p2"), kb, today=day(3))
    assert "date order" in error.message


# --- Dispense ----------------------------------------------------------------------------------


def test_a_dispense_counts_capsules_and_mg(kb: KnowledgeBase) -> None:
    record = run(
        [authorize(1), dispense(1, quantity=20)], kb, enrolled(kb, start_course(0), prescribe(0))
    )
    course = record.current_course
    assert course is not None
    assert course.prescriptions[0].dispensed_capsules == 20
    assert course.dispenses[0].mg == 700.0


def test_a_dispense_of_an_unknown_prescription_is_refused(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(0), prescribe(0))
    error = refused(record, dispense(0, prescription_id="p9"), kb)
    assert error.field == "prescription_id"
    assert "prescribe first" in error.message


def test_a_dispense_before_its_prescription_is_refused(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(0), prescribe(5))
    error = refused(record, dispense(4), kb, today=day(5))
    assert "before its prescription" in error.message


def test_dispensing_more_than_prescribed_is_refused(kb: KnowledgeBase) -> None:
    record = run(
        [authorize(0, until=1), dispense(0, quantity=50)],
        kb,
        enrolled(kb, start_course(0), prescribe(0)),
    )
    record = apply(record, authorize(1, quantity=10, authorization_id="A2"), today=day(1), kb=kb)
    error = refused(record, dispense(1, quantity=11), kb)
    assert "at most 10" in error.message
    assert apply(record, dispense(1, quantity=10), today=day(1), kb=kb)


def test_dispensing_while_paused_is_refused(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(0), prescribe(0), PauseCourse(on=day(1), reason="trip"))
    assert "paused" in refused(record, dispense(2), kb).message


def test_dispensing_after_the_course_ended_is_refused(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(0), prescribe(0), EndCourse(on=day(1), reason="stop"))
    assert "no course" in refused(record, dispense(2), kb).message


# --- RecordMissedDoses ---------------------------------------------------------------------


def missed(n: int, *days: int) -> RecordMissedDoses:
    return RecordMissedDoses(on=day(n), days=tuple(day(d) for d in days))


def test_missed_days_are_recorded_in_order(kb: KnowledgeBase) -> None:
    record = run([missed(6, 5, 3)], kb, standard_course(kb))
    course = record.current_course
    assert course is not None
    assert course.missed_days == (day(3), day(5))


def test_a_missed_day_in_the_future_is_refused(kb: KnowledgeBase) -> None:
    error = refused(standard_course(kb), missed(6, 7), kb, today=day(6))
    assert "in the future" in error.message


def test_a_missed_day_after_the_report_date_is_refused(kb: KnowledgeBase) -> None:
    error = refused(standard_course(kb), missed(6, 7), kb, today=day(9))
    assert "after the date of the report" in error.message


def test_a_missed_day_before_the_course_is_refused(kb: KnowledgeBase) -> None:
    assert "before course c1 started" in refused(standard_course(kb), missed(6, -1), kb).message


def test_a_missed_day_already_recorded_is_refused(kb: KnowledgeBase) -> None:
    record = run([missed(6, 5)], kb, standard_course(kb))
    assert "already recorded" in refused(record, missed(7, 5), kb).message


def test_a_missed_day_listed_twice_is_refused(kb: KnowledgeBase) -> None:
    assert "listed twice" in refused(standard_course(kb), missed(7, 5, 5), kb).message


def test_a_missed_day_before_anything_was_dispensed_is_refused(kb: KnowledgeBase) -> None:
    record = enrolled(kb, start_course(0), prescribe(0), authorize(3), dispense(3))
    assert "nothing had been dispensed" in refused(record, missed(4, 2), kb).message


def test_a_missed_day_while_paused_is_refused(kb: KnowledgeBase) -> None:
    record = run(
        [PauseCourse(on=day(4), reason="trip"), ResumeCourse(on=day(8))], kb, standard_course(kb)
    )
    assert "was paused" in refused(record, missed(9, 5), kb).message
    assert apply(record, missed(9, 8), today=day(9), kb=kb)  # the resume day is a dose day


def test_missed_days_without_a_course_are_refused(kb: KnowledgeBase) -> None:
    record = run([EndCourse(on=day(10), reason="done")], kb, standard_course(kb))
    error = refused(record, missed(11, 9), kb)
    assert (
        error.message
        == "course: no course (course c1 ended on 2026-03-12): start one with StartCourse"
    )


# --- PauseCourse / ResumeCourse -------------------------------------------------------------


def test_pause_and_resume_record_the_interval(kb: KnowledgeBase) -> None:
    record = run([PauseCourse(on=day(4), reason="TG 600 mg/dL")], kb, standard_course(kb))
    course = record.current_course
    assert course is not None
    assert (course.status, course.pauses, course.pause_reasons) == (
        "paused",
        ((day(4), None),),
        ("TG 600 mg/dL",),
    )
    course = run([ResumeCourse(on=day(9))], kb, record).current_course
    assert course is not None
    assert (course.status, course.pauses) == ("active", ((day(4), day(9)),))


def test_pausing_a_paused_course_is_refused(kb: KnowledgeBase) -> None:
    record = run([PauseCourse(on=day(4), reason="trip")], kb, standard_course(kb))
    assert "already paused" in refused(record, PauseCourse(on=day(5), reason="again"), kb).message


def test_resuming_an_active_course_is_refused(kb: KnowledgeBase) -> None:
    assert "not paused" in refused(standard_course(kb), ResumeCourse(on=day(5)), kb).message


def test_resuming_before_the_pause_is_refused(kb: KnowledgeBase) -> None:
    record = run([PauseCourse(on=day(4), reason="trip")], kb, standard_course(kb))
    error = refused(record, ResumeCourse(on=day(3)), kb, today=day(4))
    assert "pause on 2026-03-06" in error.message


# --- ChangeDose --------------------------------------------------------------------------------


def test_a_dose_change_in_range_is_recorded(kb: KnowledgeBase) -> None:
    record = run([ChangeDose(on=day(10), dose_mg=20, times_per_day=2)], kb, standard_course(kb))
    course = record.current_course
    assert course is not None
    assert course.dose_changes[0].daily_mg == 40.0


def test_a_dose_change_outside_the_range_needs_a_reason(kb: KnowledgeBase) -> None:
    change = ChangeDose(on=day(10), dose_mg=10, times_per_day=1)
    assert refused(standard_course(kb), change, kb).field == "override_reason"
    assert apply(
        standard_course(kb), replace(change, override_reason="dry eyes"), today=day(10), kb=kb
    )


def test_a_dose_change_before_any_prescription_is_refused(kb: KnowledgeBase) -> None:
    change = ChangeDose(on=day(1), dose_mg=35, times_per_day=2)
    assert "prescribe first" in refused(enrolled(kb, start_course(0)), change, kb).message


# --- EndCourse ----------------------------------------------------------------------------------


def test_ending_a_course_records_the_day_and_reason(kb: KnowledgeBase) -> None:
    record = run([EndCourse(on=day(150), reason="target reached")], kb, standard_course(kb))
    assert record.current_course is None
    (course,) = record.courses
    assert (course.status, course.end, course.end_reason) == ("ended", day(150), "target reached")


def test_ending_an_ended_course_is_refused(kb: KnowledgeBase) -> None:
    record = run([EndCourse(on=day(150), reason="done")], kb, standard_course(kb))
    error = refused(record, EndCourse(on=day(151), reason="again"), kb)
    assert "no course" in error.message


def test_ending_before_the_latest_event_is_refused(kb: KnowledgeBase) -> None:
    record = run(
        [early_supply(5), authorize(5, "p2"), dispense(5, quantity=1, prescription_id="p2")],
        kb,
        _with_p2(kb),
    )
    error = refused(record, EndCourse(on=day(4), reason="done"), kb, today=day(5))
    assert "dispense of p2 on 2026-03-07" in error.message


def _with_p2(kb: KnowledgeBase) -> PatientRecord:
    return run([early_supply(3), prescribe(3, prescription_id="p2")], kb, standard_course(kb))


# --- RecordOverride -------------------------------------------------------------------------


def test_an_override_is_recorded_with_its_course(kb: KnowledgeBase) -> None:
    command = RecordOverride(on=day(1), rule_id="DOSE-BELOW-RANGE", reason="low-dose regimen")
    (override,) = run([command], kb, standard_course(kb)).overrides
    assert (override.rule_id, override.course_id) == ("DOSE-BELOW-RANGE", "c1")


def test_an_override_of_an_unknown_rule_is_refused(kb: KnowledgeBase) -> None:
    command = RecordOverride(on=day(1), rule_id="BE-CAREFUL", reason="why not")
    error = refused(standard_course(kb), command, kb)
    assert error.field == "rule_id"
    assert "BE-CAREFUL" in error.message


def test_an_override_without_a_reason_is_refused(kb: KnowledgeBase) -> None:
    command = RecordOverride(on=day(1), rule_id="DOSE-BELOW-RANGE", reason="  ")
    assert "say why" in refused(standard_course(kb), command, kb).message


# --- replay ---------------------------------------------------------------------------------


def full_course() -> list[AnyCommand]:
    """A whole course: tests, contraception, prescriptions, a pause, missed days, the end."""
    return [
        enrol_woman(),
        counsel(-7),
        StartContraception(on=day(-40), method="implant-etonogestrel"),
        StartContraception(on=day(-40), method="male-condom"),
        RecordPregnancyTest(on=day(-35), result="negative"),
        RecordPregnancyTest(on=day(-2), result="negative"),
        RecordLabResult(on=day(-3), analyte="triglycerides", value=140, unit="mg/dL"),
        weight(0, 60),
        start_course(0),
        comprehension(0),
        prescribe(0, dose_mg=30.0, strength_mg=30.0),
        authorize(0),
        dispense(0),
        RecordPHQ9(on=day(0), total=3, item9=0),
        RecordLesionCount(on=day(0), nodules=8, inflammatory=30),
        RecordMissedDoses(on=day(12), days=(day(10), day(11))),
        RecordPregnancyTest(on=day(27), result="negative"),
        comprehension(27),
        weight(28, 62),
        prescribe(28, prescription_id="p2", dose_mg=30.0, strength_mg=30.0),
        authorize(29, "p2"),
        dispense(29, prescription_id="p2"),
        RecordLabResult(on=day(35), analyte="triglycerides", value=600, unit="mg/dL"),
        PauseCourse(on=day(36), reason="triglycerides 600 mg/dL"),
        ResumeCourse(on=day(50)),
        ChangeDose(on=day(50), dose_mg=20, times_per_day=2, override_reason="lipids"),
        RecordSymptoms(on=day(55), symptoms=("low-mood",)),
        RecordOverride(on=day(56), rule_id="LIPIDS-HIGH", reason="falling on recheck"),
        EndCourse(on=day(90), reason="completed"),
        StopContraception(on=day(120), method="male-condom"),
    ]


def test_replaying_a_full_course_gives_the_record_built_step_by_step(kb: KnowledgeBase) -> None:
    commands = full_course()
    step_by_step = run(commands, kb)
    history = [(command, command.on) for command in commands]
    assert replay(history, kb=kb) == step_by_step
    assert replay(history, kb=kb, strict=True) == step_by_step
    assert step_by_step.courses[0].status == "ended"


def test_replaying_an_empty_log_is_not_found(kb: KnowledgeBase) -> None:
    with pytest.raises(NotFoundError):
        replay([], kb=kb)


def test_replay_reads_a_log_that_a_later_policy_would_refuse(tmp_path: Path) -> None:
    strict_policy = tmp_path / "policy.toml"
    strict_policy.write_text('[parameters]\n"dose.weight_max_age_days" = 7\n')
    later_kb = load_knowledge(strict_policy)
    kb = load_knowledge()
    commands = [
        enrol_man(),
        counsel(),
        weight(-20),
        start_course(0),
        prescribe(0),
        authorize(0),
        dispense(0),
    ]
    history = [(command, command.on) for command in commands]
    assert replay(history, kb=later_kb) == run(commands, kb)
    with pytest.raises(CommandRejected, match="record a weight first"):
        replay(history, kb=later_kb, strict=True)


def test_a_refused_command_leaves_the_record_unchanged(kb: KnowledgeBase) -> None:
    record = standard_course(kb)
    before = replay([(c, c.on) for c in standard_commands()], kb=kb)
    refused(record, dispense(1, quantity=1), kb)
    assert record == before


def test_a_pause_on_or_before_a_recorded_missed_day_is_refused(kb: KnowledgeBase) -> None:
    """Found by the state machine: a missed dose, then a pause from the same day."""
    record = standard_course(kb)
    course = record.current_course
    assert course is not None
    first = course.dispenses[0].on
    record = apply(record, RecordMissedDoses(on=first, days=(first,)), today=first, kb=kb)
    with pytest.raises(CommandRejected, match="pause from"):
        apply(record, PauseCourse(on=first, reason="side effects"), today=first, kb=kb)
    later = first + timedelta(days=1)
    paused = apply(record, PauseCourse(on=later, reason="side effects"), today=later, kb=kb)
    assert paused.current_course is not None
    assert paused.current_course.status == "paused"
