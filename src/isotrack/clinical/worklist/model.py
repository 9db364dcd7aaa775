"""The value objects of the worklist: one item a clinician has to deal with, and
where it stands (open, acknowledged, resolved)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Literal

from isotrack.clinical.findings import Severity
from isotrack.clinical.state import WorkReview

WorkKind = Literal[
    "symptoms", "mood", "home-test", "late-period", "contraception", "test-window", "dispense"
]


class WorkStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One thing that needs a clinician, with its severity and where it stands."""

    id: str
    """Stable within the patient: 'symptoms-3' is the third symptom report."""
    kind: WorkKind
    severity: Severity
    on: date
    """The day of the report, or the day the window closes."""
    summary: str
    """One line in plain words."""
    detail: str = ""
    reported: str = ""
    """What the patient reported, in the words they chose it by (patient reports only)."""
    report: bool = False
    """A patient report (REPORT-NEEDS-REVIEW until acknowledged)."""
    stop: bool = False
    """The patient was told to stop isotretinoin: no daily dose is shown until resolved."""
    status: WorkStatus = WorkStatus.OPEN
    assignee: str = ""
    acknowledged_on: date | None = None
    resolved_on: date | None = None
    note: str = ""
    """The resolution note (or the acknowledgement's, until resolved)."""

    @property
    def is_open(self) -> bool:
        """Not resolved: still on the worklist."""
        return self.status is not WorkStatus.RESOLVED

    @property
    def awaits_acknowledgement(self) -> bool:
        return self.status is WorkStatus.OPEN

    @property
    def sort_key(self) -> tuple[int, date, str]:
        return (int(self.severity), self.on, self.id)


def with_reviews(
    items: tuple[WorkItem, ...], reviews: tuple[WorkReview, ...]
) -> tuple[WorkItem, ...]:
    """``items`` with the clinicians' steps recorded for each applied, in order."""
    by_item: dict[str, list[WorkReview]] = {}
    for review in reviews:
        by_item.setdefault(review.item, []).append(review)
    return tuple(_reviewed(item, by_item.get(item.id, [])) for item in items)


def _reviewed(item: WorkItem, reviews: list[WorkReview]) -> WorkItem:
    for review in reviews:
        if review.step == "assigned":
            item = replace(item, assignee=review.assignee)
        elif review.step == "acknowledged" and item.status is WorkStatus.OPEN:
            item = replace(
                item, status=WorkStatus.ACKNOWLEDGED, acknowledged_on=review.on, note=review.note
            )
        elif review.step == "resolved":
            item = replace(
                item,
                status=WorkStatus.RESOLVED,
                acknowledged_on=item.acknowledged_on or review.on,
                resolved_on=review.on,
                note=review.note,
            )
    return item
