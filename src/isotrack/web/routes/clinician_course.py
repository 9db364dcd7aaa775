"""Pausing, resuming and ending the course from the patient page (``course.manage``:
prescribers; a nurse does not see these forms and is refused the routes).

- ``POST /clinic/patients/{id}/course/pause`` — with a reason;
- ``POST /clinic/patients/{id}/course/resume``;
- ``POST /clinic/patients/{id}/course/end`` — with a reason, after a
  confirmation step (ending cannot be undone).

A refusal (no course, already paused, a reason missing) comes back next to the
form's field, and nothing is stored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from isotrack.clinical.state import AnyCommand, EndCourse, PauseCourse, ResumeCourse
from isotrack.errors import CommandRejected
from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.web.deps import CsrfDep, WebUser, require_page
from isotrack.web.routes.clinic_access import PatientId, back_to_patient, store
from isotrack.web.routes.clinic_page import render_patient

router = APIRouter()

CourseManager = Annotated[WebUser, Depends(require_page(Action.COURSE_MANAGE))]
CourseStep = Literal["pause", "resume", "end"]
DONE = {"pause": "Course paused.", "resume": "Course resumed.", "end": "Course ended."}


@router.post("/patients/{patient_id}/course/{step}", response_model=None)
def change_course(
    request: Request,
    patient_id: PatientId,
    step: CourseStep,
    _: CsrfDep,
    user: CourseManager,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    reason: Annotated[str, Form(max_length=500)] = "",
    version: Annotated[int | None, Form(ge=0, le=2**31 - 1)] = None,
) -> Response:
    errors: dict[str, str] = {}
    command: AnyCommand | None = None
    if step == "resume":
        command = ResumeCourse(on=now.date())
    elif not reason.strip():
        errors["reason"] = f"Say why the course is {'paused' if step == 'pause' else 'ended'}."
    elif step == "pause":
        command = PauseCourse(on=now.date(), reason=reason.strip())
    else:
        command = EndCourse(on=now.date(), reason=reason.strip())
    if command is not None:
        try:
            store(engine, patient_id, [command], user, now=now, kb=kb, version=version)
        except CommandRejected as refused:
            errors["reason"] = refused.message.removeprefix(f"{refused.field}: ")
        else:
            return back_to_patient(request, patient_id, DONE[step])
    form = {"values": {"reason": reason}, "errors": errors}
    return render_patient(
        request, patient_id, user, engine=engine, kb=kb, now=now,
        forms={f"course-{step}": form}, status=422,
    )  # fmt: skip
