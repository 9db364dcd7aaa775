"""The charts of the patient page, as Chart.js configurations (plain dicts that
the page puts in a ``data-chart`` attribute as JSON; ``app.js`` draws them).

Every chart has the same data as a table (:attr:`Chart.table`) for screen
readers and for printing. The x axis is a category axis of ISO dates (no
date adapter needed); a series with no value on a date has ``null`` there and
the line spans the gap. Thresholds come from the knowledge base
(:mod:`isotrack.web.views.lab_thresholds`); the cumulative target is the
course's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from isotrack.clinical.dosing import CumulativeDose
from isotrack.clinical.dosing.planner import DAYS_PER_WEEK
from isotrack.clinical.record import PatientRecord
from isotrack.clinical.state import CourseState
from isotrack.knowledge.base import KnowledgeBase
from isotrack.web.views.lab_thresholds import ANALYTE_NAMES, limits

Point = tuple[date, float | None]
COLOURS = {
    "value": "#1d4ed8",
    "target": "#047857",
    "projection": "#6b7280",
    "warning": "#b45309",
    "critical": "#b91c1c",
    "extra": "#7c3aed",
}
"""Line colours with at least 3:1 contrast on white (WCAG non-text contrast)."""


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    points: tuple[Point, ...]
    colour: str
    dashed: bool = False


@dataclass(frozen=True, slots=True)
class Chart:
    id: str
    title: str
    unit: str
    series: tuple[Series, ...]
    note: str = ""
    sources: tuple[str, ...] = field(default=())

    @property
    def dates(self) -> tuple[date, ...]:
        return tuple(sorted({day for s in self.series for day, _ in s.points}))

    @property
    def empty(self) -> bool:
        return not any(value is not None for s in self.series for _, value in s.points)

    @property
    def table(self) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
        """(header, rows): one row per date, one column per series."""
        header = ("Date", *(f"{s.label} ({self.unit})" for s in self.series))
        values = [dict(s.points) for s in self.series]
        rows = tuple((day.isoformat(), *(_cell(v.get(day)) for v in values)) for day in self.dates)
        return header, rows

    def config(self) -> dict[str, Any]:
        """The Chart.js configuration."""
        dates = self.dates
        datasets = []
        for s in self.series:
            by_day = dict(s.points)
            datasets.append(
                {
                    "label": s.label,
                    "data": [by_day.get(day) for day in dates],
                    "borderColor": s.colour,
                    "backgroundColor": s.colour,
                    "borderDash": [6, 4] if s.dashed else [],
                    "spanGaps": True,
                    "pointRadius": 0 if s.dashed else 3,
                    "tension": 0,
                }
            )
        return {
            "type": "line",
            "data": {"labels": [d.isoformat() for d in dates], "datasets": datasets},
            "options": {
                "responsive": True,
                "maintainAspectRatio": False,
                "animation": False,
                "plugins": {"title": {"display": False}, "legend": {"position": "bottom"}},
                "scales": {
                    "x": {"ticks": {"maxTicksLimit": 8}},
                    "y": {"beginAtZero": True, "title": {"display": True, "text": self.unit}},
                },
            },
        }


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}".removesuffix(".0")


def cumulative_chart(
    course: CourseState | None,
    cumulative: CumulativeDose | None,
    projected_end: date | None,
    *,
    on: date,
) -> Chart:
    """Cumulative mg/kg by day against the course's target, with the projected end."""
    if course is None or cumulative is None:
        return Chart("cumulative", "Cumulative dose", "mg/kg", ())
    days = [d for d in cumulative.days if d.cumulative_mg_per_kg is not None]
    taken = tuple(_weekly((d.on, d.cumulative_mg_per_kg) for d in days))
    last = days[-1].on if days else course.start
    end = projected_end or last
    series = [
        Series("Taken", taken, COLOURS["value"]),
        Series(
            f"Target {course.target_mg_per_kg:g} mg/kg",
            ((course.start, course.target_mg_per_kg), (max(end, on), course.target_mg_per_kg)),
            COLOURS["target"],
            dashed=True,
        ),
    ]
    note = ""
    if projected_end is not None and taken and taken[-1][1] is not None:
        series.append(
            Series(
                "Projected",
                _projection(taken[-1], (projected_end, course.target_mg_per_kg)),
                COLOURS["projection"],
                dashed=True,
            )
        )
        note = f"Projected to reach the target on {projected_end} at the dose in force."
    return Chart("cumulative", "Cumulative dose", "mg/kg", tuple(series), note)


def _projection(first: Point, last: tuple[date, float]) -> tuple[Point, ...]:
    """A straight line from ``first`` to ``last`` with a point each week, so that the
    chart's date axis (a category axis) keeps weeks evenly spaced."""
    start, value = first
    end, target = last
    days = (end - start).days
    if days <= 0 or value is None:
        return (first, last)
    steps = [*range(0, days, DAYS_PER_WEEK), days]
    return tuple(
        (start + timedelta(days=step), value + (target - value) * step / days) for step in steps
    )


def _weekly(points: Sequence[Point] | Any) -> list[Point]:
    """Every 7th day and the last: enough for a chart, small enough for the page."""
    found = list(points)
    kept = [p for i, p in enumerate(found) if i % DAYS_PER_WEEK == 0]
    if found and (not kept or kept[-1] != found[-1]):
        kept.append(found[-1])
    return kept


def lab_chart(record: PatientRecord, analyte: str, *, on: date, kb: KnowledgeBase) -> Chart:
    """A lab's results with its thresholds (ALT: the latest result's upper limit)."""
    labs = sorted(
        (lab for lab in record.labs if lab.analyte == analyte and lab.on <= on),
        key=lambda lab: lab.on,
    )
    name = ANALYTE_NAMES.get(analyte, analyte)
    found = limits(analyte, kb, labs[-1] if labs else None)
    unit = found[0].unit if found else (labs[0].unit if labs else "")
    series = [Series(name, tuple((lab.on, lab.value) for lab in labs), COLOURS["value"])]
    if labs:
        first, last = labs[0].on, max(labs[-1].on, on)
        for limit in found:
            colour = COLOURS["critical" if "critical" in limit.label else "warning"]
            series.append(
                Series(
                    f"Threshold: {limit.label}",
                    ((first, limit.value), (last, limit.value)),
                    colour,
                    dashed=True,
                )
            )
    sources = tuple(dict.fromkeys(s for limit in found for s in limit.sources))
    note = "; ".join(
        f"{limit.label}: {limit.value:g} {limit.unit} (clinic policy)" for limit in found
    )
    return Chart(analyte, name, unit, tuple(series), note, sources)


def weight_chart(record: PatientRecord, *, on: date) -> Chart:
    weights = sorted((w for w in record.weights if w.on <= on), key=lambda w: w.on)
    points = tuple((w.on, w.kg) for w in weights)
    return Chart("weight", "Weight", "kg", (Series("Weight", points, COLOURS["value"]),))


def lesion_chart(record: PatientRecord, *, on: date) -> Chart:
    counts = sorted((c for c in record.lesion_counts if c.on <= on), key=lambda c: c.on)
    if not counts:
        return Chart("lesions", "Lesion counts", "lesions", ())
    series = [Series("Nodules", tuple((c.on, float(c.nodules)) for c in counts), COLOURS["value"])]
    for label, name, colour in (
        ("Inflammatory", "inflammatory", COLOURS["warning"]),
        ("Comedones", "comedones", COLOURS["extra"]),
    ):
        values = tuple((c.on, _float(getattr(c, name))) for c in counts)
        if any(v is not None for _, v in values):
            series.append(Series(label, values, colour))
    return Chart("lesions", "Lesion counts", "lesions", tuple(series))


def _float(value: int | None) -> float | None:
    return None if value is None else float(value)
