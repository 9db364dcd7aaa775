"""``POST /api/v1/pk/simulate``: the PK model (docs/pk.md) for a regimen.

A stateless computation like the planner, under the same right (``plan``).
Bounded so a request cannot eat the server: at most 2,000 virtual patients
and 5 million patient × time points per request, plus the fixed sampling of
the single-dose measures (about 1,400 points per patient; FastAPI runs this
synchronous handler in its thread pool)."""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from isotrack import SAFETY_LINE
from isotrack.clinical.pk import (
    AUC_INTERVAL,
    DayLevels,
    Exposure,
    Simulation,
    SingleDose,
    day_levels,
    day_of,
    formulation_of,
    regular_regimen,
    simulate,
    single_dose,
)
from isotrack.errors import InvalidInputError
from isotrack.http.authz import Action, Principal, require
from isotrack.http.deps import KbDep

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


class DayLevelsOut(BaseModel):
    peak_ng_ml: float = Field(description="Highest level of the day")
    trough_ng_ml: float | None = Field(
        description="Lowest level of the day from the curve's first peak on; null before it"
    )
    mean_ng_ml: float


class ExposureOut(BaseModel):
    cmax_ng_ml: float = Field(description="Peak level after one dose taken alone")
    tmax_h: float = Field(description="Hours from the dose to that peak")
    auc_ng_h_ml: float = Field(description="Area under the curve from the dose to infinity")


class SingleDoseOut(BaseModel):
    dose_mg: float
    fed: bool
    formulation: str
    auc_interval: str = Field(description="'0-inf': AUC0–∞, the label's single-dose measure")


class SpeciesOut(BaseModel):
    curves_ng_ml: dict[str, list[float]] = Field(
        description="One curve per row: 'typical', or 'p5', 'p50', 'p95'"
    )
    last_day: dict[str, DayLevelsOut | None] = Field(
        description="Each row's levels on the last dosing day (null: no sample in it)"
    )
    single_dose: dict[str, ExposureOut] = Field(
        description="Cmax, Tmax and AUC0–∞ of one dose alone: the typical patient's, or "
        "percentiles over patients"
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
    last_dosing_day: int = Field(description="The day of the last dose; 1 = hours 0–24")
    single_dose: SingleDoseOut
    washout_fraction: float
    times_h: list[float]
    isotretinoin: SpeciesOut
    oxo_isotretinoin: SpeciesOut
    note: str
    safety: str


def _number(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 2)


def _day(levels: DayLevels | None) -> DayLevelsOut | None:
    if levels is None:
        return None
    return DayLevelsOut(
        peak_ng_ml=round(levels.peak, 2),
        trough_ng_ml=None if levels.trough is None else round(levels.trough, 2),
        mean_ng_ml=round(levels.mean, 2),
    )


def _exposure(exposure: Exposure, row: int) -> ExposureOut:
    return ExposureOut(
        cmax_ng_ml=round(float(exposure.cmax[row]), 2),
        tmax_h=round(float(exposure.tmax[row]), 2),
        auc_ng_h_ml=round(float(exposure.auc[row]), 1),
    )


def _species(
    names: list[str],
    result: Simulation,
    curves: NDArray[np.float64],
    exposure: Exposure,
    steady: list[float],
    washout: list[float],
) -> SpeciesOut:
    day = day_of(result.last_dose_h)
    rows = curves.tolist()
    return SpeciesOut(
        curves_ng_ml={n: [round(v, 2) for v in r] for n, r in zip(names, rows, strict=True)},
        last_day={
            n: _day(day_levels(result.times_h, curve, day))
            for n, curve in zip(names, curves, strict=True)
        },
        single_dose={n: _exposure(exposure, i) for i, n in enumerate(names)},
        steady_state_average_ng_ml={n: round(v, 2) for n, v in zip(names, steady, strict=True)},
        washout_h={n: _number(v) for n, v in zip(names, washout, strict=True)},
    )


def pk_out(result: Simulation, single: SingleDose, product: str, formulation: str) -> PkOut:
    names = [f"p{p:g}" for p in result.percentiles] if result.subjects else ["typical"]
    return PkOut(
        product=product,
        formulation=formulation,
        subjects=result.subjects,
        percentiles=list(result.percentiles),
        last_dose_h=result.last_dose_h,
        last_dosing_day=day_of(result.last_dose_h),
        single_dose=SingleDoseOut(
            dose_mg=single.mg, fed=single.fed, formulation=formulation, auc_interval=AUC_INTERVAL
        ),
        washout_fraction=result.washout_fraction,
        times_h=[round(float(t), 4) for t in result.times_h],
        isotretinoin=_species(
            names,
            result,
            result.parent,
            single.parent,
            result.steady_parent.tolist(),
            result.washout_parent_h.tolist(),
        ),
        oxo_isotretinoin=_species(
            names,
            result,
            result.oxo,
            single.oxo,
            result.steady_oxo.tolist(),
            result.washout_oxo_h.tolist(),
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
    single = single_dose(
        kb,
        body.dose_mg,
        fed=body.fed,
        formulation=formulation,
        population=body.population,
        seed=body.seed,
    )
    return pk_out(result, single, body.product, formulation)
