"""What the course itself asks of the clinic: a test window about to close or
missed, and a next dispense the programme blocks.

- a pregnancy test or lab recheck of the monitoring schedule that is overdue, or
  due and closing within ``worklist.window_closing_days`` (clinic policy): a
  warning;
- the programme's unmet requirements for the next prescription or dispense of
  an active course (the caller passes them in plain words): a warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from isotrack.clinical.findings import Severity
from isotrack.clinical.monitoring import ItemStatus, Schedule
from isotrack.clinical.worklist.model import WorkItem
from isotrack.knowledge.base import KnowledgeBase

TEST_KINDS = frozenset(
    {
        "pregnancy-test",
        "end-of-course-pregnancy-test",
        "post-course-pregnancy-test",
        "lipids",
        "alt",
    }
)
"""The schedule items that are tests (a visit or a mood screen is not a test window)."""


def window_items(schedule: Schedule, *, on: date, kb: KnowledgeBase) -> tuple[WorkItem, ...]:
    """The test windows of ``schedule`` that closed without a result or close soon."""
    closing = on + timedelta(days=kb.number("worklist.window_closing_days"))
    found = []
    for entry in schedule.items:
        if entry.kind not in TEST_KINDS or entry.baseline:
            continue
        missed = entry.status is ItemStatus.OVERDUE
        soon = entry.status is ItemStatus.DUE and entry.end <= closing
        if not (missed or soon):
            continue
        when = f"window closed on {entry.end}" if missed else f"window closes on {entry.end}"
        found.append(
            WorkItem(
                id=f"test-window-{entry.key}",
                kind="test-window",
                severity=Severity.WARNING,
                on=entry.end,
                summary=f"{entry.title}: {'missed' if missed else 'due'}, {when}",
                detail=entry.what_to_do,
            )
        )
    return tuple(found)


def dispense_item(
    course_id: str, month: int | None, unmet: Iterable[str], *, on: date
) -> WorkItem | None:
    """One item when the next prescription or dispense of the course is blocked."""
    reasons = list(unmet)
    if not reasons:
        return None
    return WorkItem(
        id=f"dispense-{course_id}-month-{month or 0}",
        kind="dispense",
        severity=Severity.WARNING,
        on=on,
        summary="Next prescription or dispense blocked: " + "; ".join(reasons),
        detail="The programme does not allow the next step until these are met.",
    )
