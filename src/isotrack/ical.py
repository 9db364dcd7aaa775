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
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", f"isotrack: {patient_name}")
    calendar.add("x-wr-calname", f"isotrack: {patient_name}")
    for item in schedule.items:
        calendar.add_component(_event(schedule, item, stamp))
    return bytes(calendar.to_ical())


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
