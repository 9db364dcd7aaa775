"""Stateless tools: the course planner (``/plan``) and screening a FHIR Bundle
(``/screen``). Neither reads nor writes a stored record."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from isotrack.clinical.dosing import CoursePlan, default_mg_per_kg_day, plan_course
from isotrack.clinical.screening import screen_order
from isotrack.errors import InvalidInputError, NotFoundError
from isotrack.fhir import decode_bundle, find_isotretinoin_order, read_order, snapshot_from_bundle
from isotrack.http.authz import Action, Principal, require
from isotrack.http.deps import KbDep, NowDep
from isotrack.http.schemas import AssessmentOut, assessment_out
from isotrack.knowledge.base import KnowledgeBase

router = APIRouter(prefix="/api/v1", tags=["tools"])

FHIR_MAX_BYTES = 5 * 1024 * 1024
"""Largest FHIR Bundle accepted (issue 5: ≤ 5 MB)."""
FHIR_MEDIA_TYPES = ("application/json", "application/fhir+json")


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight_kg: float = Field(gt=0, le=1000, description="Possible range checked against the kb")
    product: str = Field(min_length=1, max_length=64, description="Knowledge-base product id")
    mg_per_kg: float | None = Field(
        default=None, gt=0, le=100, description="Daily mg/kg; default: the product's usual"
    )
    target_mg_per_kg: float | None = Field(
        default=None, gt=0, le=1000, description="Cumulative target; default: the kb's"
    )
    start: date | None = Field(default=None, description="First day; default: today")
    start_low: bool = False


class PeriodOut(BaseModel):
    start: date
    weight_kg: float
    mg_per_kg_day: float
    daily_mg: float
    capsules_mg: list[list[float]] = Field(description="Per time of day, largest first")
    reason: str


class WeekOut(BaseModel):
    week: int
    on: date
    cumulative_mg: float
    cumulative_mg_per_kg: float
    daily_mg: float


class PlanOut(BaseModel):
    product: str
    start: date
    end: date = Field(description="The last dosing day")
    weight_kg: float
    target_mg_per_kg: float
    mg_per_kg_day: float
    daily_mg: float
    achieved_mg_per_kg_day: float
    dosing_days: int
    cumulative_mg: float
    cumulative_mg_per_kg: float
    periods: list[PeriodOut]
    weeks: list[WeekOut]
    notes: list[str]


def plan_out(plan: CoursePlan) -> PlanOut:
    return PlanOut(
        product=plan.product,
        start=plan.start,
        end=plan.end,
        weight_kg=plan.weight_kg,
        target_mg_per_kg=plan.target_mg_per_kg,
        mg_per_kg_day=plan.mg_per_kg_day,
        daily_mg=plan.daily_mg,
        achieved_mg_per_kg_day=plan.achieved_mg_per_kg_day,
        dosing_days=plan.dosing_days,
        cumulative_mg=plan.cumulative_mg,
        cumulative_mg_per_kg=plan.cumulative_mg_per_kg,
        periods=[
            PeriodOut(
                start=p.start,
                weight_kg=p.weight_kg,
                mg_per_kg_day=p.mg_per_kg_day,
                daily_mg=p.capsules.total_mg,
                capsules_mg=[list(d.capsules_mg) for d in p.capsules.doses],
                reason=p.reason,
            )
            for p in plan.periods
        ],
        weeks=[
            WeekOut(
                week=w.week,
                on=w.on,
                cumulative_mg=w.cumulative_mg,
                cumulative_mg_per_kg=w.cumulative_mg_per_kg,
                daily_mg=w.daily_mg,
            )
            for w in plan.weeks
        ],
        notes=list(plan.notes),
    )


@router.post("/plan", response_model=PlanOut, summary="Plan a course to a cumulative target")
def plan(
    body: PlanRequest,
    kb: KbDep,
    now: NowDep,
    _: Annotated[Principal, Depends(require(Action.PLAN))],
) -> PlanOut:
    dose = body.mg_per_kg if body.mg_per_kg is not None else default_mg_per_kg_day(kb, body.product)
    goal = body.target_mg_per_kg or kb.number("course.cumulative_target_mg_per_kg")
    return plan_out(
        plan_course(
            body.weight_kg,
            body.product,
            goal,
            dose,
            start=body.start or now.date(),
            kb=kb,
            start_low=body.start_low,
        )
    )


class ScreenOut(AssessmentOut):
    patient_id: str
    order_text: str | None = Field(description="The isotretinoin order screened, as written")


@router.post(
    "/screen",
    response_model=ScreenOut,
    summary="Screen the isotretinoin order of a FHIR R4 Bundle (≤ 5 MB)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": {"type": "object", "description": "A FHIR R4 Bundle"}}
                for media in FHIR_MEDIA_TYPES
            },
        }
    },
)
async def screen(
    request: Request,
    kb: KbDep,
    now: NowDep,
    _: Annotated[Principal, Depends(require(Action.SCREEN))],
    on: Annotated[date | None, Query(alias="date", description="Default: today")] = None,
    patient: Annotated[str | None, Query(max_length=64, description="When several")] = None,
) -> ScreenOut:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in FHIR_MEDIA_TYPES:
        raise InvalidInputError("Content-Type", "send application/json or application/fhir+json")
    raw = await request.body()
    if len(raw) > FHIR_MAX_BYTES:
        raise InvalidInputError("body", f"larger than {FHIR_MAX_BYTES} bytes")
    day = on or now.date()
    return await run_in_threadpool(screen_bundle, raw, on=day, patient=patient, kb=kb)


def screen_bundle(raw: bytes, *, on: date, patient: str | None, kb: KnowledgeBase) -> ScreenOut:
    bundle = decode_bundle(raw)
    request = find_isotretinoin_order(bundle, kb=kb, patient_id=patient)
    if request is None:
        raise NotFoundError("no draft or active isotretinoin order in the bundle")
    snapshot = snapshot_from_bundle(bundle, kb=kb, patient_id=patient, order=request, on=on)
    order = read_order(request, kb, bundle=bundle).order
    assessment = assessment_out(screen_order(snapshot, order, on=on, kb=kb), kb)
    return ScreenOut(
        **assessment.model_dump(), patient_id=snapshot.patient_id, order_text=order.text
    )
