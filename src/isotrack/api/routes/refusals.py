"""``/api/v1/patients/{id}/refused-commands``: the commands the record refused, with
what they held and why (clinical: ``patient.read``, the patient's own record only).

The audit trail as an admin reads it (``/api/v1/audit``) withholds these payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from isotrack.http.access import PatientIdPath
from isotrack.http.authz import Action, Principal, ensure_patient_access, require
from isotrack.http.deps import EngineDep, NowDep
from isotrack.store.refusals import read_refused_commands

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])


class RefusedCommandOut(BaseModel):
    audit_id: int = Field(description="The audit row that records the refusal")
    at: datetime
    actor: str
    type: str = Field(description="The command's type, e.g. RecordLabResult")
    field: str | None = Field(description="The field the refusal names")
    reason: str
    command: dict[str, Any] = Field(description="The command as it was sent")
    batch_index: int | None = Field(description="Its place in a refused batch (1-based)")
    batch_size: int | None


class RefusedCommands(BaseModel):
    items: list[RefusedCommandOut]


@router.get(
    "/{patient_id}/refused-commands",
    response_model=RefusedCommands,
    summary="The commands this record refused, with their contents (audited read)",
)
def refused_commands(
    patient_id: PatientIdPath,
    engine: EngineDep,
    now: NowDep,
    principal: Annotated[Principal, Depends(require(Action.PATIENT_READ))],
) -> RefusedCommands:
    ensure_patient_access(principal, patient_id)
    refused = read_refused_commands(engine, patient_id, actor=principal.username, now=now)
    return RefusedCommands(
        items=[
            RefusedCommandOut(
                audit_id=r.audit_id, at=r.at, actor=r.actor, type=r.type, field=r.field,
                reason=r.reason, command=r.command, batch_index=r.batch_index,
                batch_size=r.batch_size,
            )
            for r in refused
        ]
    )  # fmt: skip
