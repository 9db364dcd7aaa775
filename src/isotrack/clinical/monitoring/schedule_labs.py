"""The blood tests of a monitoring schedule: fasting triglycerides (lipids) and
ALT, each with a baseline in ``labs.baseline_window_days`` up to the start, a
recheck ``labs.recheck_after_days`` after the start and after the last dose
increase (from ``labs.recheck_early_days`` before; an increase before the
1-month window opened replaces it, as MON-LABS-DUE counts them), and for EU
programmes a repeat every ``labs.repeat_interval_days``. Any result from the
window's first day does it. Part of :func:`~.schedule.monitoring_schedule`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from isotrack.clinical.monitoring.schedule_builder import Done, ScheduleBuilder
from isotrack.clinical.monitoring.schedule_model import ONE_DAY, ItemKind

_LABS: tuple[tuple[str, ItemKind, str, str], ...] = (
    ("triglycerides", "lipids", "Fasting triglycerides (lipids)", "fasting triglycerides"),
    ("alt", "alt", "ALT (liver test)", "ALT (a liver test)"),
)


def _lab_from(
    builder: ScheduleBuilder, analyte: str, first: date, last: date | None
) -> Done | None:
    results = sorted(
        (
            lab
            for lab in builder.snapshot.labs
            if lab.analyte == analyte
            and first <= lab.on <= builder.on
            and (last is None or lab.on <= last)
        ),
        key=lambda lab: lab.on,
    )
    if not results:
        return None
    lab = results[0]
    source = f", {lab.source}" if lab.source else ""
    return Done(lab.on, f"{analyte} {lab.value:g} {lab.unit} on {lab.on.isoformat()}{source}")


@dataclass(frozen=True, slots=True)
class _LabCheck:
    anchor: str
    what: str
    start: date
    end: date
    parameters: tuple[str, ...]
    label: str = ""


def _lab_checks(builder: ScheduleBuilder, *, eu: bool) -> list[_LabCheck]:
    course = builder.course
    after, early = builder.days("labs.recheck_after_days"), builder.days("labs.recheck_early_days")
    first = course.start - builder.days("labs.baseline_window_days")
    checks = [
        _LabCheck("baseline", "baseline", first, course.start, ("labs.baseline_window_days",))
    ]
    references = [(course.start, "after-start", "recheck 1 month after the start")]
    increase = course.last_dose_increase
    if increase is not None and course.active_on(increase) and increase > course.start:
        if increase < course.start + after - early:
            references = []  # the peak-dose recheck replaces the 1-month one (MON-LABS-DUE)
        day = increase.isoformat()
        references.append(
            (increase, f"after-increase-{day}", f"recheck after the increase on {day}")
        )
    for reference, anchor, what in references:
        due = reference + after
        recheck = ("labs.recheck_after_days", "labs.recheck_early_days")
        checks.append(_LabCheck(anchor, what, max(due - early, reference + ONE_DAY), due, recheck))
    interval = builder.days("labs.repeat_interval_days")
    due, number = course.start + after + interval, 1
    while eu and due <= builder.last_planned_day:
        repeat = ("labs.repeat_interval_days", "labs.recheck_early_days")
        what = f"repeat check (EU: every {interval.days} days)"
        checks.append(_LabCheck(f"repeat-{number}", what, due - early, due, repeat, "EU SmPC"))
        due, number = due + interval, number + 1
    return [c for c in checks if course.end is None or c.start <= course.end]


def add_lab_items(builder: ScheduleBuilder, *, eu: bool) -> None:
    """The lipid and ALT items of the course: baseline, rechecks, EU repeats."""
    checks = _lab_checks(builder, eu=eu)
    for analyte, kind, name, blood_test in _LABS:
        for check in checks:
            baseline = check.anchor == "baseline"
            builder.add(
                kind,
                check.anchor,
                f"{name}: {check.what}",
                (check.start, check.end),
                f"Have a blood test for {blood_test} between {check.start.isoformat()} and "
                f"{check.end.isoformat()}.",
                check.parameters,
                _lab_from(builder, analyte, check.start, check.end if baseline else None),
                baseline=baseline,
                label=check.label,
            )
