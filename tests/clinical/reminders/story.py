"""A course to walk through day by day: started, paused, resumed and ended, with the
commands on the days they happen (the reminders tests and the worker's simulation)."""

from __future__ import annotations

from datetime import date, timedelta

from isotrack.clinical.record import replay
from isotrack.clinical.reminders import reminders_due
from isotrack.clinical.state import (
    AnyCommand,
    EndCourse,
    PauseCourse,
    RecordPregnancyTest,
    ResumeCourse,
    StartCourse,
)
from isotrack.demo.story import Story
from isotrack.knowledge.base import KnowledgeBase

START = date(2026, 3, 2)
"""Day 0 of the simulation: the course starts."""
PAUSE, RESUME, END = 45, 60, 75
"""Days (from START) the course is paused, resumed and ended (the last dose)."""
LAST_DAY = 110
"""The simulation runs to here: past the end and the post-course test's window."""
PATIENT = "sim-kara"


def day(offset: int) -> date:
    return START + timedelta(days=offset)


def course_story(kb: KnowledgeBase, patient_id: str = PATIENT) -> list[tuple[AnyCommand, date]]:
    """(command, the day it is recorded) in order."""
    s = _started(kb, patient_id)
    s.add(RecordPregnancyTest(on=s.day(26), result="negative"))
    s.prescribe(30, 30, 30, phq9=3)
    s.add(PauseCourse(on=s.day(PAUSE), reason="travelling"))
    s.add(ResumeCourse(on=s.day(RESUME)))
    s.add(RecordPregnancyTest(on=s.day(RESUME + 1), result="negative"))
    s.prescribe(RESUME + 2, 30, 30, phq9=3)
    s.add(EndCourse(on=s.day(END), reason="target cumulative dose reached"))
    return s.patient("Kara Test", "a simulated course").commands


def varied_story(
    kb: KnowledgeBase,
    *,
    second_test: int | None,
    pause: tuple[int, int | None] | None,
    end: int | None,
) -> list[tuple[AnyCommand, date]]:
    """Day 0 start and prescription; a test on ``second_test`` (or none), and the
    month-2 prescription on day 30 when that test is in its window; a pause (first
    day, resumption or None) and an end (both after day 30, the end after the
    resumption)."""
    s = _started(kb, PATIENT)
    if second_test is not None:
        s.add(RecordPregnancyTest(on=s.day(second_test), result="negative"))
    window = int(kb.number("ppp.test_window_days"))
    if second_test is not None and 30 - window < second_test <= 30:
        s.prescribe(30, 30, 30, phq9=3)
    if pause is not None:
        s.add(PauseCourse(on=s.day(pause[0]), reason="travelling"))
        if pause[1] is not None:
            s.add(ResumeCourse(on=s.day(pause[1])))
    if end is not None:
        s.add(EndCourse(on=s.day(end), reason="stopped"))
    return s.patient("Kara Test", "a varied course").commands


def _started(kb: KnowledgeBase, patient_id: str) -> Story:
    s = Story(START, patient_id, kb)
    s.enrol(-60, "Kara Test", 26, "female", capability="can-get-pregnant")
    s.weigh(-60, 66)
    s.contraception(-50, "combined-oral", "male-condom")
    s.labs(-10, 100, 19)
    s.start_tests(0)
    s.add(StartCourse(on=s.day(0), course_id=f"{patient_id}-c1", product="absorica"))
    s.prescribe(0, 30, 30, phq9=3)
    return s


def first_due(commands: list[tuple[AnyCommand, date]], kb: KnowledgeBase) -> dict[str, int]:
    """The pure engine walked from day -5 to LAST_DAY: each key and the first day it is
    due (the commands of a day are recorded before it is asked)."""
    found: dict[str, int] = {}
    for offset in range(-5, LAST_DAY + 1):
        record = replay([(c, at) for c, at in commands if at <= day(offset)], kb=kb)
        for reminder in reminders_due(record, on=day(offset), kb=kb):
            found.setdefault(reminder.key, offset)
    return found
