"""``GET /api/v1/patients/{id}/fhir``: a patient's whole record as a FHIR R4 Bundle.

The same Bundle as ``isotrack export`` (every command, with who recorded it and
when; ``isotrack import`` rebuilds the record from it). It needs ``patient.read``
(a patient gets their own record: it is theirs to take elsewhere). There is no
import route: an import writes prescriptions, dispenses and overrides at once,
which no single action of the role matrix covers; import with the CLI.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import APIRouter, Depends, Response

from isotrack.fhir.transfer import export_patient
from isotrack.http.access import PatientIdPath
from isotrack.http.authz import Action, Principal, ensure_patient_access, require
from isotrack.http.deps import EngineDep, KbDep, NowDep

FHIR_JSON = "application/fhir+json"

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])


@router.get(
    "/{patient_id}/fhir",
    summary="A patient's whole record as a FHIR R4 Bundle",
    response_class=Response,
    responses={200: {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}},
)
def export_fhir(
    patient_id: PatientIdPath,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    principal: Annotated[Principal, Depends(require(Action.PATIENT_READ))],
) -> Response:
    ensure_patient_access(principal, patient_id)
    bundle = export_patient(engine, patient_id, actor=principal.username, now=now, kb=kb)
    return Response(content=msgspec.json.encode(bundle), media_type=FHIR_JSON)
