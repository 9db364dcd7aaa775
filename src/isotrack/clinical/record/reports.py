"""The patient's reports that ask the clinic to act, as they stand on one day
(:func:`isotrack.clinical.worklist.report_items` with the clinicians' recorded
steps): what the snapshot carries for REPORT-NEEDS-REVIEW, and the stop
instruction the patient's home page leads with until a clinician resolves it.
"""

from __future__ import annotations

from datetime import date

from isotrack.clinical.findings import Severity
from isotrack.clinical.snapshot import ReportToReview
from isotrack.clinical.state import PatientRecord
from isotrack.clinical.worklist import WorkItem, report_items, with_reviews
from isotrack.knowledge.base import KnowledgeBase


def reviewed_reports(record: PatientRecord, *, on: date, kb: KnowledgeBase) -> tuple[WorkItem, ...]:
    """The patient's reports up to ``on`` with the steps recorded up to ``on``."""
    reports = tuple(i for i in report_items(record, kb) if i.on <= on)
    return with_reviews(reports, tuple(r for r in record.work_reviews if r.on <= on))


def reports_to_review(
    record: PatientRecord, *, on: date, kb: KnowledgeBase
) -> tuple[ReportToReview, ...]:
    """The reports no clinician has acknowledged by ``on`` (REPORT-NEEDS-REVIEW)."""
    return tuple(
        ReportToReview(item.id, item.on, item.summary, critical=item.severity is Severity.CRITICAL)
        for item in reviewed_reports(record, on=on, kb=kb)
        if item.awaits_acknowledgement
    )


def stop_instruction(record: PatientRecord, *, on: date, kb: KnowledgeBase) -> WorkItem | None:
    """The latest report after which the patient was told to stop and that no clinician
    has resolved: while there is one, the patient is shown no daily dose."""
    unresolved = [i for i in reviewed_reports(record, on=on, kb=kb) if i.stop and i.is_open]
    return max(unresolved, key=lambda i: (i.on, i.id), default=None)
