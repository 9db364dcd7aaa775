"""REPORT-NEEDS-REVIEW: a patient report that asks the clinic to act and that no
clinician has acknowledged yet (rules.md "During the course").

Which reports ask the clinic to act, and whether one is acknowledged, is the
worklist's decision (:mod:`isotrack.clinical.worklist`); the record shows the
open ones in the snapshot (``reports_to_review``) and this rule turns each into a
finding: critical for a "stop" or emergency symptom, PHQ-9 item 9 > 0 or a
positive home pregnancy test, a warning otherwise. A snapshot decoded from FHIR
data has no such reports, so the rule is silent there.
"""

from __future__ import annotations

from collections.abc import Iterator

from isotrack.clinical.findings import Finding, Severity, make_finding
from isotrack.clinical.screening.context import ScreeningContext, course_rule


@course_rule("REPORT-NEEDS-REVIEW")
def report_needs_review(ctx: ScreeningContext) -> Iterator[Finding]:
    reports = [r for r in ctx.snapshot.reports_to_review if r.on <= ctx.on]
    for report in sorted(reports, key=lambda r: (not r.critical, r.on, r.item_id)):
        yield make_finding(
            ctx.kb,
            "REPORT-NEEDS-REVIEW",
            f"Patient report of {report.on.isoformat()} not yet reviewed: {report.summary}",
            f"The patient reported on {report.on.isoformat()}: {report.summary}. No clinician "
            "has acknowledged the report on the worklist yet.",
            severity=Severity.CRITICAL if report.critical else Severity.WARNING,
            data=[("reported", report.on.isoformat())],
        )
