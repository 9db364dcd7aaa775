"""Builders for lab, course, mood and lesion-count data in tests (real value objects)."""

from __future__ import annotations

from datetime import date, timedelta

from isotrack.clinical.snapshot import IsotretinoinCourse, LabResult, LesionCount, MoodScreen
from tests.clinical.builders import TODAY

UNITS = {"triglycerides": "mg/dL", "cholesterol": "mg/dL", "alt": "U/L", "ast": "U/L"}


def days_before(days: int, day: date = TODAY) -> date:
    return day - timedelta(days=days)


def lab(
    analyte: str, value: float, on: date | None = None, reference_high: float | None = None
) -> LabResult:
    """A result in the canonical unit, dated 10 days before TODAY unless given."""
    return LabResult(
        analyte=analyte,
        value=value,
        unit=UNITS.get(analyte, "mg/dL"),
        on=on or days_before(10),
        reference_high=reference_high,
    )


def baseline_labs(on: date | None = None) -> tuple[LabResult, LabResult]:
    """Normal triglycerides and ALT on one day (10 days before TODAY unless given)."""
    return (lab("triglycerides", 120.0, on), lab("alt", 22.0, on))


def course(start: date, end: date | None = None, **changes: object) -> IsotretinoinCourse:
    base: dict[str, object] = {"start": start, "end": end, "product": "conventional"}
    base.update(changes)
    return IsotretinoinCourse(**base)  # type: ignore[arg-type]


def ongoing(days: int, prescriptions: int = 1, **changes: object) -> IsotretinoinCourse:
    """A course that started ``days`` before TODAY and is still running."""
    return course(days_before(days), None, prescriptions=prescriptions, **changes)


def mood(on: date, total: int, item9: int | None = 0) -> MoodScreen:
    return MoodScreen(on=on, phq9_total=total, item9=item9)


def nodules(on: date, count: int) -> LesionCount:
    return LesionCount(on=on, nodules=count)
