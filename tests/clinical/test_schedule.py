"""The monitoring schedule: what is due, overdue, done and upcoming, with dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.monitoring.schedule import (
    ItemStatus,
    Schedule,
    monitoring_schedule,
    schedule_course,
)
from isotrack.clinical.snapshot import (
    IsotretinoinCourse,
    PatientSnapshot,
    PregnancyCapability,
    PregnancyTest,
    Sex,
    TestResult,
)
from isotrack.knowledge import KnowledgeBase
from isotrack.knowledge.model import Parameter
from tests.clinical.builders_schedule import (
    START,
    course,
    day,
    item,
    kinds,
    lab,
    man_on_course,
    phq9,
    pregnancy_test_on,
    woman_on_course,
)

ENDED = course(end=day(120), prescriptions=4)


def days(kb: KnowledgeBase, parameter_id: str) -> int:
    return int(kb.number(parameter_id))


def schedule_on(
    offset: int, snapshot: PatientSnapshot, kb: KnowledgeBase, **kw: object
) -> Schedule:
    return monitoring_schedule(snapshot, on=day(offset), kb=kb, **kw)  # type: ignore[arg-type]


# --- empty states and course choice -------------------------------------------------------


def test_a_patient_with_no_course_gets_an_empty_schedule_with_a_reason(kb: KnowledgeBase) -> None:
    schedule = schedule_on(0, woman_on_course(courses=()), kb)
    assert schedule.is_empty
    assert "No isotretinoin course" in schedule.reason


def test_the_active_course_is_scheduled_rather_than_an_earlier_ended_one() -> None:
    old = IsotretinoinCourse(date(2024, 1, 1), end=date(2024, 6, 1))
    current = course()
    snapshot = woman_on_course(courses=(old, current))
    assert schedule_course(snapshot, day(10)) == current
    assert schedule_course(snapshot, date(2025, 1, 1)) == old


def test_a_course_given_explicitly_is_the_one_scheduled(kb: KnowledgeBase) -> None:
    old = IsotretinoinCourse(date(2024, 1, 1), end=date(2024, 6, 1))
    schedule = schedule_on(10, woman_on_course(courses=(old, course())), kb, course=old)
    assert schedule.course == old
    assert all(i.key.startswith("2024-01-01/") for i in schedule.items)


# --- monthly pregnancy tests ----------------------------------------------------------------


def test_the_first_pregnancy_test_window_is_the_programme_window_ending_on_the_start(
    kb: KnowledgeBase,
) -> None:
    test = item(schedule_on(0, woman_on_course(), kb), "pregnancy-test", "m1")
    assert (test.start, test.end) == (day(1 - days(kb, "ppp.test_window_days")), START)
    assert test.days == days(kb, "ppp.test_window_days")
    assert test.status is ItemStatus.DUE
    assert test.baseline
    assert "ppp.test_window_days" in test.parameters
    assert "ipledge-rems" in test.sources


def test_a_negative_test_in_the_window_does_the_monthly_test(kb: KnowledgeBase) -> None:
    snapshot = woman_on_course(pregnancy_tests=(pregnancy_test_on(day(27)),))
    test = item(schedule_on(40, snapshot, kb), "pregnancy-test", "m2")
    assert test.status is ItemStatus.DONE
    assert test.done_on == day(27)
    assert "negative on 2026-02-01" in test.done_by
    assert "lab report" in test.done_by


def test_a_test_one_day_before_the_window_does_not_count_and_the_test_is_overdue(
    kb: KnowledgeBase,
) -> None:
    window_start = day(
        days(kb, "schedule.visit_interval_days") + 1 - days(kb, "ppp.test_window_days")
    )
    snapshot = woman_on_course(pregnancy_tests=(pregnancy_test_on(window_start - timedelta(1)),))
    test = item(schedule_on(40, snapshot, kb), "pregnancy-test", "m2")
    assert test.start == window_start
    assert test.status is ItemStatus.OVERDUE
    assert test.done_on is None


def test_a_positive_test_does_the_test_and_says_to_stop(kb: KnowledgeBase) -> None:
    tests = (pregnancy_test_on(day(26)), pregnancy_test_on(day(28), TestResult.POSITIVE))
    test = item(schedule_on(40, woman_on_course(pregnancy_tests=tests), kb), "pregnancy-test", "m2")
    assert test.status is ItemStatus.DONE
    assert test.done_on == day(28)
    assert "positive" in test.done_by
    assert "stop isotretinoin" in test.done_by


def test_an_indeterminate_test_does_not_do_the_test(kb: KnowledgeBase) -> None:
    tests = (pregnancy_test_on(day(28), TestResult.INDETERMINATE),)
    test = item(schedule_on(29, woman_on_course(pregnancy_tests=tests), kb), "pregnancy-test", "m2")
    assert test.status is ItemStatus.DUE


def test_a_test_dated_after_the_evaluation_date_is_ignored(kb: KnowledgeBase) -> None:
    snapshot = woman_on_course(pregnancy_tests=(pregnancy_test_on(day(29)),))
    assert item(schedule_on(28, snapshot, kb), "pregnancy-test", "m2").status is ItemStatus.DUE
    assert item(schedule_on(29, snapshot, kb), "pregnancy-test", "m2").status is ItemStatus.DONE


def test_a_later_window_is_upcoming(kb: KnowledgeBase) -> None:
    assert item(schedule_on(10, woman_on_course(), kb), "pregnancy-test", "m2").status is (
        ItemStatus.UPCOMING
    )


def test_a_man_gets_no_pregnancy_tests(kb: KnowledgeBase) -> None:
    schedule = schedule_on(10, man_on_course(), kb)
    assert not any(i.is_pregnancy_test for i in schedule.items)
    assert "contraception-end" not in kinds(schedule)
    assert any("No pregnancy tests are scheduled" in n for n in schedule.notes)
    assert {"visit", "mood-screen", "lipids", "alt"} <= kinds(schedule)


def test_a_woman_recorded_as_unable_to_get_pregnant_gets_no_pregnancy_tests(
    kb: KnowledgeBase,
) -> None:
    snapshot = woman_on_course(pregnancy_capability=PregnancyCapability.CANNOT, courses=(ENDED,))
    schedule = schedule_on(10, snapshot, kb)
    assert not any(i.is_pregnancy_test for i in schedule.items)


def test_an_assumed_pregnancy_capability_is_said(kb: KnowledgeBase) -> None:
    snapshot = woman_on_course(pregnancy_capability=None)
    schedule = schedule_on(10, snapshot, kb)
    assert "pregnancy-test" in kinds(schedule)
    assert any("assumed able to get pregnant" in n for n in schedule.notes)


def test_windows_end_on_the_prescription_days_when_they_are_given(kb: KnowledgeBase) -> None:
    prescriptions = (START, day(33))
    schedule = schedule_on(40, woman_on_course(), kb, prescription_days=prescriptions)
    second = item(schedule, "pregnancy-test", "m2")
    assert second.end == day(33)
    assert second.days == days(kb, "ppp.test_window_days")
    assert item(schedule, "visit", "m2").done_on == day(33)
    planned = item(schedule, "visit", "m3")
    assert planned.start == day(33 + days(kb, "schedule.visit_interval_days"))
    assert planned.status is ItemStatus.UPCOMING


def test_without_prescription_days_visits_are_done_by_the_prescription_count(
    kb: KnowledgeBase,
) -> None:
    snapshot = woman_on_course(courses=(course(prescriptions=1),))
    schedule = schedule_on(40, snapshot, kb)
    assert item(schedule, "visit", "m1").status is ItemStatus.DONE
    assert item(schedule, "visit", "m1").done_on is None
    assert item(schedule, "visit", "m2").status is ItemStatus.OVERDUE
    assert any("prescription dates were not given" in n for n in schedule.notes)


# --- after the course -------------------------------------------------------------------------


def test_the_post_course_test_is_due_30_days_after_the_last_dose(kb: KnowledgeBase) -> None:
    snapshot = woman_on_course(courses=(ENDED,))
    after = days(kb, "ppp.post_course_test_days")
    test = item(schedule_on(130, snapshot, kb), "post-course-pregnancy-test", "post")
    assert test.start == day(120 + after)
    assert test.days == days(kb, "ppp.test_window_days")
    assert test.status is ItemStatus.UPCOMING
    assert item(schedule_on(120 + after, snapshot, kb), test.kind, "post").status is ItemStatus.DUE
    assert item(schedule_on(200, snapshot, kb), test.kind, "post").status is ItemStatus.OVERDUE


def test_a_test_the_day_before_the_post_course_date_does_not_count(kb: KnowledgeBase) -> None:
    due = day(120 + days(kb, "ppp.post_course_test_days"))
    near_miss = woman_on_course(
        courses=(ENDED,), pregnancy_tests=(pregnancy_test_on(due - timedelta(1)),)
    )
    assert item(schedule_on(200, near_miss, kb), "post-course-pregnancy-test", "post").status is (
        ItemStatus.OVERDUE
    )
    late = woman_on_course(
        courses=(ENDED,), pregnancy_tests=(pregnancy_test_on(due + timedelta(20)),)
    )
    done = item(schedule_on(200, late, kb), "post-course-pregnancy-test", "post")
    assert done.status is ItemStatus.LATE  # after its window: done, but never in time
    assert done.done_on == due + timedelta(20)


def test_the_end_of_course_test_window_ends_on_the_last_dose(kb: KnowledgeBase) -> None:
    test = item(
        schedule_on(130, woman_on_course(courses=(ENDED,)), kb),
        "end-of-course-pregnancy-test",
        "end",
    )
    assert test.end == day(120)
    assert test.days == days(kb, "ppp.test_window_days")


def test_contraception_continues_30_days_after_the_last_dose(kb: KnowledgeBase) -> None:
    snapshot = woman_on_course(courses=(ENDED,))
    after = days(kb, "ppp.contraception_after_days")
    during = item(schedule_on(130, snapshot, kb), "contraception-end", "end")
    assert (during.start, during.end) == (day(121), day(120 + after))
    assert during.status is ItemStatus.DUE
    assert item(schedule_on(121 + after, snapshot, kb), "contraception-end", "end").status is (
        ItemStatus.DONE
    )


def test_an_open_course_says_the_after_course_items_wait_for_the_last_dose(
    kb: KnowledgeBase,
) -> None:
    schedule = schedule_on(10, woman_on_course(), kb)
    assert "post-course-pregnancy-test" not in kinds(schedule)
    assert any("once the last dose is recorded" in n for n in schedule.notes)


def test_an_ended_course_has_no_visit_on_or_after_its_last_dose(kb: KnowledgeBase) -> None:
    schedule = schedule_on(200, man_on_course(courses=(ENDED,)), kb)
    visits = [i for i in schedule.items if i.kind == "visit"]
    assert visits
    assert all(v.start < day(120) for v in visits)


def test_an_open_course_is_planned_up_to_the_horizon(kb: KnowledgeBase) -> None:
    schedule = schedule_on(10, man_on_course(), kb)
    horizon = day(10 + days(kb, "schedule.horizon_days"))
    visits = [i.start for i in schedule.items if i.kind == "visit"]
    assert max(visits) <= horizon
    assert max(visits) + timedelta(days(kb, "schedule.visit_interval_days")) > horizon


# --- labs -----------------------------------------------------------------------------------


def test_baseline_labs_count_within_30_days_before_the_start(kb: KnowledgeBase) -> None:
    window = days(kb, "labs.baseline_window_days")
    labs = (lab("triglycerides", day(-window)), lab("alt", day(-window - 1)))
    schedule = schedule_on(0, man_on_course(labs=labs), kb)
    assert item(schedule, "lipids", "baseline").status is ItemStatus.DONE
    assert item(schedule, "lipids", "baseline").baseline
    alt = item(schedule, "alt", "baseline")
    assert alt.status is ItemStatus.DUE
    assert item(schedule_on(1, man_on_course(labs=labs), kb), "alt", "baseline").status is (
        ItemStatus.OVERDUE
    )


def test_the_one_month_recheck_counts_from_a_week_before_it_is_due(kb: KnowledgeBase) -> None:
    due = days(kb, "labs.recheck_after_days")
    opens = due - days(kb, "labs.recheck_early_days")
    labs = (lab("triglycerides", day(opens)), lab("alt", day(opens - 1)))
    schedule = schedule_on(due + 5, man_on_course(labs=labs), kb)
    lipids = item(schedule, "lipids", "after-start")
    assert (lipids.start, lipids.end, lipids.status) == (day(opens), day(due), ItemStatus.DONE)
    assert item(schedule, "alt", "after-start").status is ItemStatus.OVERDUE


def test_labs_are_rechecked_a_month_after_a_dose_increase(kb: KnowledgeBase) -> None:
    increase = day(45)
    after = days(kb, "labs.recheck_after_days")
    snapshot = man_on_course(
        courses=(course(last_dose_increase=increase),), labs=(lab("alt", increase),)
    )
    schedule = monitoring_schedule(snapshot, on=increase + timedelta(after), kb=kb)
    recheck = item(schedule, "alt", "after-increase-2026-02-19")
    assert recheck.end == increase + timedelta(after)
    assert recheck.status is ItemStatus.DUE  # a result on the day of the increase does not count
    assert "after the increase on 2026-02-19" in recheck.title
    late = item(schedule, "alt", "after-start")  # the same result does the 1-month one, late
    assert (late.status, late.done_on) == (ItemStatus.LATE, increase)


def test_an_early_dose_increase_replaces_the_one_month_recheck(kb: KnowledgeBase) -> None:
    schedule = schedule_on(20, man_on_course(courses=(course(last_dose_increase=day(10)),)), kb)
    anchors = {i.key.rsplit("/", 1)[1] for i in schedule.items if i.kind == "lipids"}
    assert anchors == {"baseline", "after-increase-2026-01-15"}


def test_eu_programme_adds_labelled_three_monthly_lab_repeats(kb: KnowledgeBase) -> None:
    us = schedule_on(60, man_on_course(), kb, programme="us-ipledge-2024")
    eu = schedule_on(60, man_on_course(), kb, programme="eu-ppp-2018")
    assert not [i for i in us.items if i.label]
    repeat = item(eu, "lipids", "repeat-1")
    expected = day(days(kb, "labs.recheck_after_days") + days(kb, "labs.repeat_interval_days"))
    assert repeat.end == expected
    assert repeat.label == "EU SmPC"
    assert "labs.repeat_interval_days" in repeat.parameters


# --- mood -----------------------------------------------------------------------------------


def test_a_mood_screen_at_each_visit_done_late_counts_until_the_next_window(
    kb: KnowledgeBase,
) -> None:
    snapshot = man_on_course(mood_screens=(phq9(day(-2)), phq9(day(35))))
    schedule = schedule_on(70, snapshot, kb)
    assert item(schedule, "mood-screen", "m1").done_on == day(-2)
    assert item(schedule, "mood-screen", "m2").done_on == day(35)
    assert item(schedule, "mood-screen", "m3").status is ItemStatus.OVERDUE


# --- the whole schedule -------------------------------------------------------------------


def test_items_are_sorted_by_date_with_unique_keys_and_known_parameters(
    kb: KnowledgeBase,
) -> None:
    schedule = schedule_on(60, woman_on_course(courses=(ENDED,)), kb, programme="eu-ppp-2018")
    starts = [i.start for i in schedule.items]
    assert starts == sorted(starts)
    assert len({i.key for i in schedule.items}) == len(schedule.items)
    for entry in schedule.items:
        assert entry.parameters
        assert entry.sources
        assert all(kb.parameter(p) for p in entry.parameters)
    assert schedule.with_status(ItemStatus.OVERDUE)


def test_the_window_length_follows_the_knowledge_base(kb: KnowledgeBase) -> None:
    parameter = kb.parameter("ppp.test_window_days")
    entries = {kind: dict(items) for kind, items in kb.entries.items()}
    entries["parameter"]["ppp.test_window_days"] = msgspec.structs.replace(parameter, value=5)
    shorter = replace(kb, entries=entries)
    assert isinstance(shorter.parameter("ppp.test_window_days"), Parameter)
    schedule = schedule_on(0, woman_on_course(), shorter)
    assert {i.days for i in schedule.items if i.is_pregnancy_test} == {5}


# --- properties -------------------------------------------------------------------------------

BASE = date(2025, 1, 1)
offsets = st.integers(min_value=0, max_value=400)


@st.composite
def scheduled_patients(draw: st.DrawFn) -> tuple[PatientSnapshot, date, tuple[date, ...] | None]:
    start = BASE + timedelta(draw(offsets))
    length = draw(st.none() | st.integers(min_value=0, max_value=300))
    end = None if length is None else start + timedelta(length)
    increase = draw(st.none() | st.integers(min_value=-20, max_value=320))
    gaps = draw(st.none() | st.lists(st.integers(min_value=1, max_value=60), max_size=8))
    prescriptions = None
    if gaps is not None:
        prescriptions, current = [], start
        for gap in gaps:
            prescriptions.append(current)
            current += timedelta(gap)
    tests = draw(
        st.lists(st.tuples(st.integers(-40, 500), st.sampled_from(TestResult)), max_size=12)
    )
    snapshot = PatientSnapshot(
        "p-prop",
        birth_date=date(2000, 1, 1),
        sex=Sex.FEMALE,
        pregnancy_capability=draw(st.sampled_from([None, *PregnancyCapability])),
        pregnancy_tests=tuple(PregnancyTest(start + timedelta(o), r) for o, r in tests),
        courses=(
            IsotretinoinCourse(
                start,
                end=end,
                last_dose_increase=None if increase is None else start + timedelta(increase),
                prescriptions=draw(st.integers(0, 12)),
            ),
        ),
    )
    on = start + timedelta(draw(st.integers(min_value=-30, max_value=600)))
    return snapshot, on, None if prescriptions is None else tuple(prescriptions)


@settings(max_examples=300, deadline=None)
@given(scheduled_patients(), st.sampled_from(["us-ipledge-2024", "eu-ppp-2018"]))
def test_the_schedule_never_shows_a_pregnancy_test_window_longer_than_the_programmes(
    kb: KnowledgeBase,
    case: tuple[PatientSnapshot, date, tuple[date, ...] | None],
    programme: str,
) -> None:
    snapshot, on, prescriptions = case
    schedule = monitoring_schedule(
        snapshot, on=on, kb=kb, prescription_days=prescriptions, programme=programme
    )
    window = kb.number("ppp.test_window_days")
    start = snapshot.courses[0].start
    for entry in schedule.items:
        assert entry.start <= entry.end
        if entry.is_pregnancy_test:
            assert entry.days <= window
        if entry.start < start:
            assert entry.baseline, entry.key
        if entry.status is ItemStatus.DONE and entry.done_on is not None:
            assert entry.done_on <= on
    assert [i.start for i in schedule.items] == sorted(i.start for i in schedule.items)
    assert len({i.key for i in schedule.items}) == len(schedule.items)


def test_a_recheck_a_month_late_is_late_and_one_inside_its_window_is_done(
    kb: KnowledgeBase,
) -> None:
    """Issue 13: a schedule item is done only by a result inside its window."""
    recheck = day(days(kb, "labs.recheck_after_days"))
    for when, status in ((recheck, ItemStatus.DONE), (recheck + timedelta(30), ItemStatus.LATE)):
        patient = man_on_course(labs=(lab("triglycerides", when),))
        lipids = item(schedule_on(120, patient, kb), "lipids", "after-start")
        assert (lipids.status, lipids.done_on) == (status, when)
