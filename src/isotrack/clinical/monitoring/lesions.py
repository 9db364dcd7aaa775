"""Lesion counts of a course against their baseline (nodules, inflammatory lesions,
comedones).

The baseline is the latest count on or before the course start, else the first
count of the course (the rule RESPONSE-NODULES-70 takes the same one); the
change is the latest count up to the evaluation day minus the baseline.

>>> from datetime import date
>>> from isotrack.clinical.snapshot import LesionCount
>>> change = LesionChange(LesionCount(date(2026, 3, 1), 10, 40), LesionCount(date(2026, 6, 1), 2))
>>> change.change("nodules"), change.fraction("nodules"), change.change("inflammatory")
(-8, -0.8, None)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from isotrack.clinical.snapshot import LesionCount
from isotrack.clinical.state import CourseState, PatientRecord

LesionKind = Literal["nodules", "inflammatory", "comedones"]
LESION_KINDS: tuple[LesionKind, ...] = ("nodules", "inflammatory", "comedones")


@dataclass(frozen=True, slots=True)
class LesionChange:
    baseline: LesionCount
    latest: LesionCount

    def change(self, kind: LesionKind) -> int | None:
        """Latest minus baseline (negative: fewer lesions); None when either is missing."""
        before: int | None = getattr(self.baseline, kind)
        after: int | None = getattr(self.latest, kind)
        if before is None or after is None:
            return None
        return after - before

    def fraction(self, kind: LesionKind) -> float | None:
        """The change as a fraction of the baseline (-0.7: down 70 %); None when the
        baseline is 0 or either count is missing."""
        change = self.change(kind)
        before: int | None = getattr(self.baseline, kind)
        if change is None or not before:
            return None
        return change / before


def lesion_change(record: PatientRecord, course: CourseState, *, on: date) -> LesionChange | None:
    """The latest count of ``course`` up to ``on`` against its baseline; None without a
    baseline and a later count."""
    counts = sorted((c for c in record.lesion_counts if c.on <= on), key=lambda c: c.on)
    before = [c for c in counts if c.on <= course.start]
    during = [c for c in counts if c.on >= course.start]
    if course.end is not None:
        during = [c for c in during if c.on <= course.end]
    baseline = before[-1] if before else (during[0] if during else None)
    if baseline is None:
        return None
    later = [c for c in during if c.on > baseline.on]
    return LesionChange(baseline, later[-1]) if later else None
