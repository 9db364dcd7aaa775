"""Small builders for snapshots in tests: real value objects, no mocks."""

from __future__ import annotations

from datetime import date

from isotrack.clinical.codes import RXNORM, SNOMED, Coding, Concept
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.snapshot import PatientSnapshot, Sex, Weight

TODAY = date(2026, 3, 2)


def rx(code: str, display: str) -> Concept:
    return Concept((Coding(RXNORM, code, display),), display)


def sct(code: str, display: str) -> Concept:
    return Concept((Coding(SNOMED, code, display),), display)


def text(words: str) -> Concept:
    return Concept((), words)


def man(**changes: object) -> PatientSnapshot:
    """An adult man with a recent weight: the fewest findings a patient can have."""
    base: dict[str, object] = {
        "patient_id": "m1",
        "birth_date": date(1998, 5, 4),
        "sex": Sex.MALE,
        "weights": (Weight(70.0, date(2026, 2, 20)),),
    }
    base.update(changes)
    return PatientSnapshot(**base)  # type: ignore[arg-type]


def order(**changes: object) -> IsotretinoinOrder:
    """Conventional capsules, 35 mg twice a day (1 mg/kg/day at 70 kg), 30 days, no refills."""
    base: dict[str, object] = {
        "product": "conventional",
        "route": "oral",
        "dose_mg": 35.0,
        "times_per_day": 2,
        "strength_mg": 35.0,
        "quantity": 60.0,
        "supply_days": 30.0,
        "repeats": 0,
    }
    base.update(changes)
    return IsotretinoinOrder(**base)  # type: ignore[arg-type]
