"""The prescriber's and nurse's pages: the clinic dashboard, the patient page,
and overriding a finding with a reason.

- ``GET /clinic`` — every patient with what needs action today, filtered
  (``need``, ``q``) and sorted (``sort``) by query parameters; an htmx request
  gets only the table, so the filters update it in place.
- ``GET /clinic/patients/{id}`` — the course on one page (timeline, charts,
  findings with their "why", programme status, schedule, recording forms).
- ``POST /clinic/patients/{id}/findings/{rule_id}/override`` — a reason chosen
  from the knowledge base's override reasons, with an optional note; stored as
  ``RecordOverride`` after a confirmation step.

The forms (enrol, record, prescribe) are in :mod:`isotrack.web.routes.clinician_forms`;
the worklist (``/clinic/worklist``) in :mod:`isotrack.web.routes.worklist`;
pausing, resuming and ending the course in :mod:`isotrack.web.routes.clinician_course`;
authorising a dispense and printing the authorisation in
:mod:`isotrack.web.routes.clinic_authorise`.
A nurse sees the same pages without the prescribe, override, course and authorise actions:
the matrix decides, and every route checks it again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from isotrack.clinical.state import RecordOverride
from isotrack.errors import CommandRejected
from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.web.deps import CsrfDep, WebUser, require_page
from isotrack.web.routes.clinic_access import (
    ClinicUser,
    PatientId,
    Permissions,
    back_to_patient,
    load_all,
    store,
)
from isotrack.web.routes.clinic_authorise import router as authorise_router
from isotrack.web.routes.clinic_invitation import router as invitation_router
from isotrack.web.routes.clinic_page import override_reason_text, render_patient
from isotrack.web.routes.clinic_questionnaires import router as questionnaires_router
from isotrack.web.routes.clinician_course import router as course_router
from isotrack.web.routes.clinician_forms import router as forms_router
from isotrack.web.routes.worklist import router as worklist_router
from isotrack.web.templating import render
from isotrack.web.views.clinic_dashboard import (
    NEED_LABELS,
    NEEDS,
    dashboard,
    parse_need,
    parse_sort,
    rows_for,
)
from isotrack.web.views.worklist import open_count

router = APIRouter(prefix="/clinic", include_in_schema=False)
router.include_router(forms_router)
router.include_router(course_router)
router.include_router(worklist_router)
router.include_router(questionnaires_router)
router.include_router(invitation_router)
router.include_router(authorise_router)

RuleId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]


@router.get("", response_class=HTMLResponse)
def clinic_dashboard(
    request: Request,
    user: ClinicUser,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    need: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str, Query(max_length=100)] = "",
    sort: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    on = now.date()
    records = load_all(engine, user, now=now, kb=kb)
    rows = rows_for(records, on=on, kb=kb)
    board = dashboard(rows, need=parse_need(need), query=q, sort=parse_sort(sort))
    context = {
        "work_count": open_count(records, on=on, kb=kb),
        "board": board,
        "on": on,
        "needs": [(n, NEED_LABELS[n]) for n in NEEDS],
        "need_labels": NEED_LABELS,
        "can": Permissions.of(user),
    }
    in_place = request.headers.get("HX-Request") == "true"
    if in_place and request.headers.get("HX-History-Restore-Request") != "true":
        return render(request, "clinic/_patient_table.html", context)
    return render(request, "clinic/dashboard.html", context)


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page_view(
    request: Request,
    patient_id: PatientId,
    user: ClinicUser,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
) -> HTMLResponse:
    return render_patient(request, patient_id, user, engine=engine, kb=kb, now=now)


@router.post("/patients/{patient_id}/findings/{rule_id}/override", response_model=None)
def override_finding(
    request: Request,
    patient_id: PatientId,
    rule_id: RuleId,
    _: CsrfDep,
    user: Annotated[WebUser, Depends(require_page(Action.FINDING_OVERRIDE))],
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    reason: Annotated[str, Form(max_length=100)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    version: Annotated[int | None, Form(ge=0)] = None,
) -> Response:
    text = override_reason_text(kb, reason, note)
    form = {"values": {"reason": reason, "note": note}, "errors": {}}
    if not text:
        form["errors"]["reason"] = "Choose a reason, or write one in the note."
    else:
        command = RecordOverride(on=now.date(), rule_id=rule_id, reason=text)
        try:
            store(engine, patient_id, [command], user, now=now, kb=kb, version=version)
        except CommandRejected as refused:
            form["errors"]["reason"] = refused.message.removeprefix(f"{refused.field}: ")
        else:
            return back_to_patient(request, patient_id, f"{rule_id} overridden: {text}")
    return render_patient(
        request, patient_id, user, engine=engine, kb=kb, now=now,
        forms={f"override-{rule_id}": form}, status=422,
    )  # fmt: skip
