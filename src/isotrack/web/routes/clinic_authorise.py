"""The prescriber authorises a dispense from the patient page, and prints the
authorisation for the patient.

- ``POST /clinic/patients/{id}/authorizations`` — after a confirmation step:
  the authorisation of the current prescription, issued by the same function as
  the pharmacy's page and the API (:func:`~isotrack.web.routes._authorise.issue_authorization`);
  a refusal comes back on the patient page in the error summary, naming what is
  unmet, and nothing is stored.
- ``GET /clinic/patients/{id}/authorisation`` — the printable card the patient's
  home page shows (name, date of birth, medicine, capsules, collect-by date, QR
  code), with the same print stylesheet; only while an authorisation is in force
  and unused.

Both need ``authorization.create`` on a clinic page: a prescriber. A nurse does
not see them and is refused; a pharmacist issues from the pharmacy's own page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from isotrack.errors import ProgrammeRefusal
from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.web.deps import CsrfDep, WebUser, require_page
from isotrack.web.routes._authorise import issue_authorization, issued_text
from isotrack.web.routes._records import VersionField, read_for
from isotrack.web.routes.clinic_access import ClinicUser, PatientId, back_to_patient
from isotrack.web.routes.clinic_page import render_patient
from isotrack.web.templating import render
from isotrack.web.views.authorisation import authorisation_card
from isotrack.web.views.words import plain

router = APIRouter()

Authoriser = Annotated[WebUser, Depends(require_page(Action.AUTHORIZATION_CREATE))]
FORM = "authorise"
"""The patient page's form name (its message has the id ``authorise-refused``)."""


@router.post("/patients/{patient_id}/authorizations", response_model=None)
def authorise_dispense(
    request: Request,
    patient_id: PatientId,
    _: CsrfDep,
    _staff: ClinicUser,  # a clinic page: findings.read (not a pharmacist)
    user: Authoriser,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    version: VersionField = None,
) -> Response:
    read = read_for(user, engine, patient_id, now=now, kb=kb)
    try:
        issued = issue_authorization(user, engine, read, now=now, kb=kb, version=version)
    except ProgrammeRefusal as error:
        message = f"The authorisation was not created: {plain(error.message)}"
        return render_patient(
            request, patient_id, user, engine=engine, kb=kb, now=now,
            forms={FORM: {"values": {}, "errors": {"refused": message}}}, status=422,
        )  # fmt: skip
    return back_to_patient(request, patient_id, issued_text(issued))


@router.get("/patients/{patient_id}/authorisation", response_class=HTMLResponse)
def printable_authorisation(
    request: Request,
    patient_id: PatientId,
    _staff: ClinicUser,  # a clinic page: findings.read (not a pharmacist)
    user: Authoriser,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
) -> HTMLResponse:
    record, _ = read_for(user, engine, patient_id, now=now, kb=kb)
    card = authorisation_card(engine, record, kb, now=now, actor=user.username)
    context = {"record": record, "authorisation": card}
    return render(request, "clinic/authorisation.html", context)
