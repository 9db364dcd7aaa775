"""Body weight and laboratory results, in the canonical unit of each analyte.

A value comes from ``valueQuantity`` in any unit the knowledge base converts
(``units.toml``: kg, g, [lb_av], [oz_av]; mg/dL, mmol/L, g/L; U/L, [IU]/L,
µkat/L), spelled as UCUM codes or as the unit texts EHRs send ("lbs", "IU/L",
"µkat/L"). A value without a unit, or in a unit that cannot be converted, is not
guessed: a note says so and the result is left out.
"""

from __future__ import annotations

from datetime import date

from isotrack.clinical.snapshot import LabResult
from isotrack.clinical.snapshot import Weight as WeightRecord
from isotrack.clinical.units import canonical_unit, to_canonical
from isotrack.errors import InvalidInputError
from isotrack.fhir.observations.model import ObservationValues, Part, PatientFacts
from isotrack.fhir.observations.ranges import upper_limit
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
    part: Part,
    analyte: str,
    on: date,
    label: str,
    kb: KnowledgeBase,
    values: ObservationValues,
    patient: PatientFacts,
) -> None:
    """A result in the canonical unit of its analyte, with the upper limit of normal of
    its own reference range (:mod:`.ranges`) and the LOINC code it came with."""
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
    ranges = part.holder.reference_range
    high = upper_limit(ranges, analyte, unit, on, patient, kb, values.notes, label)
    with refusing_impossible(label, "valueQuantity"):
        values.labs.append(
            LabResult(analyte, converted, canonical_unit(analyte), on, high, part.code, label)
        )
