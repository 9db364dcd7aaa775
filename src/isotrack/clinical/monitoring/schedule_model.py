"""The value objects of the monitoring schedule (see :mod:`.schedule`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from isotrack.clinical.snapshot import IsotretinoinCourse
from isotrack.errors import InvalidInputError

ONE_DAY = timedelta(days=1)
"""Calendar arithmetic (the day after, inclusive ends), not a clinical number."""

ItemKind = Literal[
    "visit",
    "pregnancy-test",
    "end-of-course-pregnancy-test",
    "post-course-pregnancy-test",
    "contraception-end",
    "lipids",
    "alt",
    "mood-screen",
]
PREGNANCY_TEST_KINDS: frozenset[ItemKind] = frozenset(
    {"pregnancy-test", "end-of-course-pregnancy-test", "post-course-pregnancy-test"}
)


class ItemStatus(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    LATE = "late"
    """Done by a record dated after the window closed: never counted as done in time."""


@dataclass(frozen=True, slots=True)
class ScheduleItem:
    """One thing to do, in a window from ``start`` to ``end`` (both included)."""

    key: str
    """Stable within the patient: '<course start>/<kind>/<month or anchor>'."""
    kind: ItemKind
    title: str
    start: date
    end: date
    status: ItemStatus
    what_to_do: str
    done_on: date | None = None
    """Date of the record that did it (None when done but its date is unknown)."""
    done_by: str = ""
    """The record that did it, in words."""
    baseline: bool = False
    """A check before the first prescription: the only items dated before the start."""
    label: str = ""
    """Which text asks for it when not every programme does (e.g. 'EU SmPC')."""
    parameters: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInputError(
                "schedule item", f"{self.key}: window ends ({self.end}) before it starts"
            )

    @property
    def due(self) -> date:
        """The last day of the window."""
        return self.end

    @property
    def days(self) -> int:
        """Length of the window in days, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def is_pregnancy_test(self) -> bool:
        return self.kind in PREGNANCY_TEST_KINDS


@dataclass(frozen=True, slots=True)
class Schedule:
    """The schedule of one course, sorted by date. Empty with a ``reason`` when
    there is nothing to schedule."""

    patient_id: str
    on: date
    items: tuple[ScheduleItem, ...] = ()
    reason: str = ""
    course: IsotretinoinCourse | None = None
    pregnancy_capability: str = ""
    programme: str = ""
    notes: tuple[str, ...] = ()
    """Assumptions and limits, one sentence each."""

    @property
    def is_empty(self) -> bool:
        return not self.items

    def with_status(self, *statuses: ItemStatus) -> tuple[ScheduleItem, ...]:
        return tuple(item for item in self.items if item.status in statuses)
