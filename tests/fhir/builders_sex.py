"""FHIR builders for the sex and gender elements of a Patient, written the way
US Core (6 to 9) and the HL7 sex-and-gender extensions write them."""

from __future__ import annotations

from typing import Any

from isotrack.clinical.codes import LOINC, SNOMED
from tests.fhir.builders import PATIENT_ID, SUBJECT, Json

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
HL7_EXT = "http://hl7.org/fhir/StructureDefinition/"
ADMIN_GENDER = "http://hl7.org/fhir/administrative-gender"
V3_GENDER = "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender"
SPCU = "http://terminology.hl7.org/CodeSystem/sex-parameter-for-clinical-use"
SNOMED_SEX = {"female": ("248152002", "Female (finding)"), "male": ("248153007", "Male (finding)")}
LOINC_SEX = {"female": ("LA3-6", "Female"), "male": ("LA2-8", "Male")}


def patient_with(
    *extensions: Json, gender: str | None = None, birth_date: str = "2001-01-01"
) -> Json:
    resource: Json = {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": birth_date}
    if gender is not None:
        resource["gender"] = gender
    if extensions:
        resource["extension"] = list(extensions)
    return resource


def birth_sex(code: str) -> Json:
    """US Core Birth Sex: a bare valueCode F, M, UNK or ASKU."""
    return {"url": US_CORE + "us-core-birthsex", "valueCode": code}


def individual_sex(sex: str) -> Json:
    """US Core 9 Individual Sex: a SNOMED CT valueCoding (as in the US Core 9 examples)."""
    code, display = SNOMED_SEX[sex]
    coding = {"system": SNOMED, "version": "http://snomed.info/sct/731000124108",
              "code": code, "display": display}  # fmt: skip
    return {"url": US_CORE + "us-core-individual-sex", "valueCoding": coding}


def us_core_sex_code(sex: str) -> Json:
    """The deprecated US Core 6-7 Sex extension: a bare SNOMED CT valueCode."""
    return {"url": US_CORE + "us-core-sex", "valueCode": SNOMED_SEX[sex][0]}


def sex_for_clinical_use(code: str, *, end: str | None = None) -> Json:
    parts: list[Json] = [{"url": "value", "valueCodeableConcept": {"coding": [
        {"system": SPCU, "code": code}]}}]  # fmt: skip
    if end is not None:
        parts.append({"url": "period", "valuePeriod": {"start": "2020-01-01", "end": end}})
    return {"url": HL7_EXT + "patient-sexParameterForClinicalUse", "extension": parts}


def gender_identity(system: str, code: str, display: str = "") -> Json:
    value = {"coding": [{"system": system, "code": code, "display": display}]}
    return {"url": HL7_EXT + "individual-genderIdentity",
            "extension": [{"url": "value", "valueCodeableConcept": value}]}  # fmt: skip


def recorded_sex(type_code: str, value: Json) -> Json:
    """HL7 Recorded Sex or Gender: a value and the LOINC type that says what it is."""
    kind = {"coding": [{"system": LOINC, "code": type_code}]}
    return {"url": HL7_EXT + "individual-recordedSexOrGender", "extension": [
        {"url": "value", "valueCodeableConcept": {"coding": [value]}},
        {"url": "type", "valueCodeableConcept": kind}]}  # fmt: skip


def sex_observation(loinc: str, value: Json, *, id: str = "sex-obs", **extra: Any) -> Json:
    """An Observation of sex assigned at birth (76689-9) or sex (46098-0)."""
    return {
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": SUBJECT,
        "effectiveDateTime": "2024-01-01",
        "valueCodeableConcept": {"coding": [value]},
        **extra,
    }
