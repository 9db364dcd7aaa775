"""The subscribed calendar as built from a schedule: parsed back with ``icalendar``,
done items left out, events on their real days with alarms, neutral titles unless
the patient chose the test names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar, Component

from isotrack.clinical.monitoring import ItemStatus, Schedule, monitoring_schedule
from isotrack.errors import InvalidInputError
from isotrack.ical import (
    LONGEST_EVENT_DAYS,
    NEUTRAL_DESCRIPTION,
    NEUTRAL_TITLES,
    ON_THE_DAY,
    REMINDER_BEFORE_START,
    feed_uid,
    schedule_to_feed,
)
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_schedule import course, day, pregnancy_test_on, woman_on_course

GENERATED = datetime(2026, 2, 14, tzinfo=UTC)
CLINICAL_WORDS = ("pregnan", "isotretinoin", "lipid", "cholesterol", "triglycer", "liver",
                  "alt", "mood", "phq", "contracept", "test", "acne", "blood")  # fmt: skip


def schedule_for(kb: KnowledgeBase, on: date) -> Schedule:
    snapshot = woman_on_course(
        patient_id="w-feed",
        courses=(course(end=day(100), prescriptions=2),),
        pregnancy_tests=(pregnancy_test_on(day(-2)),),
    )
    return monitoring_schedule(snapshot, on=on, kb=kb)


def feed_events(schedule: Schedule, *, clinical_titles: bool = False) -> dict[str, Component]:
    ics = schedule_to_feed(schedule, generated=GENERATED, clinical_titles=clinical_titles)
    calendar = Calendar.from_ical(ics)
    assert str(calendar["VERSION"]) == "2.0"
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_done_items_are_left_out_and_every_other_item_is_one_event(kb: KnowledgeBase) -> None:
    schedule = schedule_for(kb, day(40))
    found = feed_events(schedule)
    done = schedule.with_status(ItemStatus.DONE)
    assert done, "the builder should give a done item to leave out"
    for item in schedule.items:
        assert (feed_uid(schedule.patient_id, item) in found) is (
            item.status is not ItemStatus.DONE
        )


def test_events_lie_on_the_real_days_of_their_windows(kb: KnowledgeBase) -> None:
    schedule = schedule_for(kb, day(40))
    found = feed_events(schedule)
    checked = 0
    for item in schedule.with_status(ItemStatus.UPCOMING, ItemStatus.DUE):
        event = found[feed_uid(schedule.patient_id, item)]
        first, after = event.decoded("DTSTART"), event.decoded("DTEND")
        assert event["DTSTART"].params["VALUE"] == "DATE"
        if item.days <= LONGEST_EVENT_DAYS:
            assert (first, after) == (item.start, item.end + timedelta(days=1))
        else:
            assert (first, after) == (item.end, item.end + timedelta(days=1))
        assert (after - first).days <= LONGEST_EVENT_DAYS
        checked += 1
    assert checked


def test_an_overdue_item_is_an_event_today_with_an_alarm_that_morning(kb: KnowledgeBase) -> None:
    schedule = schedule_for(kb, day(40))
    overdue = schedule.with_status(ItemStatus.OVERDUE)
    assert overdue
    for item in overdue:
        event = feed_events(schedule)[feed_uid(schedule.patient_id, item)]
        assert event.decoded("DTSTART") == schedule.on
        assert str(event["SUMMARY"]).startswith("Overdue: ")
        triggers = [a.decoded("TRIGGER") for a in event.walk("VALARM")]
        assert triggers[0] == ON_THE_DAY


def test_every_event_has_an_alarm_the_day_before_and_on_the_last_day(kb: KnowledgeBase) -> None:
    schedule = schedule_for(kb, day(10))
    for item in schedule.with_status(ItemStatus.UPCOMING):
        event = feed_events(schedule)[feed_uid(schedule.patient_id, item)]
        alarms = list(event.walk("VALARM"))
        assert alarms
        assert all(str(a["ACTION"]) == "DISPLAY" for a in alarms)
        assert alarms[0].decoded("TRIGGER") == -REMINDER_BEFORE_START
        days = (event.decoded("DTEND") - event.decoded("DTSTART")).days
        assert len(alarms) == (2 if days > 1 else 1)
        if days > 1:
            assert alarms[1].decoded("TRIGGER") == timedelta(days=days - 1) + ON_THE_DAY


@pytest.mark.parametrize("on", [day(-5), day(10), day(40), day(95)])
def test_no_clinical_word_is_shown_by_default(kb: KnowledgeBase, on: date) -> None:
    schedule = schedule_for(kb, on)
    ics = schedule_to_feed(schedule, generated=GENERATED, clinical_titles=False)
    calendar = Calendar.from_ical(ics)
    shown = [str(calendar["X-WR-CALNAME"])]
    for event in calendar.walk("VEVENT"):
        shown += [str(event["SUMMARY"]), str(event["DESCRIPTION"])]
        assert "CATEGORIES" not in event
        shown += [str(a["DESCRIPTION"]) for a in event.walk("VALARM")]
    assert len(shown) > 1
    for text in shown:
        words = text.lower().replace(":", " ").split()
        assert not [w for w in CLINICAL_WORDS if any(x.startswith(w) for x in words)], text
    summaries = {str(e["SUMMARY"]).removeprefix("Overdue: ") for e in calendar.walk("VEVENT")}
    assert summaries <= set(NEUTRAL_TITLES.values())


def test_the_test_names_are_shown_only_when_chosen(kb: KnowledgeBase) -> None:
    schedule = schedule_for(kb, day(10))
    chosen = feed_events(schedule, clinical_titles=True)
    summaries = [str(e["SUMMARY"]) for e in chosen.values()]
    assert any("regnancy test" in s for s in summaries)
    assert all(str(e["DESCRIPTION"]) != NEUTRAL_DESCRIPTION for e in chosen.values())


def test_an_empty_schedule_gives_a_calendar_without_events(kb: KnowledgeBase) -> None:
    empty = Schedule("p1", date(2026, 3, 2), reason="No course.")
    calendar = Calendar.from_ical(
        schedule_to_feed(empty, generated=GENERATED, clinical_titles=False)
    )
    assert list(calendar.walk("VEVENT")) == []


def test_a_naive_generation_time_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInputError, match="time zone"):
        schedule_to_feed(schedule_for(kb, day(10)), generated=datetime(2026, 2, 14),
                         clinical_titles=False)  # fmt: skip
