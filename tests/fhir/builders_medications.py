"""FHIR JSON builders for medications, administrations, procedures and devices in
every shape an EHR uses, and a helper that screens them (tests only)."""

from __future__ import annotations

from datetime import date
from typing import Any

import isotrack.clinical.screening.rules  # noqa: F401  # registers every rule the screen runs
from isotrack.clinical.codes import CPT, HCPCS, ICD10PCS, NDC, RXNORM, SNOMED
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.screening.contraception import ContraceptionStatus, contraception_status
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.fhir import read_order, snapshot_from_bundle
from isotrack.fhir.resources import MedicationRequest
from isotrack.knowledge import KnowledgeBase
from tests.fhir.builders import SUBJECT, Json, bundle, isotretinoin_order, read

__all__ = ["CPT", "HCPCS", "ICD10PCS", "NDC", "RXNORM", "SNOMED"]

MEDICATION_SHAPES = (
    "codeable",
    "r5-concept",
    "contained",
    "bundled",
    "r5-reference",
    "ingredient",
    "r5-ingredient",
    "ingredient-substance",
)
"""How a request, statement or administration names its medication."""


def coding(system: str, code: str, display: str | None = None) -> Json:
    found: Json = {"system": system, "code": code}
    if display is not None:
        found["display"] = display
    return found


def codeable(*codings: Json, text: str | None = None) -> Json:
    found: Json = {"coding": list(codings)}
    if text is not None:
        found["text"] = text
    return found


def named(resource: Json, medication: Json, shape: str, id: str) -> list[Json]:
    """``resource`` naming ``medication`` (a CodeableConcept) in ``shape``, and any
    resource it references (a bundled Medication). An ingredient shape lists the
    concept as the only ingredient of a Medication called "combination product"."""
    product = {"resourceType": "Medication", "id": f"med-{id}"}
    extra: list[Json] = []
    if shape == "codeable":
        resource["medicationCodeableConcept"] = medication
    elif shape == "r5-concept":
        resource["medication"] = {"concept": medication}
    elif shape in ("contained", "bundled", "r5-reference"):
        product["code"] = medication
        reference = {"reference": f"#{product['id']}" if shape == "contained" else None}
        if shape == "contained":
            resource["contained"] = [product]
        else:
            reference["reference"] = f"Medication/{product['id']}"
            extra.append(product)
        if shape == "r5-reference":
            resource["medication"] = {"reference": reference}
        else:
            resource["medicationReference"] = reference
    else:
        product["code"] = codeable(text="combination product")
        if shape == "ingredient":
            product["ingredient"] = [{"itemCodeableConcept": medication}]
        elif shape == "r5-ingredient":
            product["ingredient"] = [{"item": {"concept": medication}}]
        else:
            substance = {"resourceType": "Substance", "id": f"sub-{id}", "code": medication}
            product["ingredient"] = [{"itemReference": {"reference": f"#sub-{id}"}}]
            resource["contained"] = [substance, product]
            resource["medicationReference"] = {"reference": f"#{product['id']}"}
            return [resource]
        resource["contained"] = [product]
        resource["medicationReference"] = {"reference": f"#{product['id']}"}
    return [resource, *extra]


def request(status: str, on: str, id: str) -> Json:
    return {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": status,
        "intent": "order",
        "subject": SUBJECT,
        "authoredOn": f"{on}T09:00:00Z",
    }


def statement(status: str, on: str, id: str, end: str | None = None) -> Json:
    period = {"start": on} if end is None else {"start": on, "end": end}
    return {
        "resourceType": "MedicationStatement",
        "id": id,
        "status": status,
        "subject": SUBJECT,
        "effectivePeriod": period,
    }


def administration(status: str, on: str, id: str, r5: bool = False) -> Json:
    when = "occurenceDateTime" if r5 else "effectiveDateTime"
    return {
        "resourceType": "MedicationAdministration",
        "id": id,
        "status": status,
        "subject": SUBJECT,
        when: f"{on}T09:00:00Z",
    }


def procedure_coded(code: Json, on: str, id: str, status: str = "completed", **extra: Any) -> Json:
    return {
        "resourceType": "Procedure",
        "id": id,
        "status": status,
        "code": code,
        "subject": SUBJECT,
        "performedDateTime": f"{on}T09:00:00Z",
        **extra,
    }


def device(type_: Json, id: str, status: str = "active") -> Json:
    return {
        "resourceType": "Device",
        "id": id,
        "status": status,
        "type": type_,
        "patient": SUBJECT,
    }


def device_use(device_id: str, on: str, id: str, status: str = "active", **extra: Any) -> Json:
    return {
        "resourceType": "DeviceUseStatement",
        "id": id,
        "status": status,
        "subject": SUBJECT,
        "device": {"reference": f"Device/{device_id}"},
        "timingPeriod": {"start": on},
        **extra,
    }


def snapshot_of(kb: KnowledgeBase, resources: list[Json], on: date) -> PatientSnapshot:
    order = isotretinoin_order(id="order-under-review", authored=on.isoformat())
    return snapshot_from_bundle(read(bundle(*resources, order)), kb=kb, on=on)


def screened(kb: KnowledgeBase, resources: list[Json], on: date) -> tuple[str, ...]:
    """The rule ids the screen of an isotretinoin order on ``on`` finds, sorted."""
    order = isotretinoin_order(id="order-under-review", authored=on.isoformat())
    document = read(bundle(*resources, order))
    snapshot = snapshot_from_bundle(document, kb=kb, on=on)
    request_ = next(r for r in document.of_type(MedicationRequest) if r.id == order["id"])
    assessment = screen_order(
        snapshot, read_order(request_, kb, bundle=document).order, on=on, kb=kb
    )
    return tuple(sorted(f.rule_id for f in assessment.findings))


def status_on(kb: KnowledgeBase, resources: list[Json], on: date) -> ContraceptionStatus:
    return contraception_status(snapshot_of(kb, resources, on), on, kb, "us-ipledge-2024")
