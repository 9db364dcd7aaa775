"""Builders for medication, condition and allergy records, with the codes and
names the Synthea sample data actually uses. Real value objects, no mocks."""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from pathlib import Path

from isotrack.clinical.codes import ICD10CM, RXNORM, SNOMED, Coding, Concept
from isotrack.clinical.snapshot import AllergyRecord, ConditionRecord, MedicationRecord
from tests.clinical.builders import TODAY

LAST_YEAR = TODAY - timedelta(days=365)


def med(
    code: str | None,
    display: str,
    status: str | None = "active",
    *,
    route: str | None = None,
    start: date | None = LAST_YEAR,
    end: date | None = None,
    source: str = "",
) -> MedicationRecord:
    """A medication record coded in RxNorm (``code=None``: name only)."""
    codings = (Coding(RXNORM, code, display),) if code else ()
    return MedicationRecord(
        Concept(codings, display), status, start=start, end=end, route=route, source=source
    )


def condition(
    code: str | None,
    display: str,
    *,
    system: str = SNOMED,
    status: str | None = "active",
    onset: date | None = LAST_YEAR,
    abatement: date | None = None,
    verification: str | None = "confirmed",
) -> ConditionRecord:
    """A condition coded in SNOMED CT (or ``system=ICD10CM``); ``code=None``: name only."""
    codings = (Coding(system, code, display),) if code else ()
    return ConditionRecord(
        Concept(codings, display),
        onset=onset,
        abatement=abatement,
        clinical_status=status,
        verification=verification,
    )


def icd(code: str, display: str, **changes: object) -> ConditionRecord:
    return condition(code, display, system=ICD10CM, **changes)  # type: ignore[arg-type]


def allergy(
    code: str | None,
    display: str,
    *,
    system: str = SNOMED,
    status: str | None = "active",
    recorded: date | None = LAST_YEAR,
) -> AllergyRecord:
    codings = (Coding(system, code, display),) if code else ()
    return AllergyRecord(Concept(codings, display), status, recorded)


# Records as they appear in the Synthea R4 sample data.
PREDNISONE = ("312617", "predniSONE 5 MG Oral Tablet")
HYDROCORTISONE_CREAM = ("106258", "Hydrocortisone 10 MG/ML Topical Cream")
FLUTICASONE_MDI = (
    "895994",
    "120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
)
FLUTICASONE_SALMETEROL_DPI = (
    "896209",
    "60 ACTUAT Fluticasone propionate 0.25 MG/ACTUAT / salmeterol 0.05 MG/ACTUAT "
    "Dry Powder Inhaler",
)
BUDESONIDE_NEBULISER = ("351109", "budesonide 0.25 MG/ML Inhalation Suspension")
VITAMIN_B12 = ("2001499", "Vitamin B12 5 MG/ML Injectable Solution")
ASPIRIN = ("243670", "Aspirin 81 MG Oral Tablet")
DIABETES = ("44054006", "Diabetes")
PREDIABETES = ("15777000", "Prediabetes")
HYPERGLYCEMIA = ("80394007", "Hyperglycemia (disorder)")
SOY_ALLERGY = ("714035009", "Allergy to soya")
PEANUT_ALLERGY = ("91935009", "Allergy to peanuts")
NUT_ALLERGY = ("91934008", "Allergy to nut")
TREE_NUT = ("442571000124108", "Tree nut (substance)")


def synthea_concepts(folder: Path, resource_type: str, element: str) -> set[Concept]:
    """Every distinct CodeableConcept ``element`` of ``resource_type`` in the Synthea
    bundles (read directly, so these tests do not depend on the FHIR decoder)."""
    found: set[Concept] = set()
    for path in sorted(folder.glob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            bundle = json.load(handle)
        for entry in bundle.get("entry", []):
            resource = entry.get("resource", {})
            if resource.get("resourceType") != resource_type or element not in resource:
                continue
            value = resource[element]
            codings = tuple(
                Coding(c.get("system", ""), c.get("code", ""), c.get("display"))
                for c in value.get("coding", [])
            )
            found.add(Concept(codings, value.get("text")))
    return found
