"""The record read from the EHR, for a session launched from it (SMART).

- ``GET /smart/enrol?ehr=<FHIR base>&patient=<EHR Patient id>`` — the EHR's patient
  (name, birth date, sex, the identifier the link is made by) and what enrolling
  would read in, each item with the EHR resource it comes from; nothing is stored.
  A patient already linked goes to ``/smart/record``.
- ``POST /smart/enrol?…`` — with "this is the right patient" ticked (nothing is
  pre-ticked): the isotrack patient, the link and the first read, in one
  transaction; then the patient's course page.
- ``GET /smart/record?…`` — the linked record: read the EHR again, and send the course
  summary to the EHR (only when the granted scopes allow it; else the page says why).
- ``POST /smart/record/sync?…`` and ``POST /smart/record/summary?…`` — those two acts;
  ``POST /smart/record/unlink?…`` — the link removed (audited), the record kept.

Clinicians only (``patient.create`` for enrolling, ``clinical.record`` for the rest),
CSRF on every POST, and only for the EHR and patient this session was granted
(:mod:`isotrack.web.ehr_access`): anything else is the 403 page.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from isotrack.ehr import (
    EhrReadError,
    EhrSyncResult,
    enrol_from_ehr,
    find_linked_patient,
    may_create_documents,
    preview_from_ehr,
    sync_from_ehr,
    unlink_patient,
    write_course_summary,
)
from isotrack.errors import ConflictError, InvalidInputError, IsotrackError
from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.http.problems import request_id_of
from isotrack.web.deps import CsrfDep, PageForbidden, WebUser, require_page
from isotrack.web.ehr_access import EhrAccess, EhrAccessDep
from isotrack.web.templating import flash, render

router = APIRouter(prefix="/smart", include_in_schema=False)

Creator = Annotated[WebUser, Depends(require_page(Action.PATIENT_CREATE))]
Recorder = Annotated[WebUser, Depends(require_page(Action.CLINICAL_RECORD))]
FhirBase = Annotated[str, Query(alias="ehr", min_length=8, max_length=500)]
EhrPatient = Annotated[str, Query(alias="patient", pattern=r"^[A-Za-z0-9\-.]{1,64}$")]
CONFIRM_ERROR = "Tick the box to confirm this is the right patient"


def _granted(access: EhrAccess | None, ehr: str, patient: str) -> EhrAccess:
    if access is None or not access.covers(ehr, patient):
        raise PageForbidden(
            "This session was not granted access to that EHR patient. Open isotrack from "
            "the patient's chart in the EHR."
        )
    return access


def _query(ehr: str, patient: str) -> str:
    return urlencode({"ehr": ehr, "patient": patient})


def _ehr_error(request: Request, error: IsotrackError) -> HTMLResponse:
    """The page of an EHR that did not give the record (502), or of a record isotrack
    cannot enrol (its Patient has no birth date, say: 422). Nothing was stored."""
    unreadable = isinstance(error, EhrReadError)
    status = 502 if unreadable else 422
    title = "The EHR did not give the record" if unreadable else "This record cannot be read in"
    context = {
        "status": status,
        "title": title,
        "message": error.message,
        "hint": "Nothing was stored. Try again; if it keeps failing, tell the EHR's team.",
        "request_id": request_id_of(request) or "",
    }
    return render(request, "error.html", context, status=status, error_page=True)


@router.get("/enrol", response_class=HTMLResponse, response_model=None)
async def enrol_page(
    request: Request,
    _: Creator,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    access: EhrAccessDep,
    ehr: FhirBase,
    patient: EhrPatient,
) -> Response:
    granted = _granted(access, ehr, patient)
    return await _render_enrol(request, engine, kb, now, granted, confirm_error=None)


async def _render_enrol(
    request: Request,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    access: EhrAccess,
    *,
    confirm_error: str | None,
) -> Response:
    query = _query(access.fhir_base, access.ehr_patient_id)
    if find_linked_patient(engine, access.fhir_base, access.ehr_patient_id) is not None:
        return RedirectResponse(f"/smart/record?{query}", status_code=303)
    try:
        preview = await run_in_threadpool(
            lambda: preview_from_ehr(
                fhir_base_url=access.fhir_base,
                access_token=access.access_token,
                ehr_patient_id=access.ehr_patient_id,
                now=now,
                kb=kb,
            )
        )
    except (EhrReadError, InvalidInputError) as error:
        return _ehr_error(request, error)
    summary = [("field-confirm", confirm_error, "confirm")] if confirm_error else []
    context = {
        "preview": preview,
        "enrolment": preview.plan.commands[0] if preview.plan.commands else None,
        "query": query,
        "link_system": preview.identifier[0],
        "link_value": preview.identifier[1],
        "confirm_error": confirm_error,
        "error_summary": summary,
        "page_url": f"/smart/enrol?{query}",
    }
    return render(request, "smart/enrol.html", context, status=422 if confirm_error else 200)


@router.post("/enrol", response_model=None)
async def enrol(
    request: Request,
    _: CsrfDep,
    user: Creator,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    access: EhrAccessDep,
    ehr: FhirBase,
    patient: EhrPatient,
) -> Response:
    granted = _granted(access, ehr, patient)
    form = await request.form()
    if form.get("confirm") != "yes":
        return await _render_enrol(request, engine, kb, now, granted, confirm_error=CONFIRM_ERROR)
    try:
        result = await run_in_threadpool(
            lambda: enrol_from_ehr(
                engine,
                fhir_base_url=granted.fhir_base,
                access_token=granted.access_token,
                ehr_patient_id=granted.ehr_patient_id,
                actor=user.username,
                now=now,
                kb=kb,
            )
        )
    except ConflictError:
        return RedirectResponse(f"/smart/record?{_query(ehr, patient)}", status_code=303)
    except (EhrReadError, InvalidInputError) as error:  # CommandRejected is one too
        return _ehr_error(request, error)
    return _to_patient(request, result, "Enrolled from the EHR")


def _to_patient(request: Request, result: EhrSyncResult, done: str) -> Response:
    response = RedirectResponse(f"/clinic/patients/{result.patient_id}", status_code=303)
    findings = f"; {len(result.findings)} not read (see the EHR page)" if result.findings else ""
    flash(request, response, f"{done}: {result.added} items read from the EHR{findings}.")
    return response


@router.get("/record", response_class=HTMLResponse, response_model=None)
def record_page(
    request: Request,
    _: Recorder,
    engine: EngineDep,
    access: EhrAccessDep,
    ehr: FhirBase,
    patient: EhrPatient,
) -> Response:
    granted = _granted(access, ehr, patient)
    query = _query(granted.fhir_base, granted.ehr_patient_id)
    patient_id = find_linked_patient(engine, granted.fhir_base, granted.ehr_patient_id)
    if patient_id is None:
        return RedirectResponse(f"/smart/enrol?{query}", status_code=303)
    may_write, why = may_create_documents(granted.scope)
    context = {
        "patient_id": patient_id,
        "access": granted,
        "query": query,
        "may_write": may_write,
        "why_not": "" if may_write else why,
    }
    return render(request, "smart/record.html", context)


@router.post("/record/sync", response_model=None)
async def read_again(
    request: Request,
    _: CsrfDep,
    user: Recorder,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    access: EhrAccessDep,
    ehr: FhirBase,
    patient: EhrPatient,
) -> Response:
    granted = _granted(access, ehr, patient)
    try:
        result = await run_in_threadpool(
            lambda: sync_from_ehr(
                engine,
                fhir_base_url=granted.fhir_base,
                access_token=granted.access_token,
                ehr_patient_id=granted.ehr_patient_id,
                actor=user.username,
                now=now,
                kb=kb,
            )
        )
    except (EhrReadError, InvalidInputError) as error:
        return _ehr_error(request, error)
    if result.patient_id is None:
        return RedirectResponse(f"/smart/enrol?{_query(ehr, patient)}", status_code=303)
    return _to_patient(request, result, "Read the EHR again")


@router.post("/record/summary", response_model=None)
async def send_summary(
    request: Request,
    _: CsrfDep,
    user: Recorder,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    access: EhrAccessDep,
    ehr: FhirBase,
    patient: EhrPatient,
) -> Response:
    granted = _granted(access, ehr, patient)
    query = _query(granted.fhir_base, granted.ehr_patient_id)
    patient_id = find_linked_patient(engine, granted.fhir_base, granted.ehr_patient_id)
    if patient_id is None:
        return RedirectResponse(f"/smart/enrol?{query}", status_code=303)
    try:
        written = await run_in_threadpool(
            lambda: write_course_summary(
                engine,
                fhir_base_url=granted.fhir_base,
                access_token=granted.access_token,
                granted_scopes=granted.scope,
                ehr_patient_id=granted.ehr_patient_id,
                patient_id=patient_id,
                actor=user.username,
                now=now,
                kb=kb,
            )
        )
    except (EhrReadError, InvalidInputError) as error:
        return _ehr_error(request, error)
    response = RedirectResponse(f"/smart/record?{query}", status_code=303)
    words = "Course summary " + written.reason if written.written else written.reason.capitalize()
    flash(request, response, words, "success" if written.written else "warning")
    return response


@router.post("/record/unlink", response_model=None)
def unlink(
    request: Request,
    _: CsrfDep,
    user: Recorder,
    engine: EngineDep,
    now: NowDep,
    access: EhrAccessDep,
    ehr: FhirBase,
    patient: EhrPatient,
) -> Response:
    granted = _granted(access, ehr, patient)
    patient_id = unlink_patient(
        engine,
        fhir_base_url=granted.fhir_base,
        ehr_patient_id=granted.ehr_patient_id,
        actor=user.username,
        now=now,
    )
    target = f"/clinic/patients/{patient_id}" if patient_id else "/clinic"
    response = RedirectResponse(target, status_code=303)
    flash(request, response, "Unlinked from the EHR. What was read stays in the record.")
    return response
