"""``/api/v1/patients/{id}/schedule``: what is due, overdue, done and upcoming,
as JSON or (``?format=ics``) as an iCalendar file the patient can import."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from isotrack.clinical.monitoring import Schedule
from isotrack.clinical.record import record_schedule
from isotrack.http.access import PatientIdPath, read_allowed_record
from isotrack.http.authz import Action, Principal, require
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.ical import ICS_MEDIA_TYPE, schedule_to_ics

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["schedule"])

DateQuery = Annotated[date | None, Query(description="The day to look at; default: today")]


class ScheduleItemOut(BaseModel):
    key: str
    kind: str
    title: str
    start: date
    end: date
    status: str
    what_to_do: str
    done_on: date | None
    done_by: str
    baseline: bool
    label: str
    parameters: list[str]
    sources: list[str]


class ScheduleOut(BaseModel):
    patient_id: str
    evaluated_on: date
    programme: str
    pregnancy_capability: str
    reason: str = ""
    items: list[ScheduleItemOut]
    notes: list[str]


def schedule_out(schedule: Schedule) -> ScheduleOut:
    return ScheduleOut(
        patient_id=schedule.patient_id,
        evaluated_on=schedule.on,
        programme=schedule.programme,
        pregnancy_capability=schedule.pregnancy_capability,
        reason=schedule.reason,
        items=[
            ScheduleItemOut(
                key=i.key,
                kind=str(i.kind),
                title=i.title,
                start=i.start,
                end=i.end,
                status=i.status.value,
                what_to_do=i.what_to_do,
                done_on=i.done_on,
                done_by=i.done_by,
                baseline=i.baseline,
                label=i.label,
                parameters=list(i.parameters),
                sources=list(i.sources),
            )
            for i in schedule.items
        ],
        notes=list(schedule.notes),
    )


@router.get(
    "/schedule",
    response_model=ScheduleOut,
    summary="The monitoring schedule (JSON, or iCalendar with ?format=ics)",
    responses={200: {"content": {ICS_MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
def read_schedule(
    patient_id: PatientIdPath,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    principal: Annotated[Principal, Depends(require(Action.PATIENT_READ))],
    on: Annotated[date | None, Query(alias="date", description="Default: today")] = None,
    format: Annotated[
        Literal["json", "ics"], Query(description="json or ics")
    ] = "json",  # the query parameter's public name
) -> ScheduleOut | Response:
    record, _ = read_allowed_record(engine, patient_id, principal, now=now, kb=kb)
    schedule = record_schedule(record, on=on or now.date(), kb=kb)
    if format == "ics":
        body = schedule_to_ics(schedule, patient_name=record.name, generated=now)
        return Response(content=body, media_type=ICS_MEDIA_TYPE)
    return schedule_out(schedule)
