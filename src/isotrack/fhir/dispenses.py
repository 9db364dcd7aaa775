"""Isotretinoin MedicationDispense resources as the supply handed to the patient
(:class:`~isotrack.clinical.snapshot.SupplyRecord`), which SUPPLY-ON-HAND counts.

A dispense is read when its status says the capsules were handed over
(``completed``, or no status); a ``daysSupply`` in days (UCUM ``d``, or the unit
words day/days) gives its length. Without one, or in another unit, the days are
unknown: the rule then says the supply on hand cannot be ruled out (never a
silent pass), and a note says why. A dispense without ``whenHandedOver`` is left
out with a note.
"""

from __future__ import annotations

from isotrack.clinical.snapshot import SupplyRecord
from isotrack.fhir.decode import FhirBundle
from isotrack.fhir.order import is_isotretinoin, medication_of
from isotrack.fhir.resources import MedicationDispense
from isotrack.fhir.values import fhir_date
from isotrack.knowledge.base import KnowledgeBase

HANDED_OVER = frozenset({"completed"})
"""MedicationDispense.status values of capsules handed over (no status: assumed so)."""
DAY_UNITS = frozenset({"d", "day", "days"})


def supplies_from(
    dispenses: list[MedicationDispense], bundle: FhirBundle, kb: KnowledgeBase, notes: list[str]
) -> tuple[SupplyRecord, ...]:
    """The isotretinoin dispenses among ``dispenses``, as supplies."""
    found = []
    for dispense in dispenses:
        if not is_isotretinoin(medication_of(dispense, bundle)[0], kb):
            continue
        label = f"MedicationDispense/{dispense.id or '(no id)'}"
        if dispense.status is not None and dispense.status not in HANDED_OVER:
            continue
        on = fhir_date(dispense.when_handed_over, "MedicationDispense.whenHandedOver")
        if on is None:
            notes.append(f"{label}: no whenHandedOver, so it is not counted as supply on hand")
            continue
        found.append(
            SupplyRecord(
                on=on,
                days=_days(dispense, label, notes),
                quantity=_positive(dispense.quantity.value if dispense.quantity else None),
                source=label,
            )
        )
    return tuple(found)


def _days(dispense: MedicationDispense, label: str, notes: list[str]) -> float | None:
    supply = dispense.days_supply
    value = _positive(supply.value if supply is not None else None)
    unit = (supply.code or supply.unit or "d").strip().casefold() if supply is not None else ""
    if value is not None and unit in DAY_UNITS:
        return value
    notes.append(f"{label}: days supplied not given in days, so the supply on hand is unknown")
    return None


def _positive(value: float | None) -> float | None:
    return value if value is not None and value > 0 else None
