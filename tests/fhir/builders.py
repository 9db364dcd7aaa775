"""FHIR R4 JSON builders for tests: plain dicts, as an EHR would send them."""

from __future__ import annotations

import json
from typing import Any

from isotrack.clinical.codes import LOINC, RXNORM, SNOMED, UCUM
from isotrack.fhir import FhirBundle, decode_bundle

Json = dict[str, Any]

PATIENT_URL = "urn:uuid:11111111-1111-1111-1111-111111111111"
PATIENT_ID = "11111111-1111-1111-1111-111111111111"
SUBJECT = {"reference": PATIENT_URL}
ISOTRETINOIN_40 = {
    "coding": [{"system": RXNORM, "code": "197845", "display": "Isotretinoin 40 MG Oral Capsule"}],
    "text": "Isotretinoin 40 MG Oral Capsule",
}
ORAL = {"coding": [{"system": SNOMED, "code": "26643006", "display": "Oral route"}]}


def patient(gender: str = "female", birth_date: str = "1998-05-04", **extra: Any) -> Json:
    return {"resourceType": "Patient", "id": PATIENT_ID, "gender": gender,
            "birthDate": birth_date, **extra}  # fmt: skip


def bundle(*resources: Json, kind: str = "collection", with_patient: bool = True) -> Json:
    """A Bundle of the default patient (unless ``with_patient=False``) and ``resources``."""
    listed = [patient(), *resources] if with_patient else list(resources)
    entries = [{"fullUrl": _full_url(r, i), "resource": r} for i, r in enumerate(listed)]
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def _full_url(resource: Json, index: int) -> str:
    if resource.get("resourceType") == "Patient" and resource.get("id") == PATIENT_ID:
        return PATIENT_URL
    return f"urn:uuid:00000000-0000-0000-0000-{index:012d}"


def read(document: Json) -> FhirBundle:
    return decode_bundle(json.dumps(document).encode())


def concept(system: str, code: str, display: str) -> Json:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def quantity(value: float, unit: str, code: str | None = None) -> Json:
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


def observation(
    code: str, display: str, on: str = "2026-02-20", *, id: str = "obs-1", **value: Any
) -> Json:
    return {
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "code": concept(LOINC, code, display),
        "subject": SUBJECT,
        "effectiveDateTime": f"{on}T09:30:00+01:00",
        **value,
    }


def weight(value: float, unit: str, code: str | None = None, **extra: Any) -> Json:
    return observation("29463-7", "Body Weight", valueQuantity=quantity(value, unit, code), **extra)


def triglycerides(value: float, unit: str = "mg/dL", **extra: Any) -> Json:
    return observation(
        "2571-8", "Triglycerides", valueQuantity=quantity(value, unit), id="tg-1", **extra
    )


def hcg(on: str = "2026-02-27", **value: Any) -> Json:
    return observation("2106-3", "HCG [Presence] in Urine", on, id="hcg-1", **value)


def medication_request(
    medication: Json | None = None,
    *,
    id: str = "mr-1",
    status: str = "active",
    intent: str = "order",
    authored: str | None = "2026-02-01",
    **extra: Any,
) -> Json:
    resource: Json = {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": status,
        "intent": intent,
        "subject": SUBJECT,
    }
    if medication is not None:
        resource["medicationCodeableConcept"] = medication
    if authored is not None:
        resource["authoredOn"] = f"{authored}T10:00:00+00:00"
    resource.update(extra)
    return resource


def isotretinoin_order(
    *,
    id: str = "order-1",
    status: str = "draft",
    authored: str | None = "2026-03-02",
    medication: Json | None = None,
    dose: Json | None = None,
    timing: Json | None = None,
    route: Json | None = None,
    dispense: Json | None = None,
    **extra: Any,
) -> Json:
    """Isotretinoin 40 mg twice a day by mouth, 60 capsules, 30 days, no repeats."""
    dosage: Json = {
        "timing": timing or {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
        "route": route or ORAL,
        "doseAndRate": [{"doseQuantity": dose or quantity(40, "mg")}],
    }
    return medication_request(
        ISOTRETINOIN_40 if medication is None else medication,
        id=id,
        status=status,
        authored=authored,
        dosageInstruction=[dosage],
        dispenseRequest=dispense
        or {
            "numberOfRepeatsAllowed": 0,
            "quantity": quantity(60, "capsule", "{capsule}"),
            "expectedSupplyDuration": quantity(30, "days", "d"),
        },
        **extra,
    )


def procedure(code: str, display: str, on: str, *, id: str, status: str = "completed") -> Json:
    return {
        "resourceType": "Procedure",
        "id": id,
        "status": status,
        "code": concept(SNOMED, code, display),
        "subject": SUBJECT,
        "performedPeriod": {"start": f"{on}T10:00:00+00:00", "end": f"{on}T10:30:00+00:00"},
    }
