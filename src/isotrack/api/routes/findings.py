"""``/api/v1/patients/{id}/findings``: the engine's findings on the course, and a
clinician's override of one finding (with the reason, stored as a command)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from isotrack.clinical.record import findings_on
from isotrack.clinical.state import RecordOverride
from isotrack.http.access import (
    ExpectedVersionQuery,
    IfMatchHeader,
    PatientIdPath,
    etag,
    expected_version,
    read_allowed_record,
    store_command,
)
from isotrack.http.authz import Action, Principal, require
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.http.schemas import AssessmentOut, CommandResult, assessment_out

router = APIRouter(prefix="/api/v1/patients/{patient_id}/findings", tags=["findings"])

RuleIdPath = Annotated[
    str,
    Path(description="A rule id of the catalogue", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"),
]


class OverrideBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="Why go ahead regardless")
    on: date | None = Field(default=None, description="Default: today")


@router.get("", response_model=AssessmentOut, summary="The findings on the course on a day")
def read_findings(
    patient_id: PatientIdPath,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    principal: Annotated[Principal, Depends(require(Action.FINDINGS_READ))],
    on: Annotated[date | None, Query(alias="date", description="Default: today")] = None,
) -> AssessmentOut:
    record, _ = read_allowed_record(engine, patient_id, principal, now=now, kb=kb)
    day = on or now.date()
    return assessment_out(findings_on(record, on=day, kb=kb), kb)


@router.post(
    "/{rule_id}/override", response_model=CommandResult, summary="Override a finding, with reason"
)
def override_finding(
    patient_id: PatientIdPath,
    rule_id: RuleIdPath,
    body: OverrideBody,
    response: Response,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    principal: Annotated[Principal, Depends(require(Action.FINDING_OVERRIDE))],
    expected: ExpectedVersionQuery = None,
    if_match: IfMatchHeader = None,
) -> CommandResult:
    command = RecordOverride(on=body.on or now.date(), rule_id=rule_id, reason=body.reason)
    result = store_command(
        engine, patient_id, command, principal, now=now, kb=kb,
        version=expected_version(expected, if_match),
    )  # fmt: skip
    response.headers["ETag"] = etag(result.version)
    return result
