"""The monitoring schedule as an iCalendar file (RFC 5545) a patient can import.

One all-day VEVENT per schedule item spans its window (DTEND is the day after
the last day, as RFC 5545 counts all-day events). The UID is built from the
item's stable key and a hash of the patient id, so importing a newer export
updates the events instead of duplicating them, and the calendar does not
carry the record number. Items still to come get a reminder (VALARM) the day
before their window opens. The ``icalendar`` library writes the text: CRLF
line ends, lines folded at 75 octets, values escaped.

>>> from datetime import UTC, date, datetime
>>> from isotrack.clinical.monitoring import Schedule
>>> empty = Schedule("p1", date(2026, 3, 2), reason="No course.")
>>> schedule_to_ics(empty, patient_name="Dana", generated=datetime(2026, 3, 2, tzinfo=UTC))
Traceback (most recent call last):
...
isotrack.errors.InvalidInputError: schedule: nothing to export: No course.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from isotrack.clinical.monitoring import ItemStatus, Schedule, ScheduleItem
from isotrack.clinical.monitoring.schedule import ONE_DAY
from isotrack.errors import InvalidInputError

ICS_MEDIA_TYPE = "text/calendar"
"""The media type of an iCalendar file, for the routes that send one."""

PRODID = "-//isotrack//EN"
REMINDER_BEFORE_START = timedelta(hours=15)
"""An all-day event starts at midnight: 15 hours before is 09:00 the day before."""
PATIENT_LINE = (
    "From isotrack, decision support for isotretinoin treatment: follow your "
    "prescriber's advice if it differs."
)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SUMMARY_PREFIX = {
    ItemStatus.DONE: "Done: ",
    ItemStatus.LATE: "Done late: ",
    ItemStatus.OVERDUE: "Overdue: ",
}


def schedule_to_ics(schedule: Schedule, *, patient_name: str, generated: datetime) -> bytes:
    """The schedule as iCalendar bytes. ``generated`` (with a time zone) becomes
    every event's DTSTAMP. An empty schedule is refused with its reason: a
    calendar needs at least one event."""
    if generated.tzinfo is None or generated.utcoffset() is None:
        raise InvalidInputError("generated", "needs a time zone (e.g. UTC)")
    if schedule.is_empty:
        raise InvalidInputError("schedule", f"nothing to export: {schedule.reason}")
    stamp = generated.astimezone(UTC)
    # A name stored before the door refused line breaks must not break the file.
    patient_name = " ".join(_CONTROL.sub(" ", patient_name).split())
    calendar = _calendar(f"isotrack: {patient_name}")
    for item in schedule.items:
        calendar.add_component(_event(schedule, item, stamp))
    return bytes(calendar.to_ical())


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    return calendar


def event_uid(patient_id: str, item: ScheduleItem) -> str:
    """Stable per patient and item: '<item key>.<patient hash>@isotrack'."""
    patient = hashlib.sha256(patient_id.encode("utf-8")).hexdigest()[:16]
    return f"{item.key.replace('/', '.')}.{patient}@isotrack"


def _event(schedule: Schedule, item: ScheduleItem, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", event_uid(schedule.patient_id, item))
    event.add("dtstamp", stamp)
    event.add("dtstart", item.start)
    event.add("dtend", item.end + ONE_DAY)
    event.add("summary", _SUMMARY_PREFIX.get(item.status, "") + item.title)
    event.add("description", _description(schedule, item))
    event.add("categories", [item.kind])
    event.add("transp", "TRANSPARENT")
    if item.status is ItemStatus.UPCOMING:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Tomorrow: {item.title}")
        alarm.add("trigger", -REMINDER_BEFORE_START)
        event.add_component(alarm)
    return event


def _description(schedule: Schedule, item: ScheduleItem) -> str:
    if item.status is ItemStatus.DONE:
        status = f"Done: {item.done_by}." if item.done_by else "Done."
    else:
        status = f"Status on {schedule.on.isoformat()}: {item.status}."
    lines = [item.what_to_do, status]
    if item.label:
        lines.append(f"Asked for by: {item.label}.")
    if item.sources:
        lines.append(f"References: {', '.join(item.sources)}.")
    lines.append(PATIENT_LINE)
    return "\n".join(lines)


# --- the subscribed calendar -------------------------------------------------------------------
FEED_REFRESH = timedelta(hours=6)
"""How often a subscribing calendar is asked to fetch the feed again (REFRESH-INTERVAL)."""
LONGEST_EVENT_DAYS = 10
"""A window longer than this becomes one event on its last day, not a block of days
(a month-long all-day event hides the rest of the calendar)."""
ON_THE_DAY = timedelta(hours=9)
"""An alarm on the day of an all-day event: 09:00."""
NEUTRAL_TITLES: dict[str, str] = {
    "visit": "Clinic appointment",
    "pregnancy-test": "Lab visit",
    "end-of-course-pregnancy-test": "Lab visit",
    "post-course-pregnancy-test": "Lab visit",
    "lipids": "Lab visit",
    "alt": "Lab visit",
    "mood-screen": "Clinic check-in",
    "contraception-end": "Clinic reminder",
}
"""Event titles a lock screen may show to anyone: no test, drug or condition named."""
NEUTRAL_CALENDAR_NAME = "My clinic"
NEUTRAL_DESCRIPTION = "Details are on your clinic page."


def schedule_to_feed(schedule: Schedule, *, generated: datetime, clinical_titles: bool) -> bytes:
    """The subscribed calendar: what is still to do, each event on its real days.

    Done items are left out. A window of up to :data:`LONGEST_EVENT_DAYS` days is
    one all-day event over those days; a longer one is an event on its last day.
    An overdue item is an event today. Every event has an alarm: 09:00 the day
    before (09:00 on the day when overdue) and, for a window of several days, 09:00
    on its last day. Titles and descriptions are neutral (:data:`NEUTRAL_TITLES`)
    unless ``clinical_titles``; an empty schedule gives a calendar with no events.
    """
    if generated.tzinfo is None or generated.utcoffset() is None:
        raise InvalidInputError("generated", "needs a time zone (e.g. UTC)")
    stamp = generated.astimezone(UTC)
    calendar = _calendar("isotrack" if clinical_titles else NEUTRAL_CALENDAR_NAME)
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", FEED_REFRESH)
    for item in schedule.items:
        if item.status is not ItemStatus.DONE:
            calendar.add_component(_feed_event(schedule, item, stamp, clinical_titles))
    return bytes(calendar.to_ical())


def feed_title(item: ScheduleItem, *, clinical_titles: bool) -> str:
    """The event's title: the schedule's words only when the patient chose them."""
    title = item.title if clinical_titles else NEUTRAL_TITLES[item.kind]
    return f"Overdue: {title}" if item.status is ItemStatus.OVERDUE else title


def feed_uid(patient_id: str, item: ScheduleItem) -> str:
    """Stable per patient and item, and naming neither: a hash of both '@isotrack'."""
    digest = hashlib.sha256(f"{patient_id}\n{item.key}".encode()).hexdigest()[:32]
    return f"{digest}@isotrack"


def _feed_event(
    schedule: Schedule, item: ScheduleItem, stamp: datetime, clinical_titles: bool
) -> Event:
    if item.status is ItemStatus.OVERDUE:
        first = last = schedule.on
    elif item.days > LONGEST_EVENT_DAYS:
        first = last = item.end
    else:
        first, last = item.start, item.end
    title = feed_title(item, clinical_titles=clinical_titles)
    event = Event()
    event.add("uid", feed_uid(schedule.patient_id, item))
    event.add("dtstamp", stamp)
    event.add("dtstart", first)
    event.add("dtend", last + ONE_DAY)
    event.add("summary", title)
    if clinical_titles:
        event.add("description", f"{item.what_to_do}\nAny day from {item.start.isoformat()} "
                  f"to {item.end.isoformat()}.\n{PATIENT_LINE}")  # fmt: skip
    else:
        event.add("description", NEUTRAL_DESCRIPTION)
    event.add("transp", "TRANSPARENT")
    alarms = [ON_THE_DAY] if item.status is ItemStatus.OVERDUE else [-REMINDER_BEFORE_START]
    if last > first:
        alarms.append((last - first) + ON_THE_DAY)
    for trigger in alarms:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", title)
        alarm.add("trigger", trigger)
        event.add_component(alarm)
    return event
