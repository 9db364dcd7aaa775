"""``POST /api/v1/pk/simulate``: the PK model (docs/pk.md) for a regimen.

A stateless computation like the planner, under the same right (``plan``).
Bounded so a request cannot eat the server: at most 2,000 virtual patients
and 5 million patient × time points per request (FastAPI runs this
synchronous handler in its thread pool)."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from isotrack import SAFETY_LINE
from isotrack.api.authz import Action, Principal, require
from isotrack.api.deps import KbDep
from isotrack.clinical.pk import Simulation, formulation_of, regular_regimen, simulate
from isotrack.errors import InvalidInputError

router = APIRouter(prefix="/api/v1/pk", tags=["tools"])

MAX_POPULATION = 2_000
MAX_WORK = 5_000_000
"""Most (virtual patients or 1) × time points one request may ask for."""


class PkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dose_mg: float = Field(gt=0, le=200, description="mg per dose")
    times_per_day: int = Field(default=2, ge=1, le=4, description="Doses a day, evenly spaced")
    days: int = Field(default=30, ge=1, le=365, description="Days of dosing")
    fed: bool = Field(default=True, description="Taken with a meal")
    product: str = Field(
        default="conventional", min_length=1, max_length=64, description="Knowledge-base product id"
    )
    population: int = Field(
        default=0, ge=0, le=MAX_POPULATION, description="Virtual patients (0: the typical one)"
    )
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    missed_days: list[int] = Field(
        default_factory=list, max_length=365, description="Days without a dose, 1 = first"
    )
    until_fraction: float = Field(
        default=0.1, gt=0, lt=1, description="Washout line: fraction of the steady-state average"
    )
    follow_days: float = Field(default=30, ge=0, le=120, description="Days after the last dose")
    step_h: float = Field(default=1.0, ge=0.25, le=24, description="Hours between samples")


class SpeciesOut(BaseModel):
    curves_ng_ml: dict[str, list[float]] = Field(
        description="One curve per row: 'typical', or 'p5', 'p50', 'p95'"
    )
    steady_state_average_ng_ml: dict[str, float]
    washout_h: dict[str, float | None] = Field(
        description="Hours from the last dose until below the line; null: not within the time"
    )


class PkOut(BaseModel):
    product: str
    formulation: str
    subjects: int
    percentiles: list[float]
    last_dose_h: float
    washout_fraction: float
    times_h: list[float]
    isotretinoin: SpeciesOut
    oxo_isotretinoin: SpeciesOut
    note: str
    safety: str


def _number(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 2)


def _species(
    names: list[str], rows: list[list[float]], steady: list[float], washout: list[float]
) -> SpeciesOut:
    return SpeciesOut(
        curves_ng_ml={n: [round(v, 2) for v in r] for n, r in zip(names, rows, strict=True)},
        steady_state_average_ng_ml={n: round(v, 2) for n, v in zip(names, steady, strict=True)},
        washout_h={n: _number(v) for n, v in zip(names, washout, strict=True)},
    )


def pk_out(result: Simulation, product: str, formulation: str) -> PkOut:
    names = [f"p{p:g}" for p in result.percentiles] if result.subjects else ["typical"]
    return PkOut(
        product=product,
        formulation=formulation,
        subjects=result.subjects,
        percentiles=list(result.percentiles),
        last_dose_h=result.last_dose_h,
        washout_fraction=result.washout_fraction,
        times_h=[round(float(t), 4) for t in result.times_h],
        isotretinoin=_species(
            names,
            result.parent.tolist(),
            result.steady_parent.tolist(),
            result.washout_parent_h.tolist(),
        ),
        oxo_isotretinoin=_species(
            names, result.oxo.tolist(), result.steady_oxo.tolist(), result.washout_oxo_h.tolist()
        ),
        note="Model built from label means (docs/pk.md); exposure relative to conventional "
        "capsules with food, not a prediction for one patient.",
        safety=SAFETY_LINE,
    )


@router.post("/simulate", response_model=PkOut, summary="Simulate isotretinoin and 4-oxo levels")
def simulate_pk(
    body: PkRequest,
    kb: KbDep,
    _: Annotated[Principal, Depends(require(Action.PLAN))],
) -> PkOut:
    formulation = formulation_of(kb, body.product)
    points = math.floor((body.days + body.follow_days) * 24 / body.step_h) + 1
    if max(body.population, 1) * points > MAX_WORK:
        raise InvalidInputError(
            "population",
            f"{max(body.population, 1)} patients × {points} time points is more than "
            f"{MAX_WORK:,}: use fewer patients, fewer days or a longer step_h",
        )
    doses = regular_regimen(
        body.dose_mg,
        times_per_day=body.times_per_day,
        days=body.days,
        fed=body.fed,
        formulation=formulation,
        missed_days=body.missed_days,
    )
    result = simulate(
        kb,
        doses,
        step_h=body.step_h,
        follow_h=body.follow_days * 24,
        population=body.population,
        seed=body.seed,
        washout_fraction=body.until_fraction,
    )
    return pk_out(result, body.product, formulation)
