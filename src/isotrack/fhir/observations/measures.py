"""Body weight and laboratory results, in the canonical unit of each analyte."""

from __future__ import annotations

from datetime import date

from isotrack.clinical.snapshot import LabResult
from isotrack.clinical.snapshot import Weight as WeightRecord
from isotrack.clinical.units import canonical_unit, to_canonical
from isotrack.errors import InvalidInputError
from isotrack.fhir.observations.model import ObservationValues, Part
from isotrack.fhir.resources import Observation
from isotrack.fhir.values import quantity_unit, refusing_impossible
from isotrack.knowledge.base import KnowledgeBase


def _quantity(part: Part, what: str, label: str, notes: list[str]) -> tuple[float, str] | None:
    quantity = part.holder.value_quantity
    if quantity is None or quantity.value is None:
        notes.append(f"{label}: {what} without a numeric value; ignored")
        return None
    unit = quantity_unit(quantity)
    if not unit:
        notes.append(f"{label}: {what} {quantity.value:g} has no unit; ignored")
        return None
    return quantity.value, unit


def _convert(analyte: str, value: float, unit: str, kb: KnowledgeBase) -> float | None:
    try:
        return to_canonical(analyte, value, unit, kb)
    except InvalidInputError:
        return None


def weight(part: Part, on: date, label: str, kb: KnowledgeBase, values: ObservationValues) -> None:
    read = _quantity(part, "body weight", label, values.notes)
    if read is None:
        return
    kg = _convert("weight", *read, kb)
    if kg is None:
        values.notes.append(
            f"{label}: unit {read[1]!r} for body weight cannot be converted to kg; ignored"
        )
        return
    with refusing_impossible(label, "valueQuantity"):
        values.weights.append(WeightRecord(kg, on, label))


def lab(
    part: Part, analyte: str, on: date, label: str, kb: KnowledgeBase, values: ObservationValues
) -> None:
    read = _quantity(part, analyte, label, values.notes)
    if read is None:
        return
    value, unit = read
    converted = _convert(analyte, value, unit, kb)
    if converted is None:
        values.notes.append(
            f"{label}: unit {unit!r} for {analyte} cannot be converted to "
            f"{canonical_unit(analyte)}; ignored"
        )
        return
    high = _reference_high(part, analyte, unit, kb)
    with refusing_impossible(label, "valueQuantity"):
        values.labs.append(
            LabResult(analyte, converted, canonical_unit(analyte), on, high, part.code, label)
        )


def _reference_high(part: Part, analyte: str, value_unit: str, kb: KnowledgeBase) -> float | None:
    holder = part.holder
    if not isinstance(holder, Observation):
        return None
    for reference in holder.reference_range:
        high = reference.high
        if high is not None and high.value is not None:
            unit = quantity_unit(high) or value_unit
            return _convert(analyte, high.value, unit, kb)
    return None
