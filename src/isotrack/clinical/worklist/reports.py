"""The patient's own reports that ask the clinic to act (REPORT-NEEDS-REVIEW):

- a symptom report with a "stop" or emergency symptom (critical; a late period
  alone is a warning, as the catalogue says) or a "contact the prescriber" one
  (warning); a report of "manage at home" symptoms only asks nothing;
- a PHQ-9 with item 9 above the cut-off (critical) or a total at or above the
  positive score (warning), the thresholds of MOOD-PHQ9-POSITIVE;
- a positive pregnancy test done at home (critical);
- a contraceptive method stopped (warning).

Each report is one item whose id counts the record's reports of its kind, so it
stays the same however the record grows.
"""

from __future__ import annotations

from collections.abc import Iterator

from isotrack.clinical import monitoring
from isotrack.clinical.findings import Severity
from isotrack.clinical.monitoring import TriageAction
from isotrack.clinical.snapshot import TestResult, TestSetting
from isotrack.clinical.state import PatientRecord, SymptomReport
from isotrack.clinical.worklist.model import WorkItem
from isotrack.errors import IsotrackError
from isotrack.knowledge.base import KnowledgeBase

LATE_PERIOD_SYMPTOM = "missed-period"
"""The symptom id (triage.toml) by which a patient reports a late period."""


def report_items(record: PatientRecord, kb: KnowledgeBase) -> tuple[WorkItem, ...]:
    """Every report in ``record`` that asks the clinic to act, oldest first."""
    items = [
        *_symptom_items(record, kb),
        *_mood_items(record, kb),
        *_home_test_items(record),
        *_contraception_items(record, kb),
    ]
    return tuple(sorted(items, key=lambda i: (i.on, i.id)))


def _symptom_items(record: PatientRecord, kb: KnowledgeBase) -> Iterator[WorkItem]:
    for number, report in enumerate(record.symptom_reports, start=1):
        item = _symptom_item(f"symptoms-{number}", report, kb)
        if item is not None:
            yield item


def _symptom_item(item_id: str, report: SymptomReport, kb: KnowledgeBase) -> WorkItem | None:
    result = monitoring.triage(report.symptoms, kb)
    action = result.action
    if action is None or action is TriageAction.MANAGE:
        return None
    acting = [s for s in result.symptoms if s.action is not TriageAction.MANAGE]
    words = "; ".join(s.text for s in acting)
    late_period_only = all(s.id == LATE_PERIOD_SYMPTOM for s in acting)
    critical = result.stop_now and not late_period_only
    note = f' Note: "{report.note}"' if report.note else ""
    return WorkItem(
        id=item_id,
        kind="late-period" if late_period_only else "symptoms",
        severity=Severity.CRITICAL if critical else Severity.WARNING,
        on=report.on,
        summary=f"{_told(action)}: {words}",
        detail=f"{result.headline} Reported: {words}.{note}",
        reported=words,
        report=True,
        stop=result.stop_now,
    )


def _told(action: TriageAction) -> str:
    if action is TriageAction.STOP_EMERGENCY:
        return "Told to stop and get emergency care"
    if action is TriageAction.STOP:
        return "Told to stop and call today"
    return "Asked to call the clinic"


def _mood_items(record: PatientRecord, kb: KnowledgeBase) -> Iterator[WorkItem]:
    total_cut = kb.number("mood.phq9_positive_score")
    item9_cut = kb.number("mood.phq9_item9_positive_score")
    for number, screen in enumerate(record.mood_screens, start=1):
        self_harm = screen.item9 is not None and screen.item9 >= item9_cut
        positive = screen.phq9_total is not None and screen.phq9_total >= total_cut
        if not (self_harm or positive):
            continue
        total = f"PHQ-9 total {screen.phq9_total}" if screen.phq9_total is not None else "PHQ-9"
        if self_harm:
            summary = f"{total}, self-harm thoughts (item 9 = {screen.item9})"
        else:
            summary = f"{total}, at or above {total_cut:g}"
        yield WorkItem(
            id=f"mood-{number}",
            kind="mood",
            severity=Severity.CRITICAL if self_harm else Severity.WARNING,
            on=screen.on,
            summary=summary,
            detail="Assess mood today; with self-harm thoughts, stop isotretinoin and refer "
            "urgently."
            if self_harm
            else "Assess mood at the next contact, within days.",
            reported="your answers to the mood questions",
            report=True,
            stop=self_harm,
        )


def _home_test_items(record: PatientRecord) -> Iterator[WorkItem]:
    for number, test in enumerate(record.pregnancy_tests, start=1):
        if test.result is TestResult.POSITIVE and test.setting is TestSetting.HOME:
            yield WorkItem(
                id=f"home-test-{number}",
                kind="home-test",
                severity=Severity.CRITICAL,
                on=test.on,
                summary="Positive home pregnancy test",
                detail="Stop isotretinoin; confirm with a test in a medical setting and refer.",
                reported="a positive home pregnancy test",
                report=True,
                stop=True,
            )


def _contraception_items(record: PatientRecord, kb: KnowledgeBase) -> Iterator[WorkItem]:
    for number, use in enumerate(record.contraception, start=1):
        if use.end is None:
            continue
        name = _method_name(use.method, kb)
        yield WorkItem(
            id=f"contraception-{number}",
            kind="contraception",
            severity=Severity.WARNING,
            on=use.end,
            summary=f"Stopped a contraceptive method: {name}",
            detail="Check that the contraception still meets the programme before the next "
            "prescription or dispense.",
            reported=f"you stopped {name}",
            report=True,
        )


def _method_name(method_id: str, kb: KnowledgeBase) -> str:
    try:
        return kb.contraception_method(method_id).name
    except IsotrackError:
        return method_id
