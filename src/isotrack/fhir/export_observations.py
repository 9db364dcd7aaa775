"""The commands that record a measurement or a report, as FHIR R4 Observations.

LOINC where a standard code exists (the first LOINC code of the knowledge base's
value set: body weight 29463-7, hCG, PHQ-9 total 44261-6 with item 9 44260-8 as a
component, pregnancy status 82810-3 valued in SNOMED CT and LOINC answers as US Core
and IPS write it; a lab result its own LOINC code, else its analyte's first one),
SNOMED CT for a qualitative test result, and isotrack's own codes
(``urn:isotrack:observation``) where none does: lesion counts, symptom reports
(each symptom ``urn:isotrack:symptom``) and the pregnancy capability. Each
Observation keeps the command's own value and unit (a weight given in lb stays in
lb), so the command comes back unchanged.
"""

from __future__ import annotations

from isotrack.clinical.codes import SNOMED, SYSTEMS
from isotrack.clinical.snapshot import TestResult
from isotrack.clinical.state import (
    AnyCommand,
    RecordLabResult,
    RecordLesionCount,
    RecordPHQ9,
    RecordPregnancyCapability,
    RecordPregnancyStatus,
    RecordPregnancyTest,
    RecordSymptoms,
    RecordWeight,
)
from isotrack.fhir.export_values import (
    CATEGORY,
    ISOTRACK_ANALYTE,
    ISOTRACK_CAPABILITY,
    ISOTRACK_OBSERVATION,
    ISOTRACK_PREGNANCY_STATUS,
    ISOTRACK_SYMPTOM,
    LESION_COUNT,
    LESION_PARTS,
    PREGNANCY_CAPABILITY,
    RESULTS,
    SYMPTOM_REPORT,
    TEST_SETTING,
    Resource,
    coding,
    quantity,
)
from isotrack.knowledge.base import KnowledgeBase


def observation_of(command: AnyCommand, kb: KnowledgeBase) -> tuple[str, Resource] | None:
    """("Observation", the resource without its subject) for a command that records
    an observation; None for any other command."""
    match command:
        case RecordWeight():
            body = _observation(
                "vital-signs", first_code(kb, "body-weight"), command,
                valueQuantity=quantity(command.value, command.unit),
            )  # fmt: skip
        case RecordLabResult():
            body = _lab(command, kb)
        case RecordPregnancyTest():
            body = _pregnancy_test(command, kb)
        case RecordPregnancyStatus():
            body = _pregnancy_status(command, kb)
        case RecordPHQ9():
            extra: Resource = {}
            if command.item9 is not None:
                item9 = first_code(kb, "phq9-item9")
                extra["component"] = [{"code": item9, "valueInteger": command.item9}]
            body = _observation(
                "survey", first_code(kb, "phq9-total"), command,
                valueInteger=command.total, **extra,
            )  # fmt: skip
        case RecordLesionCount():
            body = _lesion_count(command)
        case RecordSymptoms():
            body = _symptoms(command, kb)
        case RecordPregnancyCapability():
            body = _observation(
                "social-history", _isotrack_code(PREGNANCY_CAPABILITY, "Pregnancy capability"),
                command,
                valueCodeableConcept={"coding": [coding(ISOTRACK_CAPABILITY, command.capability)]},
            )  # fmt: skip
            if command.reason:
                body["note"] = [{"text": command.reason}]
        case _:
            return None
    return "Observation", body


def first_code(kb: KnowledgeBase, valueset_id: str, system: str = "loinc") -> Resource:
    """The value set's first code of ``system`` as a CodeableConcept (else its description)."""
    valueset = kb.valueset(valueset_id)
    for code in valueset.codes:
        if code.system == system:
            return {"coding": [coding(SYSTEMS[system], code.code, code.display)]}
    return {"text": valueset.description}


def own_code(kb: KnowledgeBase, valueset_id: str, code: str) -> Resource | None:
    """The LOINC coding (with its display) of ``code`` in the value set, if it is there."""
    for listed in kb.valueset(valueset_id).codes:
        if listed.system == "loinc" and listed.code == code:
            return coding(SYSTEMS["loinc"], listed.code, listed.display)
    return None


def _observation(category: str, code: Resource, command: AnyCommand, **values: object) -> Resource:
    return {
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": category}]}],
        "code": code,
        "effectiveDateTime": command.on.isoformat(),
        **values,
    }


def _isotrack_code(code: str, text: str) -> Resource:
    return {"coding": [coding(ISOTRACK_OBSERVATION, code)], "text": text}


def observation_fields(command: AnyCommand) -> dict[str, str | None]:
    """The command's fields an exported Observation keeps in its command extension (the
    LOINC code a lab result came with: ``Observation.code`` alone cannot tell an own code
    from the analyte's default one)."""
    if isinstance(command, RecordLabResult):
        return {"code": command.code or None}
    return {}


def _lab(command: RecordLabResult, kb: KnowledgeBase) -> Resource:
    valueset = f"lab-{command.analyte}"
    known = {v.id for v in kb.valuesets}
    code = first_code(kb, valueset) if valueset in known else {"text": command.analyte}
    if command.code:
        own = own_code(kb, valueset, command.code) if valueset in known else None
        code = {"coding": [own or coding(SYSTEMS["loinc"], command.code)]}
    code = {**code, "coding": [*code.get("coding", ()), coding(ISOTRACK_ANALYTE, command.analyte)]}
    extra: Resource = {}
    if command.reference_high is not None:
        extra["referenceRange"] = [{"high": quantity(command.reference_high, command.unit)}]
    return _observation(
        "laboratory", code, command, valueQuantity=quantity(command.value, command.unit), **extra
    )


def _pregnancy_test(command: RecordPregnancyTest, kb: KnowledgeBase) -> Resource:
    code, display = RESULTS[TestResult(command.result)]
    body = _observation(
        "laboratory",
        first_code(kb, "pregnancy-test-hcg"),
        command,
        valueCodeableConcept={"coding": [coding(SNOMED, code, display)], "text": display},
    )
    if command.setting != "medical":
        # Only a laboratory test is a medical one: say where the others were done.
        body["category"] = [{"coding": [{"system": TEST_SETTING, "code": command.setting}]}]
    return body


_STATUS_VALUESETS = {
    "pregnant": "pregnancy-status-pregnant",
    "not-pregnant": "pregnancy-status-not-pregnant",
    "unknown": "pregnancy-status-unknown",
}


def _pregnancy_status(command: RecordPregnancyStatus, kb: KnowledgeBase) -> Resource:
    """US Core / IPS pregnancy status: the value set's first SNOMED CT and LOINC answer
    codes, and isotrack's own code (read back exactly); the note is the value's text."""
    valueset = kb.valueset(_STATUS_VALUESETS[command.status])
    codings = [coding(ISOTRACK_PREGNANCY_STATUS, command.status)]
    for system in ("snomed", "loinc"):
        code = next((c for c in valueset.codes if c.system == system), None)
        if code is not None:
            codings.append(coding(SYSTEMS[system], code.code, code.display))
    value: Resource = {"coding": codings}
    if command.note:
        value["text"] = command.note
    return _observation(
        "social-history", first_code(kb, "pregnancy-status-observation"), command,
        valueCodeableConcept=value,
    )  # fmt: skip


def _lesion_count(command: RecordLesionCount) -> Resource:
    components = [
        {
            "code": {"coding": [{"system": ISOTRACK_OBSERVATION, "code": part}]},
            "valueInteger": getattr(command, part),
        }
        for part in LESION_PARTS
        if getattr(command, part) is not None
    ]
    return _observation(
        "exam", _isotrack_code(LESION_COUNT, "Acne lesion counts"), command, component=components
    )


def _symptoms(command: RecordSymptoms, kb: KnowledgeBase) -> Resource:
    known = {s.id: s.text for s in kb.symptoms}
    body = _observation(
        "survey",
        _isotrack_code(SYMPTOM_REPORT, "Symptoms reported by the patient"),
        command,
        component=[
            {
                "code": {"coding": [coding(ISOTRACK_SYMPTOM, symptom, known.get(symptom))]},
                "valueBoolean": True,
            }
            for symptom in command.symptoms
        ],
    )
    if command.note:
        body["note"] = [{"text": command.note}]
    return body
