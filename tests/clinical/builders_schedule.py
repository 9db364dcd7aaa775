"""Builders for monitoring-schedule tests: a course that started on START, and
patients on it, so that each test changes one thing."""

from __future__ import annotations

from datetime import date, timedelta

from isotrack.clinical.monitoring.schedule import Schedule, ScheduleItem
from isotrack.clinical.snapshot import (
    IsotretinoinCourse,
    LabResult,
    MoodScreen,
    PatientSnapshot,
    PregnancyCapability,
    PregnancyTest,
    Sex,
    TestResult,
    TestSetting,
)

START = date(2026, 1, 5)


def day(offset: int, start: date = START) -> date:
    """``offset`` days after ``start`` (negative: before)."""
    return start + timedelta(days=offset)


def course(**changes: object) -> IsotretinoinCourse:
    """An open course that started on START."""
    base: dict[str, object] = {"start": START, "product": "conventional"}
    base.update(changes)
    return IsotretinoinCourse(**base)  # type: ignore[arg-type]


def woman_on_course(**changes: object) -> PatientSnapshot:
    """A woman recorded as able to get pregnant, on an open course since START."""
    base: dict[str, object] = {
        "patient_id": "w-schedule",
        "birth_date": date(2001, 6, 1),
        "sex": Sex.FEMALE,
        "pregnancy_capability": PregnancyCapability.CAN,
        "courses": (course(),),
    }
    base.update(changes)
    return PatientSnapshot(**base)  # type: ignore[arg-type]


def man_on_course(**changes: object) -> PatientSnapshot:
    base: dict[str, object] = {
        "patient_id": "m-schedule",
        "birth_date": date(1998, 5, 4),
        "sex": Sex.MALE,
        "courses": (course(),),
    }
    base.update(changes)
    return PatientSnapshot(**base)  # type: ignore[arg-type]


def pregnancy_test_on(on: date, result: TestResult = TestResult.NEGATIVE) -> PregnancyTest:
    return PregnancyTest(on, result, TestSetting.MEDICAL, source="lab report")


def lab(analyte: str, on: date, value: float = 100.0) -> LabResult:
    unit = "mg/dL" if analyte == "triglycerides" else "U/L"
    return LabResult(analyte, value, unit, on)


def phq9(on: date, total: int = 2) -> MoodScreen:
    return MoodScreen(on, total, item9=0)


def item(schedule: Schedule, kind: str, anchor: str) -> ScheduleItem:
    """The item of ``kind`` whose key ends with ``anchor`` (e.g. 'm2', 'baseline')."""
    found = [i for i in schedule.items if i.kind == kind and i.key.endswith(f"/{anchor}")]
    assert len(found) == 1, f"{kind}/{anchor}: {[i.key for i in schedule.items]}"
    return found[0]


def kinds(schedule: Schedule) -> set[str]:
    return {i.kind for i in schedule.items}
