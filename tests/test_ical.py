"""The schedule as an iCalendar file: parsed back, events and dates as scheduled,
stable UIDs, reminders, and RFC 5545 line format."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar, Component

from isotrack.clinical.monitoring.schedule import ItemStatus, Schedule, monitoring_schedule
from isotrack.errors import InvalidInputError
from isotrack.ical import PRODID, schedule_to_ics
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_schedule import course, day, pregnancy_test_on, woman_on_course

GENERATED = datetime(2026, 2, 14, 8, 30, tzinfo=UTC)


def schedule_for(kb: KnowledgeBase, on: date, patient_id: str = "w-schedule") -> Schedule:
    snapshot = woman_on_course(
        patient_id=patient_id,
        courses=(course(end=day(100), prescriptions=2),),
        pregnancy_tests=(pregnancy_test_on(day(-2)),),
    )
    return monitoring_schedule(snapshot, on=on, kb=kb)


def events(ics: bytes) -> list[Component]:
    return list(Calendar.from_ical(ics).walk("VEVENT"))


def test_every_item_becomes_one_all_day_event_spanning_its_window(kb: KnowledgeBase) -> None:
    schedule = schedule_for(kb, day(40))
    ics = schedule_to_ics(schedule, patient_name="Dana Example", generated=GENERATED)
    calendar = Calendar.from_ical(ics)
    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    found = events(ics)
    assert len(found) == len(schedule.items)
    for event, item in zip(found, schedule.items, strict=True):
        assert event.decoded("DTSTART") == item.start
        assert event.decoded("DTEND") == item.end + timedelta(days=1)
        assert event["DTSTART"].params["VALUE"] == "DATE"
        assert item.title in str(event["SUMMARY"])
        assert item.what_to_do in str(event["DESCRIPTION"])
        assert event.decoded("DTSTAMP") == GENERATED


def test_done_and_overdue_items_say_so_in_the_summary(kb: KnowledgeBase) -> None:
    schedule = schedule_for(kb, day(40))
    by_uid = {
        str(e["UID"]): e
        for e in events(schedule_to_ics(schedule, patient_name="D", generated=GENERATED))
    }
    summaries = [str(e["SUMMARY"]) for e in by_uid.values()]
    assert "Done: Confirmation pregnancy test before the first prescription" in summaries
    assert any(s.startswith("Overdue: ") for s in summaries)
    done = next(e for e in by_uid.values() if str(e["SUMMARY"]).startswith("Done: Confirm"))
    assert "negative on 2026-01-03" in str(done["DESCRIPTION"])


def test_uids_are_stable_across_exports_so_reimporting_updates(kb: KnowledgeBase) -> None:
    first = events(
        schedule_to_ics(schedule_for(kb, day(10)), patient_name="D", generated=GENERATED)
    )
    later = events(
        schedule_to_ics(
            schedule_for(kb, day(40)), patient_name="D", generated=GENERATED + timedelta(days=30)
        )
    )
    first_uids = [str(e["UID"]) for e in first]
    assert len(set(first_uids)) == len(first_uids)
    assert set(first_uids) == {str(e["UID"]) for e in later}
    assert all("w-schedule" not in uid for uid in first_uids)


def test_another_patient_gets_other_uids(kb: KnowledgeBase) -> None:
    one = events(schedule_to_ics(schedule_for(kb, day(10)), patient_name="D", generated=GENERATED))
    other = events(
        schedule_to_ics(schedule_for(kb, day(10), "w-other"), patient_name="E", generated=GENERATED)
    )
    assert not {str(e["UID"]) for e in one} & {str(e["UID"]) for e in other}


def test_only_upcoming_items_get_a_reminder_the_day_before(kb: KnowledgeBase) -> None:
    schedule = schedule_for(kb, day(40))
    found = events(schedule_to_ics(schedule, patient_name="D", generated=GENERATED))
    for event, item in zip(found, schedule.items, strict=True):
        alarms = list(event.walk("VALARM"))
        if item.status is ItemStatus.UPCOMING:
            assert len(alarms) == 1
            trigger = alarms[0].decoded("TRIGGER")
            assert timedelta(days=-1) <= trigger < timedelta(0)
            assert str(alarms[0]["ACTION"]) == "DISPLAY"
        else:
            assert alarms == []
    assert any(i.status is ItemStatus.UPCOMING for i in schedule.items)


def test_lines_end_in_crlf_and_are_folded_at_75_octets(kb: KnowledgeBase) -> None:
    ics = schedule_to_ics(
        schedule_for(kb, day(40)), patient_name="Dana Example", generated=GENERATED
    )
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n")
    assert ics.endswith(b"END:VCALENDAR\r\n")
    lines = ics.split(b"\r\n")
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 75


def test_a_naive_generation_time_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInputError, match="time zone"):
        schedule_to_ics(
            schedule_for(kb, day(10)), patient_name="D", generated=datetime(2026, 2, 14)
        )


def test_an_empty_schedule_is_refused_with_its_reason(kb: KnowledgeBase) -> None:
    empty = monitoring_schedule(woman_on_course(courses=()), on=day(0), kb=kb)
    with pytest.raises(InvalidInputError, match="No isotretinoin course"):
        schedule_to_ics(empty, patient_name="D", generated=GENERATED)


def test_a_name_with_a_line_break_stored_before_the_door_stays_on_one_line(
    kb: KnowledgeBase,
) -> None:
    """Issue 14: CR/LF in a patient name broke the calendar export."""
    schedule = schedule_for(kb, day(40))
    ics = schedule_to_ics(
        schedule, patient_name="Ana\r\nBEGIN:VEVENT", generated=datetime(2026, 3, 2, tzinfo=UTC)
    )
    lines = ics.decode("utf-8").split("\r\n")
    assert "NAME:isotrack: Ana BEGIN:VEVENT" in lines
    assert len(events(ics)) == len(schedule.items)
