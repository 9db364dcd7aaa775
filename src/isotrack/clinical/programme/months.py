"""The months of a course, as the programme counts them.

A programme month is the cycle of one prescription: month 1 starts on the day
the course starts; month n + 1 starts on the day prescription n's supply runs
out (its first dispense, or the prescription date when nothing was dispensed,
plus its supply days), or on the day prescription n + 1 is written if that is
earlier. So each month holds at most one prescription, month n holds
prescription n, and a month without a prescription lasts until one is written
(a pause or a missed window makes it longer). The last month of an ended course
ends on the course's last day (no month opens on that day).

>>> from datetime import date
>>> from isotrack.clinical.state import CourseState, PrescriptionState
>>> p1 = PrescriptionState("p1", date(2026, 3, 2), 30, 2, 30, 60, 30)
>>> course = CourseState("c1", "absorica", date(2026, 3, 2), 150, prescriptions=(p1,))
>>> [(m.number, m.start) for m in course_months(course, date(2026, 4, 5))]
[(1, datetime.date(2026, 3, 2)), (2, datetime.date(2026, 4, 1))]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from isotrack.clinical.state import CourseState, PrescriptionState


@dataclass(frozen=True, slots=True)
class CourseMonth:
    number: int
    start: date
    prescription: PrescriptionState | None = None
    previous: PrescriptionState | None = None
    """The prescription of the month before (None in month 1)."""


def supply_end(course: CourseState, prescription: PrescriptionState, on: date) -> date:
    """The day after the prescription's supply runs out, as known on ``on``."""
    first = min(
        (d.on for d in course.dispenses if d.prescription_id == prescription.id and d.on <= on),
        default=prescription.on,
    )
    return first + timedelta(days=prescription.supply_days)


def course_months(course: CourseState, on: date) -> tuple[CourseMonth, ...]:
    """The months of ``course`` up to ``on`` (see the module doc); at least month 1."""
    last_day = on if course.end is None else min(on, course.end)
    months = [CourseMonth(1, course.start)]
    for prescription in (p for p in course.prescriptions if p.on <= last_day):
        current = months[-1]
        if current.prescription is None:
            months[-1] = replace(current, prescription=prescription)
            continue
        start = min(prescription.on, supply_end(course, current.prescription, on))
        months.append(CourseMonth(current.number + 1, start, prescription, current.prescription))
    current = months[-1]
    if current.prescription is not None:
        start = supply_end(course, current.prescription, on)
        if start <= last_day and (course.end is None or start < course.end):
            months.append(CourseMonth(current.number + 1, start, None, current.prescription))
    return tuple(months)


def month_last_day(
    months: tuple[CourseMonth, ...], index: int, course: CourseState, on: date
) -> date:
    """The last day of month ``index`` as known on ``on`` (never before its start)."""
    if index + 1 < len(months):
        return max(months[index].start, months[index + 1].start - timedelta(days=1))
    return on if course.end is None else max(months[index].start, min(on, course.end))
