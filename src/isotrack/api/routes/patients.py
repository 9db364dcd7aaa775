"""``/api/v1/patients``: create a patient, list patients, read one record's summary."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import Engine, select

from isotrack.clinical.record import PatientRecord, cumulative_dose
from isotrack.clinical.state import EnrolPatient
from isotrack.http.access import PatientIdPath, etag, read_allowed_record, store_command
from isotrack.http.authz import Action, Principal, require
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.http.schemas import CommandResult
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.db import storage_errors
from isotrack.store.models import Patient

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])


class PatientCreate(BaseModel):
    """A new patient; the server chooses the id (a UUID)."""

    name: str = Field(min_length=1, max_length=200)
    birth_date: date
    sex: Literal["female", "male", "other", "unknown"]
    pregnancy_capability: Literal["can-get-pregnant", "cannot-get-pregnant"] | None = None
    capability_reason: str = Field(default="", max_length=500)
    programme: str | None = Field(
        default=None,
        max_length=64,
        description="Pregnancy prevention programme id; default: the clinic's",
    )
    on: date | None = Field(default=None, description="Enrolment date; default: today")


class PatientListItem(BaseModel):
    id: str
    name: str


class PatientList(BaseModel):
    items: list[PatientListItem]


class WeightOut(BaseModel):
    on: date
    kg: float


class CourseSummary(BaseModel):
    course_id: str
    product: str
    status: str
    start: date
    end: date | None
    target_mg_per_kg: float
    prescriptions: int
    cumulative_mg: float
    cumulative_mg_per_kg: float | None


class RecordSummary(BaseModel):
    id: str
    name: str
    birth_date: date
    sex: str
    pregnancy_capability: str | None
    programme: str
    version: int = Field(description="The record's version (also its ETag)")
    latest_weight: WeightOut | None
    current_course: CourseSummary | None
    courses: int
    lab_results: int
    pregnancy_tests: int
    overrides: int


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CommandResult,
    summary="Create a patient (a new UUID id)",
)
def create_patient(
    body: PatientCreate,
    response: Response,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    principal: Annotated[Principal, Depends(require(Action.PATIENT_CREATE))],
) -> CommandResult:
    patient_id = str(uuid.uuid4())
    command = EnrolPatient(
        on=body.on or now.date(),
        patient_id=patient_id,
        name=body.name,
        birth_date=body.birth_date,
        sex=body.sex,
        pregnancy_capability=body.pregnancy_capability,
        capability_reason=body.capability_reason,
        programme=body.programme,
    )
    result = store_command(engine, patient_id, command, principal, now=now, kb=kb)
    response.headers["Location"] = f"{router.prefix}/{patient_id}"
    response.headers["ETag"] = etag(result.version)
    return result


@router.get("", response_model=PatientList, summary="List patients (ids and names only)")
def list_patients(
    engine: EngineDep,
    _: Annotated[Principal, Depends(require(Action.PATIENT_LIST))],
) -> PatientList:
    return PatientList(
        items=[PatientListItem(id=i, name=n) for i, n in _patients(engine)],
    )


@router.get("/{patient_id}", response_model=RecordSummary, summary="A patient's record (summary)")
def read_patient(
    patient_id: PatientIdPath,
    response: Response,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    principal: Annotated[Principal, Depends(require(Action.PATIENT_READ))],
) -> RecordSummary:
    record, version = read_allowed_record(engine, patient_id, principal, now=now, kb=kb)
    response.headers["ETag"] = etag(version)
    return summary_of(record, version, on=now.date(), kb=kb)


def summary_of(
    record: PatientRecord, version: int, *, on: date, kb: KnowledgeBase
) -> RecordSummary:
    weight = record.weight_on(on)
    course = record.current_course or record.last_course
    course_part = None
    if course is not None:
        dose = cumulative_dose(record, course, on=on, kb=kb)
        course_part = CourseSummary(
            course_id=course.course_id,
            product=course.product,
            status=course.status,
            start=course.start,
            end=course.end,
            target_mg_per_kg=course.target_mg_per_kg,
            prescriptions=len(course.prescriptions),
            cumulative_mg=dose.mg,
            cumulative_mg_per_kg=dose.mg_per_kg,
        )
    capability = record.pregnancy_capability
    return RecordSummary(
        id=record.patient_id,
        name=record.name,
        birth_date=record.birth_date,
        sex=record.sex.value,
        pregnancy_capability=capability.value if capability is not None else None,
        programme=record.programme,
        version=version,
        latest_weight=None if weight is None else WeightOut(on=weight.on, kg=weight.kg),
        current_course=course_part,
        courses=len(record.courses),
        lab_results=len(record.labs),
        pregnancy_tests=len(record.pregnancy_tests),
        overrides=len(record.overrides),
    )


def _patients(engine: Engine) -> list[tuple[str, str]]:
    """Ids and names from the patients table: not a read of anyone's record."""
    with storage_errors(engine), engine.connect() as connection:
        rows = connection.execute(select(Patient.id, Patient.name).order_by(Patient.name))
        return [(row.id, row.name) for row in rows]
