"""Request bodies of the typed command endpoints (``/patients/{id}/prescribe`` ...).

Each model documents its body in the OpenAPI document with structural limits
(lengths, non-negative counts, PHQ-9 0–27); the clinical limits (possible
weights, usual dose ranges, supply days) come from the knowledge base when the
record checks the command, and a breach is a 422 problem naming the field.
``on`` defaults to the server's today in the clinic's time zone.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from isotrack.clinical.dosing import Administration, Regimen
from isotrack.clinical.state import (
    AnyCommand,
    Dispense,
    EndCourse,
    PauseCourse,
    Prescribe,
    RecordLabResult,
    RecordPHQ9,
    RecordPregnancyStatus,
    RecordPregnancyTest,
    RecordSymptoms,
    RecordWeight,
    ResumeCourse,
    StartContraception,
    StartCourse,
    StopContraception,
    prescription_of,
)

Id = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
Reason = Field(min_length=1, max_length=500)
Capsules = Field(ge=1, le=10_000)
OptionalCapsules = Field(default=None, ge=1, le=10_000)


class CommandBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date | None = Field(default=None, description="The clinical date; default: today")

    def day(self, today: date) -> date:
        return self.on or today

    def to_command(self, today: date) -> AnyCommand:
        raise NotImplementedError


class GenericCommand(BaseModel):
    """Any command of :mod:`isotrack.clinical.state.commands` as JSON: ``{"type": ..., ...}``."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"example": {"type": "RecordWeight", "on": "2026-03-02", "value": 64}},
    )

    type: str = Field(min_length=1, max_length=64, description="The command type")


class StartCourseBody(CommandBody):
    product: str = Field(min_length=1, max_length=64, description="Knowledge-base product id")
    course_id: str | None = Id
    target_mg_per_kg: float | None = Field(default=None, gt=0, le=1000)

    def to_command(self, today: date) -> AnyCommand:
        return StartCourse(
            on=self.day(today),
            course_id=self.course_id or str(uuid.uuid4()),
            product=self.product,
            target_mg_per_kg=self.target_mg_per_kg,
        )


class AdministrationBody(BaseModel):
    """One administration of a day: its capsules (mg each), e.g. ``[20, 20]`` for 40 mg."""

    model_config = ConfigDict(extra="forbid")

    capsules_mg: list[float] = Field(min_length=1, max_length=20)


class PrescribeBody(CommandBody):
    """A prescription: its ``regimen`` (each administration with its capsules), or the
    single dose of one strength (``dose_mg`` × ``times_per_day`` of ``strength_mg``
    capsules, ``quantity`` capsules)."""

    prescription_id: str | None = Id
    regimen: list[AdministrationBody] | None = Field(
        default=None,
        min_length=1,
        max_length=6,
        description="Each administration of the day, morning first, with its capsules "
        "(e.g. [{capsules_mg: [30]}, {capsules_mg: [25]}]); the capsules of every strength "
        "for supply_days follow from it. Instead of dose_mg, times_per_day, strength_mg, "
        "quantity.",
    )
    dose_mg: float | None = Field(default=None, gt=0, le=1000, description="Per administration")
    times_per_day: int | None = Field(default=None, ge=1, le=6)
    strength_mg: float | None = Field(default=None, gt=0, le=1000, description="Capsule strength")
    quantity: int | None = OptionalCapsules
    supply_days: int = Field(ge=1, le=366)
    override_reason: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _one_dose(self) -> PrescribeBody:
        single = (self.dose_mg, self.times_per_day, self.strength_mg, self.quantity)
        if self.regimen is None and None in single:
            raise ValueError("give a regimen, or dose_mg, times_per_day, strength_mg and quantity")
        if self.regimen is not None and any(v is not None for v in single):
            raise ValueError("give a regimen or the single-dose fields, not both")
        if self.regimen is not None and any(
            not 0 < c <= 1000 for a in self.regimen for c in a.capsules_mg
        ):
            raise ValueError("each capsule of the regimen is above 0 and at most 1000 mg")
        return self

    def to_command(self, today: date) -> AnyCommand:
        if self.regimen is not None:
            regimen = Regimen(
                tuple(
                    Administration(tuple(sorted(a.capsules_mg, reverse=True))) for a in self.regimen
                )
            )
            return prescription_of(
                on=self.day(today),
                prescription_id=self.prescription_id or str(uuid.uuid4()),
                regimen=regimen,
                supply_days=self.supply_days,
                override_reason=self.override_reason,
            )
        # The validator has checked that the single-dose fields are all given.
        assert self.dose_mg is not None
        assert self.times_per_day is not None
        assert self.strength_mg is not None
        assert self.quantity is not None
        return Prescribe(
            on=self.day(today),
            prescription_id=self.prescription_id or str(uuid.uuid4()),
            dose_mg=self.dose_mg,
            times_per_day=self.times_per_day,
            strength_mg=self.strength_mg,
            quantity=self.quantity,
            supply_days=self.supply_days,
            override_reason=self.override_reason,
        )


class DispenseBody(CommandBody):
    prescription_id: str = Field(min_length=1, max_length=64)
    quantity: int = Capsules
    authorization_id: str = Field(
        default="", max_length=64, description="The authorisation used (each is used once)"
    )
    dispensed_by: str = Field(default="", max_length=200, description="Who and where")

    def to_command(self, today: date) -> AnyCommand:
        return Dispense(
            on=self.day(today), prescription_id=self.prescription_id, quantity=self.quantity,
            authorization_id=self.authorization_id, dispensed_by=self.dispensed_by,
        )  # fmt: skip


class WeightBody(CommandBody):
    value: float = Field(gt=0, le=1000, description="Possible range checked against the kb")
    unit: str = Field(default="kg", min_length=1, max_length=32, description="kg, g, [lb_av]")

    def to_command(self, today: date) -> AnyCommand:
        return RecordWeight(on=self.day(today), value=self.value, unit=self.unit)


class LabBody(CommandBody):
    analyte: str = Field(min_length=1, max_length=64, description="e.g. triglycerides, alt")
    value: float = Field(ge=0, le=1_000_000)
    unit: str = Field(min_length=1, max_length=32)
    reference_high: float | None = Field(default=None, ge=0, le=1_000_000)

    def to_command(self, today: date) -> AnyCommand:
        return RecordLabResult(
            on=self.day(today),
            analyte=self.analyte,
            value=self.value,
            unit=self.unit,
            reference_high=self.reference_high,
        )


class PregnancyTestBody(CommandBody):
    result: Literal["positive", "negative", "indeterminate"]
    setting: Literal["medical", "home", "unknown"] = "medical"

    def to_command(self, today: date) -> AnyCommand:
        return RecordPregnancyTest(on=self.day(today), result=self.result, setting=self.setting)


class PregnancyStatusBody(CommandBody):
    status: Literal["pregnant", "not-pregnant", "unknown"]
    note: str = Field(default="", max_length=500, description="The status as written")

    def to_command(self, today: date) -> AnyCommand:
        return RecordPregnancyStatus(on=self.day(today), status=self.status, note=self.note)


class ContraceptionBody(CommandBody):
    method: str = Field(min_length=1, max_length=64, description="Knowledge-base method id")
    action: Literal["start", "stop"] = "start"

    def to_command(self, today: date) -> AnyCommand:
        if self.action == "stop":
            return StopContraception(on=self.day(today), method=self.method)
        return StartContraception(on=self.day(today), method=self.method)


class SymptomsBody(CommandBody):
    symptoms: list[str] = Field(min_length=1, max_length=30, description="Symptom ids")
    note: str = Field(default="", max_length=2000)

    def to_command(self, today: date) -> AnyCommand:
        return RecordSymptoms(on=self.day(today), symptoms=tuple(self.symptoms), note=self.note)


class Phq9Body(CommandBody):
    total: int = Field(ge=0, le=27)
    item9: int | None = Field(default=None, ge=0, le=3, description="Self-harm item")

    def to_command(self, today: date) -> AnyCommand:
        return RecordPHQ9(on=self.day(today), total=self.total, item9=self.item9)


class PauseBody(CommandBody):
    reason: str = Reason

    def to_command(self, today: date) -> AnyCommand:
        return PauseCourse(on=self.day(today), reason=self.reason)


class ResumeBody(CommandBody):
    def to_command(self, today: date) -> AnyCommand:
        return ResumeCourse(on=self.day(today))


class EndBody(CommandBody):
    reason: str = Reason

    def to_command(self, today: date) -> AnyCommand:
        return EndCourse(on=self.day(today), reason=self.reason)
