"""The course summary as plain text, for the EHR's chart (the DocumentReference of
:mod:`isotrack.ehr.writeback`): the patient, the course and its cumulative dose, the
latest weight, the findings of the day, what is due next, and the safety line."""

from __future__ import annotations

from isotrack.clinical.record import CourseView

DUE_SHOWN = 8
"""Schedule items listed (the open ones, soonest first)."""


def course_summary_text(view: CourseView, *, safety_line: str) -> str:
    """Plain lines a clinician reads in the EHR's notes."""
    record = view.record
    lines = [
        f"isotretinoin course summary on {view.on} (isotrack)",
        f"Patient: {record.name}, born {record.birth_date}",
        "",
        *_course_lines(view),
        "",
        "Findings today:",
        *(f"- {f.severity.label}: {f.summary} ({f.rule_id})" for f in view.assessment.findings),
    ]
    if not view.assessment.findings:
        lines.append("- none")
    due = [item for item in view.schedule.items if item.done_on is None][:DUE_SHOWN]
    lines += ["", "Due next:", *(f"- {item.title}: by {item.end}" for item in due)]
    if not due:
        lines.append(f"- {view.schedule.reason or 'nothing scheduled'}")
    lines += ["", safety_line]
    return "\n".join(lines) + "\n"


def _course_lines(view: CourseView) -> list[str]:
    weight = f"{view.weight_kg:g} kg" if view.weight_kg is not None else "not recorded"
    course, cumulative = view.course, view.cumulative
    if course is None:
        return ["Course: none recorded yet", f"Latest weight: {weight}"]
    ended = f", ended {course.end}" if course.end else ""
    lines = [
        f"Course {course.course_id}: {course.product}, {course.status}, started "
        f"{course.start}{ended}",
        f"Latest weight: {weight}",
    ]
    if cumulative is not None:
        per_kg = (
            f" ({cumulative.mg_per_kg:.1f} of {course.target_mg_per_kg:g} mg/kg)"
            if cumulative.mg_per_kg is not None
            else ""
        )
        lines.append(f"Cumulative dose: {cumulative.mg:g} mg{per_kg}")
    if view.projected_end is not None:
        lines.append(f"Projected end: {view.projected_end}")
    return lines
