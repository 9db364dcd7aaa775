"""A course with no prescription yet as a FHIR MedicationRequest of intent ``plan``.

An EHR (and the CDS patient-view's ``medications`` prefetch) sees a course only
through MedicationRequests; the course's ``CarePlan`` is not among them. So a
course that has started but has no prescription yet is also written as a plan:
status from the course (active, on-hold when paused, completed when ended), the
course's start as ``authoredOn``, the course as its ``groupIdentifier`` (which
tells the reader it is the course, not an order: :mod:`isotrack.fhir.own_items`)
and, once the course has ended, its period as the validity.
"""

from __future__ import annotations

from collections.abc import Callable

from isotrack.clinical.state import PatientRecord
from isotrack.clinical.state.course import CourseState
from isotrack.fhir.export_values import ISOTRACK_COURSE, ISOTRETINOIN, Resource
from isotrack.knowledge.base import KnowledgeBase

_STATUS = {"active": "active", "paused": "on-hold", "ended": "completed"}


def course_plan(course: CourseState, product: str, subject: Resource, care_plan: str) -> Resource:
    """The plan of ``course`` (``product``: its name; ``care_plan``: its CarePlan's URL)."""
    plan: Resource = {
        "status": _STATUS.get(str(course.status), "active"),
        "intent": "plan",
        "medicationCodeableConcept": {"coding": [ISOTRETINOIN], "text": product},
        "subject": subject,
        "basedOn": [{"reference": care_plan}],
        "authoredOn": course.start.isoformat(),
        "groupIdentifier": {"system": ISOTRACK_COURSE, "value": course.course_id},
    }
    if course.end is not None:
        validity = {"start": course.start.isoformat(), "end": course.end.isoformat()}
        plan["dispenseRequest"] = {"validityPeriod": validity}
    return plan


def course_plans(
    record: PatientRecord, kb: KnowledgeBase, subject: Resource, url: Callable[[str, str], str]
) -> list[tuple[str, Resource]]:
    """(key, plan) of each course of the record with no prescription yet; ``url`` gives
    the fullUrl of a resource by its kind and key (the course's CarePlan)."""
    return [
        (
            f"plan:{c.course_id}",
            course_plan(c, kb.product(c.product).name, subject, url("CarePlan", c.course_id)),
        )
        for c in record.courses
        if not c.prescriptions
    ]
