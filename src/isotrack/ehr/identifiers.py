"""Which of the EHR Patient's identifiers a link is made by: the medical record number
(an identifier typed ``MR`` in HL7 v2 table 0203) when the EHR gives one, else its
first identifier with a system and a value, else the Patient's logical id in the
EHR's own namespace (``<FHIR base>/Patient``). A social security, driving licence
or passport number (``SS``, ``DL``, ``PPN``…) is never used: a link
should not copy more than it needs.

>>> from isotrack.fhir import decode_bundle
>>> from isotrack.fhir.decode import join_bundles
>>> from isotrack.ehr.reading import EhrRecord
>>> patient = {"resourceType": "Patient", "id": "p1", "identifier": [
...     {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-55-5484",
...      "type": {"coding": [{"system": V2_0203, "code": "SS"}]}},
...     {"system": "https://hospital.example/mrn", "value": "MRN-7",
...      "type": {"coding": [{"system": V2_0203, "code": "MR"}]}}]}
>>> record = EhrRecord("https://ehr.example/fhir", "p1", patient, (patient,),
...     join_bundles([decode_bundle(patient)]), ())
>>> link_identifier(record)
('https://hospital.example/mrn', 'MRN-7')
"""

from __future__ import annotations

from typing import Any

from isotrack.ehr.reading import EhrRecord

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
MEDICAL_RECORD_NUMBER = "MR"
NEVER_LINKED_BY = frozenset({"SS", "SB", "DL", "PPN", "TAX", "NI"})
"""National, tax, licence and passport numbers: never copied into a link."""


def link_identifier(record: EhrRecord) -> tuple[str, str]:
    """(system, value) of the identifier the EHR patient is linked by."""
    usable = [i for i in _identifiers(record.patient) if _types(i).isdisjoint(NEVER_LINKED_BY)]
    for identifier in usable:
        if MEDICAL_RECORD_NUMBER in _types(identifier):
            return identifier["system"], identifier["value"]
    if usable:
        return usable[0]["system"], usable[0]["value"]
    return f"{record.fhir_base}/Patient", record.ehr_patient_id


def _identifiers(patient: dict[str, Any]) -> list[dict[str, Any]]:
    found = patient.get("identifier")
    return [
        i
        for i in (found if isinstance(found, list) else [])
        if isinstance(i, dict)
        and isinstance(i.get("system"), str)
        and isinstance(i.get("value"), str)
        and i["system"]
        and i["value"]
        and len(i["system"]) <= 500
        and len(i["value"]) <= 200
    ]


def _types(identifier: dict[str, Any]) -> set[str]:
    kind = identifier.get("type")
    codings = kind.get("coding") if isinstance(kind, dict) else None
    return {
        str(c.get("code"))
        for c in (codings if isinstance(codings, list) else [])
        if isinstance(c, dict) and c.get("system") == V2_0203
    }
