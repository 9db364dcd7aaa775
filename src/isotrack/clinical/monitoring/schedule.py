"""The monitoring schedule of one isotretinoin course: what is due, overdue,
done and upcoming, with dates (facts.md §4, §6, §7; rules.md "During the course").
Pure; every number comes from the knowledge base, and each item names the
parameters behind it and their sources.

- ``visit``: every ``schedule.visit_interval_days``: the prescription days when
  given, then planned ones; without them, planned from the course start and
  done when the course records that many prescriptions.
- ``pregnancy-test`` (patients who can get pregnant), one per visit: the
  programme's ``ppp.test_window_days`` ending on the visit (prescription) day,
  as :func:`~isotrack.clinical.screening.window_first_day` counts it; a
  negative or positive result in it does it, an indeterminate one does not.
  ``end-of-course-pregnancy-test``: the same window ending on the last dose;
  ``post-course-pregnancy-test``: a window of the same length from
  ``ppp.post_course_test_days`` after the last dose (a later result does it,
  late); ``contraception-end``: ``ppp.contraception_after_days`` after it.
- ``lipids`` (triglycerides) and ``alt``: baseline in the
  ``labs.baseline_window_days`` up to the start; rechecks
  ``labs.recheck_after_days`` after the start and after the last dose increase,
  from ``labs.recheck_early_days`` before, as MON-LABS-DUE counts them (an
  increase before the 1-month window opened replaces it); EU programmes add a
  repeat every ``labs.repeat_interval_days`` (label "EU SmPC"). Any result
  from the window's first day does it.
- ``mood-screen``, one per visit, from ``schedule.mood_screen_early_days``
  before it; a screen before the next visit's window also does it.

Status: ``done`` when a record inside the window (up to the evaluation date)
does it, ``late`` when the first record that would do it is dated after the
window closed, else ``upcoming``, ``due`` or ``overdue`` against the window. An ended course has no
visits from its last dose on; an open one is planned ``schedule.horizon_days``
ahead. Only ``baseline`` items open before the course start (later windows are
clipped, never lengthened). Keys (course start, kind, month or anchor) are
stable, so a calendar export updates its events instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import get_args

from isotrack.clinical.monitoring.schedule_builder import Done, ScheduleBuilder
from isotrack.clinical.monitoring.schedule_labs import add_lab_items
from isotrack.clinical.monitoring.schedule_model import (
    ONE_DAY,
    PREGNANCY_TEST_KINDS,
    ItemKind,
    ItemStatus,
    Schedule,
    ScheduleItem,
)
from isotrack.clinical.screening import (
    describe_pregnancy_test,
    pregnancy_capability,
    pregnancy_tests_newest_first,
    window_first_day,
)
from isotrack.clinical.snapshot import IsotretinoinCourse, PatientSnapshot, TestResult
from isotrack.knowledge.base import KnowledgeBase

_KIND_ORDER = {kind: index for index, kind in enumerate(get_args(ItemKind))}


def schedule_course(snapshot: PatientSnapshot, on: date) -> IsotretinoinCourse | None:
    """The course to schedule: active on ``on``, else the latest started, else the next."""
    active = [c for c in snapshot.courses if c.active_on(on)]
    started = [c for c in snapshot.courses if c.start <= on]
    if active or started:
        return max(active or started, key=lambda c: c.start)
    return min(snapshot.courses, key=lambda c: c.start, default=None)


def monitoring_schedule(
    snapshot: PatientSnapshot,
    *,
    on: date,
    kb: KnowledgeBase,
    course: IsotretinoinCourse | None = None,
    prescription_days: Sequence[date] | None = None,
    programme: str | None = None,
) -> Schedule:
    """What is due, overdue, done and upcoming for ``course`` (default:
    :func:`schedule_course`) on ``on``. ``prescription_days``: the course's
    prescription dates when known (None: plan visits from the start);
    ``programme``: a programme id (default ``ppp.default_programme``)."""
    programme_id = programme or kb.text("ppp.default_programme")
    chosen = course or schedule_course(snapshot, on)
    if chosen is None:
        return Schedule(
            snapshot.patient_id,
            on,
            reason="No isotretinoin course is recorded: there is nothing to schedule yet.",
            programme=programme_id,
        )
    builder = ScheduleBuilder(snapshot, on, kb, chosen)
    cbp = pregnancy_capability(snapshot, on, kb)
    notes = [cbp.assumption] if cbp.assumed else []
    visits = _visits(builder, prescription_days, notes)
    _visit_items(builder, visits)
    _mood_screens(builder, visits)
    add_lab_items(builder, eu=kb.programme(programme_id).region == "EU")
    if cbp.can_get_pregnant:
        _monthly_pregnancy_tests(builder, visits)
        _after_the_course(builder, notes)
    else:
        notes.append(f"No pregnancy tests are scheduled: {cbp.label}.")
    items = sorted(builder.items, key=lambda i: (i.start, i.end, _KIND_ORDER[i.kind], i.key))
    return Schedule(
        snapshot.patient_id,
        on,
        tuple(items),
        course=chosen,
        pregnancy_capability=cbp.label,
        programme=programme_id,
        notes=tuple(notes),
    )


# --- building blocks ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Visit:
    month: int
    day: date
    done: Done | None


def _visits(
    builder: ScheduleBuilder, prescription_days: Sequence[date] | None, notes: list[str]
) -> list[_Visit]:
    course, on = builder.course, builder.on
    interval = builder.days("schedule.visit_interval_days")
    visits: list[_Visit] = []
    if prescription_days is None:
        notes.append(
            f"Visit days are planned every {interval.days} days from the course start "
            f"({course.start.isoformat()}): the prescription dates were not given."
        )
    else:
        last = min(on, course.end) if course.end is not None else on
        known = sorted({day for day in prescription_days if course.start <= day <= last})
        visits = [
            _Visit(n, day, Done(day, f"prescription issued on {day.isoformat()}"))
            for n, day in enumerate(known, start=1)
        ]
    if course.end is None:
        notes.append(
            f"The course has no end date yet: planned up to "
            f"{builder.last_planned_day.isoformat()} (clinic policy)."
        )
    day = visits[-1].day + interval if visits else course.start
    while not visits or day <= builder.last_planned_day:
        month = len(visits) + 1
        done = None
        if prescription_days is None and month <= course.prescriptions:
            done = Done(None, f"prescription {month} of the course is recorded (date not given)")
        visits.append(_Visit(month, day, done))
        day += interval
    return visits


def _visit_items(builder: ScheduleBuilder, visits: list[_Visit]) -> None:
    supply = builder.kb.number("ppp.max_supply_days")
    for visit in visits:
        first = visit.month == 1
        builder.add(
            "visit",
            f"m{visit.month}",
            "First prescription visit" if first else f"Month {visit.month} visit",
            (visit.day, visit.day),
            f"See your prescriber for the month {visit.month} prescription: each prescription "
            f"covers at most {supply:g} days and has no refills.",
            ("schedule.visit_interval_days", "ppp.max_supply_days"),
            visit.done,
            baseline=first,
        )


def _window_start(builder: ScheduleBuilder, visit: _Visit, first: date) -> date:
    """Windows of later visits are clipped to the course start, never lengthened."""
    return first if visit.month == 1 else max(first, builder.course.start)


def _test_between(builder: ScheduleBuilder, first: date, last: date | None) -> Done | None:
    tests = [
        t
        for t in reversed(pregnancy_tests_newest_first(builder.snapshot, builder.on))
        if t.result is not TestResult.INDETERMINATE
        and first <= t.on
        and (last is None or t.on <= last)
    ]
    if not tests:
        return None
    test = next((t for t in tests if t.result is TestResult.POSITIVE), tests[0])
    text = f"pregnancy test {describe_pregnancy_test(test)}" + (
        f", {test.source}" if test.source else ""
    )
    if test.result is TestResult.POSITIVE:
        text += ": stop isotretinoin and contact the prescriber today"
    return Done(test.on, text)


def _monthly_pregnancy_tests(builder: ScheduleBuilder, visits: list[_Visit]) -> None:
    window = builder.kb.number("ppp.test_window_days")
    for visit in visits:
        first = _window_start(builder, visit, window_first_day(visit.day, builder.kb))
        title = (
            "Confirmation pregnancy test before the first prescription"
            if visit.month == 1
            else f"Pregnancy test before the month {visit.month} prescription"
        )
        builder.add(
            "pregnancy-test",
            f"m{visit.month}",
            title,
            (first, visit.day),
            f"Have a pregnancy test between {first.isoformat()} and {visit.day.isoformat()}: "
            f"the prescription needs a negative result from a sample taken in the {window:g} "
            "days up to it.",
            ("ppp.test_window_days", "schedule.visit_interval_days"),
            _test_between(builder, first, visit.day),
            baseline=visit.month == 1,
        )


def _after_the_course(builder: ScheduleBuilder, notes: list[str]) -> None:
    end, kb = builder.course.end, builder.kb
    if end is None:
        notes.append(
            "The end-of-course and post-course pregnancy tests and the end of contraception "
            "get their dates once the last dose is recorded."
        )
        return
    first = max(window_first_day(end, kb), builder.course.start)
    builder.add(
        "end-of-course-pregnancy-test",
        "end",
        "Pregnancy test at the end of the course",
        (first, end),
        f"Have a pregnancy test between {first.isoformat()} and the last dose ({end.isoformat()}).",
        ("ppp.test_window_days",),
        _test_between(builder, first, end),
    )
    due = end + builder.days("ppp.post_course_test_days")
    last = due + (due - window_first_day(due, kb))
    builder.add(
        "post-course-pregnancy-test",
        "post",
        "Pregnancy test after the end of the course",
        (due, last),
        f"Have a pregnancy test on or after {due.isoformat()}, {(due - end).days} days after the "
        f"last dose ({end.isoformat()}), at the latest by {last.isoformat()}.",
        ("ppp.post_course_test_days", "ppp.test_window_days"),
        _test_between(builder, due, None),
    )
    until = end + builder.days("ppp.contraception_after_days")
    builder.add(
        "contraception-end",
        "end",
        f"Keep using contraception until {until.isoformat()}",
        (end + ONE_DAY, until),
        f"Keep using your contraception every day until {until.isoformat()}, "
        f"{kb.number('ppp.contraception_after_days'):g} days after the last dose.",
        ("ppp.contraception_after_days",),
        Done(until, f"the period ended on {until.isoformat()}") if builder.on > until else None,
    )


def _mood_screens(builder: ScheduleBuilder, visits: list[_Visit]) -> None:
    early = builder.days("schedule.mood_screen_early_days")
    screens = sorted(
        (m for m in builder.snapshot.mood_screens if m.on <= builder.on), key=lambda m: m.on
    )
    for index, visit in enumerate(visits):
        first = _window_start(builder, visit, visit.day - early)
        before = visits[index + 1].day - early if index + 1 < len(visits) else None
        screen = next(
            (
                m
                for m in screens
                if m.phq9_total is not None and first <= m.on and (before is None or m.on < before)
            ),
            None,
        )
        done = None
        if screen is not None:
            source = f", {screen.source}" if screen.source else ""
            done = Done(screen.on, f"PHQ-9 {screen.phq9_total} on {screen.on.isoformat()}{source}")
        builder.add(
            "mood-screen",
            f"m{visit.month}",
            f"Mood check (PHQ-9) for month {visit.month}",
            (first, visit.day),
            "Answer the mood questionnaire (PHQ-9) at or just before your visit. Tell your "
            "prescriber at once about low mood or thoughts of harming yourself.",
            ("mood.screen_interval_days", "schedule.mood_screen_early_days"),
            done,
            baseline=visit.month == 1,
        )


__all__ = [
    "ONE_DAY",
    "PREGNANCY_TEST_KINDS",
    "ItemKind",
    "ItemStatus",
    "Schedule",
    "ScheduleItem",
    "monitoring_schedule",
    "schedule_course",
]
