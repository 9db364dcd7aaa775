"""The reminders engine: what it plans for a course walked day by day, and the
properties that hold for any course and any days (issue 16)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.monitoring import ItemStatus
from isotrack.clinical.programme import comprehension_requirement, rule_set
from isotrack.clinical.record import PatientRecord, course_on, record_schedule, replay
from isotrack.clinical.reminders import AFTER_THE_COURSE, Reminder, plan_reminders, reminders_due
from isotrack.clinical.state import AnyCommand
from isotrack.knowledge import default_knowledge
from isotrack.knowledge.base import KnowledgeBase
from tests.clinical.reminders.story import (
    END,
    LAST_DAY,
    PAUSE,
    RESUME,
    course_story,
    day,
    first_due,
    varied_story,
)

KB = default_knowledge()
FINISHED = {ItemStatus.DONE, ItemStatus.LATE}


def record_on(commands: list[tuple[AnyCommand, date]], on: date) -> PatientRecord:
    return replay([(c, at) for c, at in commands if at <= on], kb=KB)


def test_a_course_walked_day_by_day_gets_each_kind_and_nothing_while_paused() -> None:
    sent = first_due(course_story(KB), KB)
    kinds = {key.split("/")[1] for key in sent}
    assert {
        "test-window-opens",
        "comprehension",
        "labs",
        "mood-check",
        "visit",
        "test-window-closes",
        "contraception-continues",
        "post-course-test",
    } <= kinds
    assert not [key for key, first in sent.items() if PAUSE <= first < RESUME]
    after = {key.split("/")[1] for key, first in sent.items() if first > END}
    assert after == {"contraception-continues", "post-course-test"}


def test_a_test_done_early_stops_the_closing_reminder_of_its_window() -> None:
    sent = first_due(course_story(KB), KB)
    assert any("test-window-opens" in k and k.endswith("pregnancy-test/m2") for k in sent)
    # the month-2 test was done on day 26, before the closing reminder's day
    assert not any("test-window-closes" in k and k.endswith("pregnancy-test/m2") for k in sent)


def test_send_days_keep_the_lead_times_of_the_knowledge_base() -> None:
    record = record_on(course_story(KB), day(20))
    planned = {r.kind: r for r in plan_reminders(record, on=day(20), kb=KB)}
    lead = {
        k: timedelta(days=KB.number(f"reminders.{k}"))
        for k in ("visit_lead_days", "test_window_closing_lead_days", "mood_lead_days")
    }
    assert planned["visit"].due - planned["visit"].send_on == lead["visit_lead_days"]
    closes = planned["test-window-closes"]
    assert closes.due - closes.send_on == lead["test_window_closing_lead_days"]
    assert planned["mood-check"].due - planned["mood-check"].send_on == lead["mood_lead_days"]
    assert planned["test-window-opens"].send_on == planned["test-window-opens"].due - timedelta(
        days=KB.number("ppp.test_window_days") - 1
    )


def test_nothing_is_planned_before_a_course_starts_nor_while_it_is_paused() -> None:
    commands = course_story(KB)
    assert plan_reminders(record_on(commands, day(-3)), on=day(-3), kb=KB) == ()
    assert plan_reminders(record_on(commands, day(PAUSE + 1)), on=day(PAUSE + 1), kb=KB) == ()


# --- properties --------------------------------------------------------------------------------
def _still_open(record: PatientRecord, reminder: Reminder, on: date, kb: KnowledgeBase) -> bool:
    """The item a reminder is about is not done (in time or late) on ``on``."""
    schedule = record_schedule(record, on=on, kb=kb)
    if reminder.kind == "labs":
        items = [i for i in schedule.items if i.kind in ("lipids", "alt") and i.end == reminder.due]
        return bool(items) and all(i.status not in FINISHED for i in items)
    item_key = reminder.key.split("/", 2)[2]
    (item,) = [i for i in schedule.items if i.key == item_key]
    if reminder.kind == "comprehension":
        course = course_on(record, on)
        month = int(item_key.rsplit("/m", 1)[1])
        check = comprehension_requirement(record, rule_set(record, kb), course, month, item.end, on)
        return not check.met
    return item.status not in FINISHED


@st.composite
def courses(draw: st.DrawFn) -> list[tuple[AnyCommand, date]]:
    second_test = draw(st.none() | st.integers(18, 34))
    pause = draw(st.none() | st.tuples(st.integers(31, 70), st.none() | st.integers(1, 30)))
    end = draw(st.none() | st.integers(31, 100))
    paused = None
    if pause is not None:
        first, length = pause
        paused = (first, None if length is None else first + length)
        if end is not None and (paused[1] is None or end <= paused[1]):
            end = None if paused[1] is None else paused[1] + 1
    if paused is not None and end is not None and end <= paused[0]:
        end = paused[0] + 1 if paused[1] is None else end
    return varied_story(KB, second_test=second_test, pause=paused, end=end)


@settings(max_examples=25, deadline=None)
@given(courses(), st.lists(st.integers(-5, LAST_DAY), min_size=1, max_size=8))
def test_keys_are_unique_and_nothing_is_planned_for_what_is_done(
    commands: list[tuple[AnyCommand, date]], offsets: list[int]
) -> None:
    for offset in sorted(set(offsets)):
        on = day(offset)
        record = record_on(commands, on)
        planned = plan_reminders(record, on=on, kb=KB)
        keys = [r.key for r in planned]
        assert len(keys) == len(set(keys))
        course = course_on(record, on)
        if course is None or course.paused_on(on):
            assert planned == ()
            continue
        for reminder in planned:
            assert reminder.send_on <= reminder.due
            assert reminder.due >= on
            assert _still_open(record, reminder, on, KB), reminder
            if course.end is not None and course.end < on:
                assert reminder.kind in AFTER_THE_COURSE
        due = reminders_due(record, on=on, kb=KB)
        assert set(due) <= set(planned)
        assert all(r.send_on <= on for r in due)
