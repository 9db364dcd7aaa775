"""The patient page of the clinic: the course on one day, built from the record
and its command log alone.

It reuses the course view of ``isotrack course show``
(:func:`isotrack.clinical.record.course_view`: timeline, cumulative dose,
projected end, schedule, the day's findings and the next prescription's
screening) and adds what a page shows besides: the programme status of the
month, the charts, and each finding with the overrides already recorded for
it in this course.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from isotrack.clinical.findings import Finding
from isotrack.clinical.programme import ProgrammeStatus, programme_status
from isotrack.clinical.record import CourseView, Override, PatientRecord, course_view
from isotrack.clinical.state import AnyCommand
from isotrack.knowledge.base import KnowledgeBase
from isotrack.web.views.clinic_charts import (
    Chart,
    cumulative_chart,
    lab_chart,
    lesion_chart,
    weight_chart,
)
from isotrack.web.views.clinic_pk import PkChart, pk_chart


@dataclass(frozen=True, slots=True)
class FindingView:
    finding: Finding
    overrides: tuple[Override, ...]
    """Overrides of this rule recorded in the course shown (or before any course)."""


@dataclass(frozen=True, slots=True)
class PatientPage:
    record: PatientRecord
    version: int
    on: date
    age: int
    view: CourseView
    programme: ProgrammeStatus
    findings: tuple[FindingView, ...]
    charts: tuple[Chart, ...]
    pk: PkChart
    """The modelled drug levels (empty, with its reason, when there is no dose)."""

    @property
    def lesion_chart(self) -> Chart | None:
        return next((c for c in self.charts if c.id == "lesions" and not c.empty), None)


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def patient_page(
    record: PatientRecord,
    version: int,
    history: Sequence[tuple[AnyCommand, date, str]],
    *,
    on: date,
    kb: KnowledgeBase,
) -> PatientPage:
    """The page of ``record`` on ``on``; ``history`` is (command, recorded on, actor)."""
    view = course_view(record, history, on=on, kb=kb)
    course_id = view.course.course_id if view.course is not None else None
    findings = tuple(
        FindingView(
            f,
            tuple(
                o for o in record.overrides if o.rule_id == f.rule_id and o.course_id == course_id
            ),
        )
        for f in view.assessment.findings
    )
    charts = (
        cumulative_chart(view.course, view.cumulative, view.projected_end, on=on),
        lab_chart(record, "triglycerides", on=on, kb=kb),
        lab_chart(record, "alt", on=on, kb=kb),
        weight_chart(record, on=on),
        lesion_chart(record, on=on),
    )
    return PatientPage(
        record=record,
        version=version,
        on=on,
        age=age_on(record.birth_date, on),
        view=view,
        programme=programme_status(record, on=on, kb=kb),
        findings=findings,
        charts=charts,
        pk=pk_chart(record, view.course, on=on, kb=kb),
    )
