"""The pregnancy prevention programme: a patient's status, dispensing
authorisations (issued, recorded in the log, signed with the clinic's private
key), their check, and the clinic's public keys.

Authorisations are created by the roles holding ``authorization.create``
(prescribers and pharmacists: under iPLEDGE the pharmacist obtains the
authorisation before dispensing; docs/api.md). ``/authorizations/verify``
checks a token against the published public keys only: no record is read.
``GET /.well-known/jwks.json`` publishes them to anyone (they are public), the
active key and the retired ones still in their overlap, never a private key.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from isotrack.clinical.programme import (
    Authorization,
    ProgrammeStatus,
    as_command,
    authorize_dispense,
    programme_status,
)
from isotrack.http.access import PatientIdPath, read_allowed_record, store_command
from isotrack.http.authz import Action, Principal, require
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.http.ids import new_authorization_id
from isotrack.store.ppp_keys import public_jwks
from isotrack.store.ppp_records import prescriber_of_current, signed_token, verify_here

router = APIRouter(prefix="/api/v1", tags=["programme"])
JWKS_MAX_AGE_SECONDS = 3600
"""How long a pharmacy may cache the public keys (far shorter than any overlap)."""


class RequirementOut(BaseModel):
    key: str
    met: bool
    text: str
    needs: str
    found: str
    rule_ids: list[str]


class MonthOut(BaseModel):
    month: int
    start: date
    end: date
    programme: str
    version: str
    state: str
    prescription_id: str | None


class CapsulesOut(BaseModel):
    strength_mg: float
    capsules: int


class AuthorizationOut(BaseModel):
    id: str
    patient_id: str
    patient_name: str
    birth_date: date
    course_id: str
    prescription_id: str
    product: str
    capsules: list[CapsulesOut] = Field(description="Capsules per strength")
    prescriber: str
    issued_on: date
    not_after: date = Field(description="Do not dispense after (inclusive)")
    max_quantity: int = Field(description="Capsules")
    max_days: int
    programme: str
    version: str


class ProgrammeStatusOut(BaseModel):
    patient_id: str
    on: date
    programme: str
    version: str
    programme_name: str
    category: str
    category_reason: str
    state: str
    month: int | None
    course_id: str | None
    requirements: list[RequirementOut]
    unmet: list[str] = Field(description="Keys of the unmet requirements")
    history: list[MonthOut]
    authorization: AuthorizationOut | None


class AuthorizationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date | None = Field(default=None, description="Day of the authorisation; default today")


class IssuedAuthorization(AuthorizationOut):
    token: str = Field(description="Signed (EdDSA) with the clinic's key; JWKS at /.well-known")


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=4096)
    on: date | None = Field(default=None, description="Day of the dispense; default today")


class VerifyResult(BaseModel):
    signature: str = Field(description="'valid': signed with one of the clinic's keys")
    in_force: bool
    checked_on: date
    authorization: AuthorizationOut


def authorization_out(authorization: Authorization) -> AuthorizationOut:
    return AuthorizationOut(
        id=authorization.id,
        patient_id=authorization.patient_id,
        patient_name=authorization.patient_name,
        birth_date=authorization.birth_date,
        course_id=authorization.course_id,
        prescription_id=authorization.prescription_id,
        product=authorization.product,
        capsules=[CapsulesOut(strength_mg=mg, capsules=n) for mg, n in authorization.capsules],
        prescriber=authorization.prescriber,
        issued_on=authorization.issued_on,
        not_after=authorization.not_after,
        max_quantity=authorization.max_quantity,
        max_days=authorization.max_days,
        programme=authorization.programme,
        version=authorization.version,
    )


def status_out(status: ProgrammeStatus) -> ProgrammeStatusOut:
    return ProgrammeStatusOut(
        patient_id=status.patient_id,
        on=status.on,
        programme=status.programme,
        version=status.version,
        programme_name=status.programme_name,
        category=status.category,
        category_reason=status.category_reason,
        state=status.state.value,
        month=status.month,
        course_id=status.course_id,
        requirements=[
            RequirementOut(
                key=r.key,
                met=r.met,
                text=r.text,
                needs=r.needs,
                found=r.found,
                rule_ids=list(r.rule_ids),
            )
            for r in status.requirements
        ],
        unmet=[r.key for r in status.unmet],
        history=[
            MonthOut(
                month=m.month,
                start=m.start,
                end=m.end,
                programme=m.programme,
                version=m.version,
                state=m.state.value,
                prescription_id=m.prescription_id,
            )
            for m in status.history
        ],
        authorization=(
            None if status.authorization is None else authorization_out(status.authorization)
        ),
    )


@router.get(
    "/patients/{patient_id}/programme",
    response_model=ProgrammeStatusOut,
    tags=["programme"],
    summary="Programme status: the month's state and what the next step needs",
)
def read_programme(
    patient_id: PatientIdPath,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    principal: Annotated[Principal, Depends(require(Action.PROGRAMME_READ))],
    on: Annotated[date | None, Query(alias="date", description="Default: today")] = None,
) -> ProgrammeStatusOut:
    record, _ = read_allowed_record(engine, patient_id, principal, now=now, kb=kb)
    return status_out(programme_status(record, on=on or now.date(), kb=kb))


@router.post(
    "/patients/{patient_id}/authorizations",
    response_model=IssuedAuthorization,
    status_code=201,
    summary="Authorise dispensing this month's prescription (or 422 naming what is unmet)",
)
def create_authorization(
    patient_id: PatientIdPath,
    body: AuthorizationRequest,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    principal: Annotated[Principal, Depends(require(Action.AUTHORIZATION_CREATE))],
) -> IssuedAuthorization:
    record, version = read_allowed_record(engine, patient_id, principal, now=now, kb=kb)
    authorization = authorize_dispense(
        record, on=body.on or now.date(), kb=kb, authorization_id=new_authorization_id(),
        prescriber=prescriber_of_current(engine, record),
    )  # fmt: skip
    store_command(
        engine, patient_id, as_command(authorization), principal, now=now, kb=kb,
        version=version,
    )  # fmt: skip
    token = signed_token(engine, authorization, now=now, actor=principal.username)
    return IssuedAuthorization(**authorization_out(authorization).model_dump(), token=token)


@router.post(
    "/authorizations/verify",
    response_model=VerifyResult,
    summary="Check an authorisation token offline (signature and dates)",
)
def verify_authorization(
    body: VerifyRequest,
    engine: EngineDep,
    now: NowDep,
    _: Annotated[Principal, Depends(require(Action.AUTHORIZATION_VERIFY))],
) -> VerifyResult:
    day = body.on or now.date()
    authorization = verify_here(engine, body.token, now=now)  # 422: alg, key, altered, malformed
    return VerifyResult(
        signature="valid",
        in_force=authorization.issued_on <= day <= authorization.not_after,
        checked_on=day,
        authorization=authorization_out(authorization),
    )


well_known = APIRouter(tags=["programme"])


@well_known.get(
    "/.well-known/jwks.json",
    summary="The clinic's public keys that verify dispensing authorisations (JWKS)",
)
def jwks(engine: EngineDep, now: NowDep) -> JSONResponse:
    document = public_jwks(engine, now=now)
    return JSONResponse(
        document,
        media_type="application/jwk-set+json",
        headers={"cache-control": f"public, max-age={JWKS_MAX_AGE_SECONDS}"},
    )
