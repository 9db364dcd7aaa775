"""The vocabulary and small value builders of :mod:`isotrack.fhir.export` (and
:mod:`isotrack.fhir.import_record`, which reads back what export writes).

The ``urn:isotrack:*`` systems name what FHIR has no standard code or element
for: the rule a finding was overridden under, lesion counts, symptom reports,
where a pregnancy test was done, the pregnancy capability recorded in isotrack,
and isotrack's own ids (patient, course, prescription, authorisation, product,
analyte, contraception method, symptom).

:data:`COMMAND_EXTENSION` is the one StructureDefinition isotrack defines: it
says which command of the patient's log a resource stems from (its ``seq`` and
``type``), who recorded it and when, and holds the command's fields FHIR R4 has
no element for (a pause's reason, a target cumulative dose...), one
sub-extension per field named as the field. A resource that several commands
shaped (a course, a contraceptive method started then stopped) carries one per
command.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import msgspec

from isotrack.clinical.codes import RXNORM, SNOMED, SYSTEMS, UCUM
from isotrack.clinical.dosing import Regimen, administration_names
from isotrack.clinical.screening import REMOVAL_SUFFIX
from isotrack.clinical.snapshot import TestResult
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import ContraceptionMethod

Resource = dict[str, Any]

ISOTRACK_RULE = "urn:isotrack:rule"
ISOTRACK_OBSERVATION = "urn:isotrack:observation"
"""Codes of the record items FHIR has no standard code for (lesion counts)."""
TEST_SETTING = "urn:isotrack:test-setting"
CAPABILITY_EXTENSION = "urn:isotrack:pregnancy-capability"
CAPABILITY_REASON_EXTENSION = "urn:isotrack:pregnancy-capability-reason"
PROGRAMME_EXTENSION = "urn:isotrack:programme"
COMMAND_EXTENSION = "http://isotrack.org/fhir/StructureDefinition/command"
ISOTRACK_PATIENT = "urn:isotrack:patient"
ISOTRACK_COURSE = "urn:isotrack:course"
ISOTRACK_PRESCRIPTION = "urn:isotrack:prescription"
ISOTRACK_AUTHORIZATION = "urn:isotrack:authorization"
ISOTRACK_PRODUCT = "urn:isotrack:product"
ISOTRACK_ANALYTE = "urn:isotrack:analyte"
ISOTRACK_METHOD = "urn:isotrack:contraception-method"
ISOTRACK_SYMPTOM = "urn:isotrack:symptom"
ISOTRACK_CAPABILITY = "urn:isotrack:capability"
"""Codes of the pregnancy capability (``can-get-pregnant``, ``cannot-get-pregnant``)."""
ISOTRACK_PREGNANCY_STATUS = "urn:isotrack:pregnancy-status"
"""isotrack's pregnancy status as recorded (``pregnant``, ``not-pregnant``, ``unknown``),
next to its SNOMED CT and LOINC answer codes."""
ISOTRACK_TASK = "urn:isotrack:task"
"""Codes of isotrack's tasks (``dispense-authorization``) and their inputs (``max-quantity``)."""
ISOTRACK_WORK_ITEM = "urn:isotrack:work-item"
"""Ids of the items of the clinic's worklist ('symptoms-3')."""
ISOTRACK_QUESTIONNAIRE = "urn:isotrack:questionnaire:"
"""Prefix of a programme's comprehension questionnaire (followed by the programme id)."""
LESION_COUNT = "lesion-count"
SYMPTOM_REPORT = "symptom-report"
PREGNANCY_CAPABILITY = "pregnancy-capability"
DISPENSE_AUTHORIZATION = "dispense-authorization"
MAX_QUANTITY = "max-quantity"
WORK_STEP = "worklist-step"
WORK_STEP_STATUS = {"AssignWorkItem": "ready", "AcknowledgeWorkItem": "in-progress",
                    "ResolveWorkItem": "completed"}  # fmt: skip
"""The FHIR Task status of each clinician's step on a worklist item."""
LESION_PARTS = ("nodules", "inflammatory", "comedones")

CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ORAL = {"system": SNOMED, "code": "26643006", "display": "Oral route"}
COUNSELLING = {"system": SNOMED, "code": "409063005", "display": "Counseling"}
ISOTRETINOIN = {"system": RXNORM, "code": "6064", "display": "isotretinoin"}
RESULTS = {
    TestResult.POSITIVE: ("10828004", "Positive"),
    TestResult.NEGATIVE: ("260385009", "Negative"),
    TestResult.INDETERMINATE: ("82334004", "Indeterminate"),
}
"""SNOMED CT qualifier values: how FHIR says the result of a qualitative test."""
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}\Z")
_UCUM_UNITS = {"kg": "kg", "mg/dL": "mg/dL", "U/L": "U/L", "mg": "mg", "d": "d"}


def patient_resource_id(patient_id: str) -> str:
    """The Patient resource id: the isotrack id when FHIR allows it, else a stable uuid."""
    if _FHIR_ID.match(patient_id):
        return patient_id
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"isotrack:{patient_id}:Patient:"))


def coding(system: str, code: str, display: str | None = None) -> Resource:
    coding: Resource = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def quantity(value: float, unit: str) -> Resource:
    number: int | float = int(value) if float(value).is_integer() else value
    quantity: Resource = {"value": number, "unit": unit}
    if unit in _UCUM_UNITS:
        quantity |= {"system": UCUM, "code": _UCUM_UNITS[unit]}
    return quantity


def capsules(count: int) -> Resource:
    return {"value": count, "unit": "capsule", "system": UCUM, "code": "{capsule}"}


def _identifying(method: ContraceptionMethod) -> list[str]:
    return [v for v in method.valuesets if not v.endswith(REMOVAL_SUFFIX)]


def method_codes(method: ContraceptionMethod, kb: KnowledgeBase, system: str) -> Resource | None:
    """The method's first code of ``system`` as a CodeableConcept, if it has one."""
    for valueset_id in _identifying(method):
        for code in kb.valueset(valueset_id).codes:
            if code.system == system:
                return {"coding": [coding(SYSTEMS[system], code.code, code.display)]}
    return None


def removal_code(method: ContraceptionMethod, kb: KnowledgeBase) -> Resource | None:
    for valueset_id in method.valuesets:
        if valueset_id.endswith(REMOVAL_SUFFIX):
            for code in kb.valueset(valueset_id).codes:
                return {"coding": [coding(SYSTEMS[code.system], code.code, code.display)]}
    return None


def method_text(method: ContraceptionMethod, kb: KnowledgeBase) -> str:
    """Words that name the method (its value set's first fragment, which the reader knows)."""
    for valueset_id in _identifying(method):
        fragments = kb.valueset(valueset_id).text
        if fragments:
            return fragments[0]
    return method.name


EVENT_TIMING = {"morning": "MORN", "evening": "EVE"}
"""FHIR event timing codes (http://hl7.org/fhir/event-timing) of the named
administrations of a regimen."""


def regimen_dosages(regimen: Regimen, route: Resource | None) -> list[Resource]:
    """One R4 ``dosageInstruction`` per administration of ``regimen`` (morning 30 mg,
    evening 25 mg), each once a day with its dose in mg and its capsules in the text;
    read back as one day by :mod:`isotrack.fhir.dosage`."""
    dosages = []
    names = administration_names(regimen.times_per_day)
    for number, (name, dose) in enumerate(zip(names, regimen.doses, strict=True), start=1):
        repeat: Resource = {"frequency": 1, "period": 1, "periodUnit": "d"}
        if name in EVENT_TIMING:
            repeat["when"] = [EVENT_TIMING[name]]
        dosage: Resource = {
            "sequence": number,
            "text": f"{name}: {dose.describe()} by mouth",
            "timing": {"repeat": repeat},
        }
        if route is not None:
            dosage["route"] = route
        dosage["doseAndRate"] = [{"doseQuantity": quantity(dose.total_mg, "mg")}]
        dosages.append(dosage)
    return dosages


def encode_regimen(regimen: Regimen | None) -> str | None:
    """A prescription's regimen as the JSON its command holds (for the command extension)."""
    return None if regimen is None else msgspec.json.encode(regimen).decode("utf-8")
