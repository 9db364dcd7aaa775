"""The JSON of ``isotrack course show --json`` and ``isotrack schedule --json``:
a course view and a monitoring schedule as plain dicts (dates as ISO text)."""

from __future__ import annotations

from typing import Any

from isotrack import SAFETY_LINE
from isotrack.cli.plan_cmd import number
from isotrack.cli.screen_cmd import finding_json, order_json
from isotrack.clinical.monitoring import Schedule, ScheduleItem
from isotrack.clinical.record import CourseView
from isotrack.knowledge.base import KnowledgeBase


def item_json(item: ScheduleItem) -> dict[str, Any]:
    return {
        "key": item.key,
        "kind": item.kind,
        "title": item.title,
        "start": item.start.isoformat(),
        "end": item.end.isoformat(),
        "status": item.status.value,
        "what_to_do": item.what_to_do,
        "done_on": item.done_on.isoformat() if item.done_on else None,
        "done_by": item.done_by,
        "baseline": item.baseline,
        "label": item.label,
        "parameters": list(item.parameters),
        "sources": list(item.sources),
    }


def schedule_json(schedule: Schedule) -> dict[str, Any]:
    return {
        "patient_id": schedule.patient_id,
        "evaluated_on": schedule.on.isoformat(),
        "programme": schedule.programme,
        "pregnancy_capability": schedule.pregnancy_capability,
        "reason": schedule.reason,
        "items": [item_json(i) for i in schedule.items],
        "notes": list(schedule.notes),
    }


def view_json(view: CourseView, kb: KnowledgeBase) -> dict[str, Any]:
    record, course, cumulative = view.record, view.course, view.cumulative
    course_part: dict[str, Any] | None = None
    if course is not None and cumulative is not None:
        course_part = {
            "course_id": course.course_id,
            "product": course.product,
            "status": course.status,
            "start": course.start.isoformat(),
            "end": course.end.isoformat() if course.end else None,
            "target_mg_per_kg": number(course.target_mg_per_kg),
            "target_mg": number(view.target_mg) if view.target_mg is not None else None,
            "cumulative_mg": number(cumulative.mg),
            "cumulative_mg_per_kg": (
                number(cumulative.mg_per_kg) if cumulative.mg_per_kg is not None else None
            ),
            "missed_mg": number(cumulative.missed_mg),
            "on_hand_mg": number(cumulative.on_hand_mg),
            "projected_end": view.projected_end.isoformat() if view.projected_end else None,
            "projection_note": view.projection_note,
        }
    upcoming = view.next_prescription
    return {
        "patient": {
            "id": record.patient_id,
            "name": record.name,
            "birth_date": record.birth_date.isoformat(),
            "sex": record.sex.value,
            "programme": record.programme,
        },
        "evaluated_on": view.on.isoformat(),
        "timeline": [
            {
                "date": e.on.isoformat(),
                "what": e.what,
                "recorded_on": e.recorded_on.isoformat(),
                "actor": e.actor,
            }
            for e in view.timeline
        ],
        "course": course_part,
        "schedule": schedule_json(view.schedule),
        "findings": [finding_json(f, kb) for f in view.assessment.findings],
        "next_prescription": None
        if upcoming is None
        else {
            "due": upcoming.due.isoformat(),
            "basis": upcoming.basis,
            "order": order_json(upcoming.order),
            "findings": [finding_json(f, kb) for f in upcoming.assessment.findings],
        },
        "context": dict(view.assessment.context),
        "assumptions": list(view.assessment.assumptions),
        "safety": SAFETY_LINE,
    }
