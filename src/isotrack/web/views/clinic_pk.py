"""The modelled drug levels chart of the patient page (issue 8, docs/pk.md).

The typical patient of :mod:`isotrack.clinical.pk` takes the course's own doses
(:func:`~isotrack.clinical.pk.course_doses`: the days the cumulative-dose ledger
counts as taken, every dose with food), simulated hourly; the chart and its table
show each day's peak and trough of isotretinoin and 4-oxo-isotretinoin
(:func:`~isotrack.clinical.pk.daily_levels`: a day's trough counts from the
curve's first peak on, so the days before it have none). The
curve runs from the first day of the course until the days of contraception
after the last dose have passed (``ppp.contraception_after_days``, 30), so the
washout shows; a course still running stops at the page's day if that comes
first (its future doses are not known).

It is the page's :class:`~isotrack.web.views.clinic_charts.Chart` (same table,
same date axis), drawn without point markers (one point a day), and with the
reason it is empty when the record has no dose to model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from isotrack.clinical.pk import DayLevels, course_doses, daily_levels, simulate
from isotrack.clinical.record import PatientRecord
from isotrack.clinical.state import CourseState
from isotrack.knowledge.base import KnowledgeBase
from isotrack.web.views.clinic_charts import COLOURS, Chart, Series

CHART_ID = "pk"
TITLE = "Modelled drug levels"
UNIT = "ng/mL"
STEP_H = 1.0
"""Simulated every hour: the daily peak within a few % of a 15-minute step, a few
tens of ms for a 20-week course."""
HOURS_PER_DAY = 24
WASHOUT_DAYS = "ppp.contraception_after_days"
"""Days shown after the last dose: those of contraception after the course (knowledge)."""
NOTE = (
    "A model of a typical patient taking every dose with food, not a measurement: "
    "food raises the levels and patients differ. Solid lines: each day's peak; "
    "dashed: its trough. How the model works: docs/pk.md."
)
NOTE_PARAMETERS = ("pk.label.auc_fed", "pk.label.auc_fasted", "pk.label.half_life")
"""The knowledge entries behind the note (food effect, half-life): its sources."""
NO_COURSE = "No course yet: the model starts from the doses of a course."
NO_DOSE = (
    "No dose to model yet: the levels are modelled from the days counted as taken, "
    "which start with the first dispense of the course."
)


@dataclass(frozen=True, slots=True)
class PkChart(Chart):
    """The chart, or (no series) the reason there is none in ``empty_reason``."""

    empty_reason: str = ""

    def config(self) -> dict[str, Any]:
        config = Chart.config(self)
        for dataset in config["data"]["datasets"]:
            dataset["pointRadius"] = 0
        return config


def pk_chart(
    record: PatientRecord, course: CourseState | None, *, on: date, kb: KnowledgeBase
) -> PkChart:
    """Daily peak and trough of the typical patient on ``course``'s doses up to ``on``."""
    if course is None:
        return PkChart(CHART_ID, TITLE, UNIT, (), empty_reason=NO_COURSE)
    doses = course_doses(record, course, on=on, kb=kb)
    if not doses:
        return PkChart(CHART_ID, TITLE, UNIT, (), empty_reason=NO_DOSE)
    last_h = max(d.time_h for d in doses)
    last_day = int(last_h // HOURS_PER_DAY)
    end_day = last_day + int(kb.number(WASHOUT_DAYS))
    if not course.ended:
        end_day = max(last_day, min(end_day, (on - course.start).days))
    days = end_day + 1
    result = simulate(
        kb, doses, step_h=STEP_H, follow_h=max(0.0, days * HOURS_PER_DAY - STEP_H - last_h)
    )
    series: list[Series] = []
    for name, values, colour in (
        ("Isotretinoin", result.parent[0], COLOURS["value"]),
        ("4-oxo-isotretinoin", result.oxo[0], COLOURS["extra"]),
    ):
        levels = daily_levels(result.times_h, values)[:days]
        peaks = tuple((_date(course, d), round(d.peak, 1)) for d in levels)
        troughs = tuple((_date(course, d), _rounded(d.trough)) for d in levels)
        series.append(Series(f"{name}, daily peak", peaks, colour))
        series.append(Series(f"{name}, daily trough", troughs, colour, True))
    sources = tuple(
        dict.fromkeys(s for entry in NOTE_PARAMETERS for s in kb.pk_parameter(entry).sources)
    )
    return PkChart(CHART_ID, TITLE, UNIT, tuple(series), NOTE, sources)


def _date(course: CourseState, levels: DayLevels) -> date:
    return course.start + timedelta(days=levels.day - 1)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
