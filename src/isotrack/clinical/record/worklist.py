"""One patient's worklist on one day: the patient's reports that ask the clinic to
act, the test windows about to close or missed and a blocked next dispense
(:mod:`isotrack.clinical.worklist`), with the clinicians' recorded steps.
"""

from __future__ import annotations

from datetime import date

from isotrack.clinical.programme import MonthState, programme_status
from isotrack.clinical.record.view import record_schedule
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.clinical.state import PatientRecord
from isotrack.clinical.worklist import (
    WorkItem,
    dispense_item,
    report_items,
    window_items,
    with_reviews,
)
from isotrack.knowledge.base import KnowledgeBase

BLOCKED_STATES = frozenset(
    {MonthState.PRESCRIBED, MonthState.WINDOW_MISSED, MonthState.SUSPENDED_POSITIVE_TEST}
)
"""Programme states in which a next dispense is due but may be blocked."""


def patient_worklist(
    record: PatientRecord,
    snapshot: PatientSnapshot | None = None,
    *,
    on: date,
    kb: KnowledgeBase,
) -> tuple[WorkItem, ...]:
    """Every item of the patient's worklist on ``on`` (resolved ones included), most
    severe first."""
    items = list(report_items(record, kb))
    course = record.current_course
    if course is not None and course.status == "active" and course.start <= on:
        items += window_items(record_schedule(record, snapshot, on=on, kb=kb), on=on, kb=kb)
        status = programme_status(record, on=on, kb=kb)
        if status.state in BLOCKED_STATES:
            reasons = [r.text for r in status.unmet] or [status.state.value.replace("-", " ")]
            blocked = dispense_item(course.course_id, status.month, reasons, on=on)
            if blocked is not None:
                items.append(blocked)
    reviews = tuple(r for r in record.work_reviews if r.on <= on)
    found = with_reviews(tuple(i for i in items if i.on <= on or not i.report), reviews)
    return tuple(sorted(found, key=lambda i: i.sort_key))
