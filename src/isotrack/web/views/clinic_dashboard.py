"""The clinic dashboard: each patient with what needs action today.

:func:`patient_row` reads one record on one day and lists its action items,
most urgent first; :func:`dashboard` sorts and filters the rows the way the
query parameters of ``/clinic`` ask. Pure: the records, the day and the
knowledge base are arguments. A record that cannot be read back (or shown)
becomes an error row, listed first.

The kinds of action, most urgent first (:data:`NEEDS`):

- ``critical`` — a critical "during the course" finding (an unresolved positive
  test, a positive PHQ-9 item 9 ...);
- ``mood`` — a positive mood screen (MOOD-PHQ9-POSITIVE; when critical, the
  row needs ``critical`` action too);
- ``results`` — a finding on a result (the order rules that also run during the
  course, e.g. LIPIDS-HIGH and LFT-HIGH: the very findings of the patient page);
- ``labs`` — a lipid or ALT check overdue in the monitoring schedule;
- ``overdue`` — any other schedule item whose window has closed undone;
- ``window`` — a schedule item due now: its window is open and closes on a date;
- ``programme`` — the programme month needs something (a missed window, a month
  qualifying for its prescription).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from isotrack.clinical.findings import Assessment, Severity
from isotrack.clinical.monitoring import ItemStatus, Schedule, ScheduleItem, monitoring_schedule
from isotrack.clinical.programme import MonthState, ProgrammeStatus, programme_status
from isotrack.clinical.record import PatientRecord, cumulative_dose, to_snapshot
from isotrack.clinical.screening import assess_course
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import UnreadableRecord

Need = Literal["critical", "mood", "results", "labs", "overdue", "window", "programme"]
NEEDS: tuple[Need, ...] = (
    "critical", "mood", "results", "labs", "overdue", "window", "programme",
)  # fmt: skip
"""The kinds of action, most urgent first."""
NEED_LABELS: dict[Need, str] = {
    "critical": "Critical finding",
    "mood": "Positive mood screen",
    "results": "Lab result above threshold",
    "labs": "Labs overdue",
    "overdue": "Test or visit overdue",
    "window": "Window open now",
    "programme": "Programme step needed",
}
SortKey = Literal["urgency", "name", "due"]
SORT_KEYS: tuple[SortKey, ...] = ("urgency", "name", "due")
LAB_KINDS = frozenset({"lipids", "alt"})
MOOD_RULE = "MOOD-PHQ9-POSITIVE"
PROGRAMME_ACTION_STATES = frozenset({MonthState.WINDOW_MISSED, MonthState.QUALIFYING})
UNREADABLE_TEXT = (
    "This record cannot be read: it is not shown, and nothing can be recorded for this "
    "patient until an administrator repairs it (`isotrack doctor` lists it)."
)
log = logging.getLogger("isotrack.web.dashboard")


@dataclass(frozen=True, slots=True)
class ActionItem:
    need: Need
    text: str
    due: date | None = None
    """The last day to act (a window's end), when there is one."""
    also: Need | None = None
    """A second kind the item counts as (a critical mood screen is both)."""
    rule_id: str = ""
    """The finding it shows, when it is one of the day's findings."""


@dataclass(frozen=True, slots=True)
class PatientRow:
    patient_id: str
    name: str
    course: str
    """'Absorica, month 3 (active)', 'paused', 'ended 2026-02-05', 'no course'."""
    progress_percent: float | None
    """Cumulative mg/kg as a share of the course's target."""
    programme_state: str
    actions: tuple[ActionItem, ...]
    error: str = ""
    """Why the record cannot be shown (an error row, first of all); empty when it can."""

    @property
    def needs(self) -> frozenset[Need]:
        return frozenset(n for a in self.actions for n in (a.need, a.also) if n is not None)

    @property
    def urgency(self) -> int:
        """The rank of the most urgent action (len(NEEDS) when nothing is needed; -1 for
        an error row: a record nobody can see is the most urgent of all)."""
        if self.error:
            return -1
        return min((NEEDS.index(n) for n in self.needs), default=len(NEEDS))

    @property
    def next_due(self) -> date | None:
        return min((a.due for a in self.actions if a.due is not None), default=None)


@dataclass(frozen=True, slots=True)
class Dashboard:
    rows: tuple[PatientRow, ...]
    total: int
    """Patients before filtering."""
    counts: dict[Need, int]
    """Patients needing each kind of action (before filtering)."""
    need: Need | None
    query: str
    sort: SortKey


def patient_row(record: PatientRecord, *, on: date, kb: KnowledgeBase) -> PatientRow:
    """One patient's row of the dashboard on ``on``."""
    snapshot = to_snapshot(record, on=on, kb=kb)
    assessment = assess_course(snapshot, on=on, kb=kb)
    schedule = course_schedule(record, snapshot, on=on, kb=kb)
    status = programme_status(record, on=on, kb=kb)
    actions = [
        *finding_actions(assessment, kb),
        *schedule_actions(schedule, on),
        *programme_actions(status),
    ]
    actions.sort(key=lambda a: (NEEDS.index(a.need), a.due or date.max, a.text))
    return PatientRow(
        patient_id=record.patient_id,
        name=record.name,
        course=course_words(record, on=on, kb=kb),
        progress_percent=progress_percent(record, on=on, kb=kb),
        programme_state=str(status.state).replace("-", " "),
        actions=tuple(actions),
    )


def course_schedule(
    record: PatientRecord, snapshot: PatientSnapshot, *, on: date, kb: KnowledgeBase
) -> Schedule:
    """The monitoring schedule of the course running on ``on`` (else the latest
    started), with its real prescription days; ``snapshot`` is the record on ``on``."""
    started = [c for c in record.courses if c.start <= on]
    running = [c for c in started if c.end is None or c.end >= on]
    chosen = running or started
    course = chosen[-1] if chosen else None
    days = [p.on for p in course.prescriptions if p.on <= on] if course is not None else []
    return monitoring_schedule(
        snapshot,
        on=on,
        kb=kb,
        prescription_days=days or None,
        programme=record.programme,
    )


def finding_actions(assessment: Assessment, kb: KnowledgeBase) -> list[ActionItem]:
    """The day's findings that need action: a positive mood screen, a finding on a
    result, any other critical finding."""
    actions = []
    for finding in assessment.findings:
        critical = finding.severity is Severity.CRITICAL
        also: Need | None = "critical" if critical else None
        rule = finding.rule_id
        if rule == MOOD_RULE:
            actions.append(ActionItem("mood", finding.summary, also=also, rule_id=rule))
        elif kb.rule(rule).during_course:
            actions.append(ActionItem("results", finding.summary, also=also, rule_id=rule))
        elif critical:
            actions.append(ActionItem("critical", finding.summary, rule_id=rule))
    return actions


def schedule_actions(schedule: Schedule, on: date) -> list[ActionItem]:
    actions = []
    for item in schedule.with_status(ItemStatus.OVERDUE, ItemStatus.DUE):
        if item.status is ItemStatus.OVERDUE:
            need: Need = "labs" if item.kind in LAB_KINDS else "overdue"
            actions.append(ActionItem(need, f"{item.title}: overdue since {item.end}", item.end))
        else:
            actions.append(ActionItem("window", window_text(item, on), item.end))
    return actions


def window_text(item: ScheduleItem, on: date) -> str:
    days = (item.end - on).days
    when = "today" if days == 0 else ("tomorrow" if days == 1 else f"in {days} days")
    return f"{item.title}: window closes {when} ({item.end})"


def programme_actions(status: ProgrammeStatus) -> list[ActionItem]:
    if status.state not in PROGRAMME_ACTION_STATES or not status.unmet:
        return []
    unmet = "; ".join(r.text for r in status.unmet)
    return [ActionItem("programme", f"{status.programme_name}: needs {unmet}")]


def course_words(record: PatientRecord, *, on: date, kb: KnowledgeBase) -> str:
    course = record.current_course or record.last_course
    if course is None or course.start > on:
        return "no course yet" if course is None else f"course starts {course.start}"
    product = kb.product(course.product).name.split(" (")[0]
    if course.ended:
        return f"{product}: ended {course.end}"
    return f"{product}: {course.status} since {course.status_since}"


def progress_percent(record: PatientRecord, *, on: date, kb: KnowledgeBase) -> float | None:
    course = record.current_course or record.last_course
    if course is None or course.start > on:
        return None
    dose = cumulative_dose(record, course, on=on, kb=kb)
    if dose.mg_per_kg is None or not course.target_mg_per_kg:
        return None
    return 100 * dose.mg_per_kg / course.target_mg_per_kg


def dashboard(
    rows: Iterable[PatientRow],
    *,
    need: Need | None = None,
    query: str = "",
    sort: SortKey = "urgency",
) -> Dashboard:
    """The rows filtered (by a kind of action and by a name or id fragment) and sorted:
    ``urgency`` (most urgent action first, then the earliest deadline), ``name``, or
    ``due`` (the earliest deadline first; rows without one last)."""
    every = tuple(rows)
    counts = {n: sum(1 for r in every if n in r.needs) for n in NEEDS}
    text = query.strip().casefold()
    kept = [
        r
        for r in every
        if (need is None or need in r.needs)
        and (not text or text in r.name.casefold() or text in r.patient_id.casefold())
    ]
    return Dashboard(
        rows=tuple(sorted(kept, key=_sort_key(sort))),
        total=len(every),
        counts=counts,
        need=need,
        query=query.strip(),
        sort=sort,
    )


def _sort_key(sort: SortKey) -> Callable[[PatientRow], tuple[object, ...]]:
    if sort == "name":
        return lambda r: (r.name.casefold(), r.patient_id)
    if sort == "due":
        return lambda r: (r.next_due is None, r.next_due or date.max, r.name.casefold())
    return lambda r: (r.urgency, r.next_due or date.max, r.name.casefold())


def parse_need(value: str | None) -> Need | None:
    """A ``need`` query parameter: one of NEEDS, or None for 'all' or anything else."""
    for need in NEEDS:
        if value == need:
            return need
    return None


def parse_sort(value: str | None) -> SortKey:
    for key in SORT_KEYS:
        if value == key:
            return key
    return "urgency"


def rows_for(
    records: Sequence[PatientRecord | UnreadableRecord], *, on: date, kb: KnowledgeBase
) -> tuple[PatientRow, ...]:
    """A row for each record; an error row for one that cannot be read or shown."""
    return tuple(_row_or_error(record, on=on, kb=kb) for record in records)


def error_row(patient_id: str, name: str) -> PatientRow:
    """The row of a patient whose record cannot be read back or shown."""
    return PatientRow(
        patient_id=patient_id,
        name=name or patient_id,
        course="",
        progress_percent=None,
        programme_state="",
        actions=(),
        error=UNREADABLE_TEXT,
    )


def _row_or_error(
    record: PatientRecord | UnreadableRecord, *, on: date, kb: KnowledgeBase
) -> PatientRow:
    if isinstance(record, UnreadableRecord):
        return error_row(record.patient_id, record.name)
    try:
        return patient_row(record, on=on, kb=kb)
    except Exception:  # one patient's fault must not hide every other patient: logged, shown
        log.exception("dashboard row of patient %s failed", record.patient_id)
        return error_row(record.patient_id, record.name)
