"""FHIR R4 JSON builders for hCG tests, specimens and pregnancy statuses, written the
ways EHRs write them (US Core, IPS, the HL7 At-Home In-Vitro Test IG)."""

from __future__ import annotations

from typing import Any

from isotrack.clinical.codes import LOINC, SNOMED, V3_INTERPRETATION
from tests.fhir.builders import Json, concept, observation

HOME_TEST_PROFILE = (
    "http://hl7.org/fhir/us/home-lab-report/StructureDefinition/"
    "Observation-at-home-in-vitro-test-result"
)
LAB_CATEGORY = [
    {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "laboratory",
            }
        ]
    }
]
QUALITATIVE = {
    "positive": [
        concept(SNOMED, "10828004", "Positive"),
        concept(SNOMED, "260373001", "Detected"),
        concept(LOINC, "LA6576-8", "Positive"),
        concept(LOINC, "LA11882-0", "Detected"),
    ],
    "negative": [
        concept(SNOMED, "260385009", "Negative"),
        concept(SNOMED, "260415000", "Not detected"),
        concept(LOINC, "LA6577-6", "Negative"),
        concept(LOINC, "LA11883-8", "Not detected"),
    ],
    "indeterminate": [
        concept(SNOMED, "82334004", "Indeterminate"),
        concept(SNOMED, "42425007", "Equivocal"),
        concept(LOINC, "LA11884-6", "Indeterminate"),
        concept(LOINC, "LA4259-3", "Borderline"),
    ],
}
INTERPRETATION = {"positive": "POS", "negative": "NEG", "indeterminate": "IND"}
STRINGS = {"positive": "Positive", "negative": "negative.", "indeterminate": "Equivocal"}
STATUS_VALUES = {
    "pregnant": [concept(SNOMED, "77386006", "Pregnant"), concept(LOINC, "LA15173-0", "Pregnant")],
    "not-pregnant": [
        concept(SNOMED, "60001007", "Not pregnant"),
        concept(LOINC, "LA26683-5", "Not pregnant"),
    ],
    "unknown": [
        concept(SNOMED, "261665006", "Unknown"),
        concept(LOINC, "LA4489-6", "Unknown"),
        concept(SNOMED, "146799005", "Possible pregnancy"),
    ],
}


def interpretation(code: str) -> list[Json]:
    return [{"coding": [{"system": V3_INTERPRETATION, "code": code}]}]


def hcg_test(
    code: str = "2106-3", on: str = "2026-02-27", *, id: str = "hcg-1", **value: Any
) -> Json:
    """An hCG Observation (urine presence test by default)."""
    return observation(code, "hCG", on, id=id, **value)


def serum_hcg(value: float, unit: str = "mIU/mL", *, code: str | None = None, **extra: Any) -> Json:
    """A quantitative serum beta-hCG (LOINC 21198-7) in ``unit``."""
    quantity = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org"}
    if code is not None:
        quantity["code"] = code
    return hcg_test("21198-7", valueQuantity=quantity, **extra)


def reference_range(high: float, unit: str = "mIU/mL") -> list[Json]:
    return [{"high": {"value": high, "unit": unit}}]


def specimen(collected: str, *, id: str = "spec-1", period: bool = False, **extra: Any) -> Json:
    collection = (
        {"collectedPeriod": {"start": collected}} if period else {"collectedDateTime": collected}
    )
    return {"resourceType": "Specimen", "id": id, "collection": collection, **extra}


def pregnancy_status(
    value: Json | None = None, on: str = "2026-02-20", *, code: str = "82810-3", **extra: Any
) -> Json:
    """A US Core / IPS pregnancy status observation."""
    if value is not None:
        extra["valueCodeableConcept"] = value
    return observation(code, "Pregnancy status", on, id=f"status-{on}", **extra)
