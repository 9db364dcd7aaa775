"""The pharmacist's pages: look a patient up, see whether a dispense is allowed
today and why not, create the dispensing authorisation, record the dispense.

=============================================  ========================  ==================
page                                           what                      action
=============================================  ========================  ==================
``GET  /pharmacy``                             search (name, id, auth.)  dispense
``GET  /pharmacy/patients/{id}``               today's check             dispense
``POST /pharmacy/patients/{id}/authorizations``  create the authorisation  authorization.create
``POST /pharmacy/patients/{id}/dispense``      record the dispense       dispense
=============================================  ========================  ==================

The verdict and its reasons are :func:`~isotrack.web.routes.pharmacy_view.dispense_check`;
the authorisation is issued exactly as ``POST /api/v1/patients/{id}/authorizations``
and the prescriber's patient page issue it
(:func:`~isotrack.web.routes._authorise.issue_authorization`:
:func:`~isotrack.clinical.programme.authorize_dispense`, a new ``PA-`` id, stored as
``RecordAuthorization``), and the dispense is the ``Dispense``
command, which the record refuses without an authorisation in force. Both forms
carry the record version they were drawn from: a record changed meanwhile gives
the 409 page, and nothing is stored.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from isotrack.clinical.record import findings_on
from isotrack.clinical.state import Dispense, PatientRecord
from isotrack.errors import CommandRejected, ProgrammeRefusal
from isotrack.http.access import PatientIdPath
from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.store.ppp_records import patient_of_authorization
from isotrack.web.deps import CsrfDep, WebUser, require_page
from isotrack.web.routes._authorise import issue_authorization, issued_text
from isotrack.web.routes._records import (
    VersionField,
    find_patients,
    read_for,
    store_for,
)
from isotrack.web.routes.pharmacy_view import dispense_check
from isotrack.web.templating import flash, render
from isotrack.web.views.words import plain

router = APIRouter(prefix="/pharmacy", include_in_schema=False)

DispenserDep = Annotated[WebUser, Depends(require_page(Action.DISPENSE))]
AuthoriserDep = Annotated[WebUser, Depends(require_page(Action.AUTHORIZATION_CREATE))]


@router.get("")
def search(
    request: Request,
    user: DispenserDep,
    engine: EngineDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Search by name or record id; an authorisation id opens its patient's check."""
    text = q.strip()
    if text:
        owner = patient_of_authorization(engine, text)
        if owner is not None:
            target = f"/pharmacy/patients/{quote(owner)}?authorization={quote(text)}"
            return RedirectResponse(target, status_code=303)
    matches = find_patients(engine, text)
    return render(request, "pharmacy/search.html", {"q": text, "matches": matches})


@router.get("/patients/{patient_id}")
def check(
    request: Request,
    patient_id: PatientIdPath,
    user: DispenserDep,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    authorization: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    return _check_page(request, user, engine, kb, now, patient_id, looked_up=authorization)


@router.post("/patients/{patient_id}/authorizations")
def create_authorization(
    request: Request,
    patient_id: PatientIdPath,
    user: AuthoriserDep,
    _csrf: CsrfDep,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    version: VersionField = None,
) -> Response:
    record, current = read_for(user, engine, patient_id, now=now, kb=kb)
    try:
        issued = issue_authorization(
            user, engine, (record, current), now=now, kb=kb, version=version
        )
    except ProgrammeRefusal as error:
        return _check_page(
            request, user, engine, kb, now, patient_id,
            errors={"authorisation": plain(error.message)}, status=422,
            read=(record, current),
        )  # fmt: skip
    response = RedirectResponse(f"/pharmacy/patients/{quote(patient_id)}", status_code=303)
    flash(request, response, issued_text(issued))
    return response


@router.post("/patients/{patient_id}/dispense")
def record_dispense(
    request: Request,
    patient_id: PatientIdPath,
    user: DispenserDep,
    _csrf: CsrfDep,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    prescription_id: Annotated[str, Form(min_length=1, max_length=64)],
    quantity: Annotated[str, Form(max_length=12)] = "",
    version: VersionField = None,
) -> Response:
    count = int(quantity) if quantity.strip().isdigit() else 0
    if count < 1:
        return _check_page(
            request, user, engine, kb, now, patient_id,
            errors={"quantity": "Enter the number of capsules handed out (a whole number)."},
            values={"quantity": quantity}, status=422,
        )  # fmt: skip
    command = Dispense(
        on=now.date(), prescription_id=prescription_id, quantity=count,
        dispensed_by=user.username,
    )  # fmt: skip
    try:
        store_for(user, engine, patient_id, command, now=now, kb=kb, version=version)
    except CommandRejected as error:
        return _check_page(
            request, user, engine, kb, now, patient_id,
            errors={"quantity": plain(error.message.removeprefix(f"{error.field}: "))},
            values={"quantity": quantity}, status=422,
        )  # fmt: skip
    response = RedirectResponse(f"/pharmacy/patients/{quote(patient_id)}", status_code=303)
    flash(
        request,
        response,
        f"Dispense recorded: {count} capsules of prescription {prescription_id}.",
    )
    return response


def _check_page(
    request: Request,
    user: WebUser,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    patient_id: str,
    *,
    looked_up: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    read: tuple[PatientRecord, int] | None = None,
) -> Response:
    """The check page, on the record already ``read`` in this request or read now (one
    audited read either way)."""
    record, version = read or read_for(user, engine, patient_id, now=now, kb=kb)
    result = dispense_check(record, on=now.date(), kb=kb)
    found = None
    if looked_up:
        found = next(
            (a for c in record.courses for a in c.authorizations if a.id == looked_up), None
        )
    context: dict[str, Any] = {
        "check": result,
        "version": version,
        "looked_up": looked_up,
        "looked_up_authorization": found,
        "may_authorise": user.may(Action.AUTHORIZATION_CREATE),
        "errors": errors or {},
        "error_ids": {
            "authorisation": "verdict",
            "quantity": "field-quantity" if result.verdict == "dispense" else "verdict",
        },
        "values": values or {},
        "page_url": f"/pharmacy/patients/{quote(patient_id)}",
        "today": findings_on(record, on=now.date(), kb=kb),
    }
    return render(request, "pharmacy/check.html", context, status=status)
