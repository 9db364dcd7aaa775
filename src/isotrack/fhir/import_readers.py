"""One reader per command type: the fields of a command, read from the FHIR
resource :mod:`isotrack.fhir.export` wrote for it (and from its command extension
for the fields FHIR has no element for).

:data:`READERS` maps a command type to the resource types that carry it and its
reader; a reader raises :class:`MissingElementError` naming an element it needs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from isotrack.fhir.command_extension import CommandStamp
from isotrack.fhir.export_values import (
    ISOTRACK_ANALYTE,
    ISOTRACK_AUTHORIZATION,
    ISOTRACK_CAPABILITY,
    ISOTRACK_COURSE,
    ISOTRACK_METHOD,
    ISOTRACK_OBSERVATION,
    ISOTRACK_PATIENT,
    ISOTRACK_PREGNANCY_STATUS,
    ISOTRACK_PRESCRIPTION,
    ISOTRACK_PRODUCT,
    ISOTRACK_RULE,
    ISOTRACK_SYMPTOM,
    ISOTRACK_WORK_ITEM,
    LESION_PARTS,
    RESULTS,
    TEST_SETTING,
    Resource,
)

Fields = dict[str, Any]
_RESULT_OF = {code: str(result) for result, (code, _) in RESULTS.items()}


class MissingElementError(Exception):
    """An element a command needs is not in the resource."""


# --- reading elements ------------------------------------------------------------------
def _at(resource: Resource, *path: str | int) -> Any:
    value: Any = resource
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            shown = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path)
            raise MissingElementError(f"{resource.get('resourceType')}.{shown}") from None
    return value


def _optional(resource: Resource, *path: str | int) -> Any:
    try:
        return _at(resource, *path)
    except MissingElementError:
        return None


def _code(concept: Any, system: str, where: str) -> str:
    for coding in concept.get("coding", ()) if isinstance(concept, dict) else ():
        if isinstance(coding, dict) and coding.get("system") == system:
            return str(coding.get("code"))
    raise MissingElementError(f"{where} coding of {system}")


def _field(stamp: CommandStamp, name: str, default: Any = None) -> Any:
    values = stamp.fields.get(name)
    if values is None:
        if default is None:
            raise MissingElementError(f"command extension field {name!r}")
        return default
    return values[0]


def _optional_field(stamp: CommandStamp, name: str) -> Any:
    values = stamp.fields.get(name)
    return None if values is None else values[0]


def _note(resource: Resource) -> str:
    return str(_optional(resource, "note", 0, "text") or "")


def _identifier(resource: Resource, system: str) -> str:
    for identifier in resource.get("identifier") or ():
        if isinstance(identifier, dict) and identifier.get("system") == system:
            return str(identifier.get("value"))
    raise MissingElementError(f"{resource.get('resourceType')}.identifier of {system}")


# --- one reader per command type -------------------------------------------------------
def _enrol(resource: Resource, stamp: CommandStamp) -> Fields:
    return {
        "on": _field(stamp, "on"),
        "patient_id": _identifier(resource, ISOTRACK_PATIENT),
        "name": _at(resource, "name", 0, "text"),
        "birth_date": _at(resource, "birthDate"),
        "sex": _at(resource, "gender"),
        "pregnancy_capability": _optional_field(stamp, "pregnancy_capability"),
        "capability_reason": _field(stamp, "capability_reason", ""),
        "programme": _optional_field(stamp, "programme"),
    }


def _effective(resource: Resource) -> Fields:
    return {"on": _at(resource, "effectiveDateTime")}


def _capability(resource: Resource, _: CommandStamp) -> Fields:
    value = _at(resource, "valueCodeableConcept")
    capability = _code(value, ISOTRACK_CAPABILITY, "Observation.valueCodeableConcept")
    return {**_effective(resource), "capability": capability, "reason": _note(resource)}


def _weight(resource: Resource, _: CommandStamp) -> Fields:
    value = _at(resource, "valueQuantity")
    return {**_effective(resource), "value": _at(value, "value"), "unit": _at(value, "unit")}


def _lab(resource: Resource, stamp: CommandStamp) -> Fields:
    value = _at(resource, "valueQuantity")
    return {
        **_effective(resource),
        "analyte": _code(_at(resource, "code"), ISOTRACK_ANALYTE, "Observation.code"),
        "value": _at(value, "value"),
        "unit": _at(value, "unit"),
        "reference_high": _optional(resource, "referenceRange", 0, "high", "value"),
        "code": _field(stamp, "code", ""),
    }


def _pregnancy_test(resource: Resource, _: CommandStamp) -> Fields:
    value = _at(resource, "valueCodeableConcept")
    code = _code(value, "http://snomed.info/sct", "Observation.valueCodeableConcept")
    setting = "medical"
    for category in resource.get("category") or ():
        for coding in category.get("coding", ()) if isinstance(category, dict) else ():
            if isinstance(coding, dict) and coding.get("system") == TEST_SETTING:
                setting = str(coding.get("code"))
    return {**_effective(resource), "result": _RESULT_OF.get(code, code), "setting": setting}


def _pregnancy_status(resource: Resource, _: CommandStamp) -> Fields:
    value = _at(resource, "valueCodeableConcept")
    status = _code(value, ISOTRACK_PREGNANCY_STATUS, "Observation.valueCodeableConcept")
    return {**_effective(resource), "status": status, "note": str(value.get("text") or "")}


def _phq9(resource: Resource, _: CommandStamp) -> Fields:
    item9 = _optional(resource, "component", 0, "valueInteger")
    return {**_effective(resource), "total": _at(resource, "valueInteger"), "item9": item9}


def _lesions(resource: Resource, _: CommandStamp) -> Fields:
    parts: Fields = {}
    for component in resource.get("component") or ():
        part = _code(_at(component, "code"), ISOTRACK_OBSERVATION, "Observation.component.code")
        if part in LESION_PARTS:
            parts[part] = _at(component, "valueInteger")
    return {**_effective(resource), **parts}


def _symptoms(resource: Resource, _: CommandStamp) -> Fields:
    symptoms = [
        _code(_at(component, "code"), ISOTRACK_SYMPTOM, "Observation.component.code")
        for component in resource.get("component") or ()
    ]
    return {**_effective(resource), "symptoms": symptoms, "note": _note(resource)}


def _method(resource: Resource) -> str:
    concept = resource.get("medicationCodeableConcept") or resource.get("code")
    return _code(concept, ISOTRACK_METHOD, f"{resource.get('resourceType')} medication or code")


def _start_contraception(resource: Resource, _: CommandStamp) -> Fields:
    if resource.get("resourceType") == "Procedure":
        on = _at(resource, "performedDateTime")
    else:
        on = _at(resource, "effectivePeriod", "start")
    return {"on": on, "method": _method(resource)}


def _stop_contraception(resource: Resource, _: CommandStamp) -> Fields:
    if resource.get("resourceType") == "Procedure":
        on = _at(resource, "performedDateTime")
    else:
        on = _at(resource, "effectivePeriod", "end")
    return {"on": on, "method": _method(resource)}


def _start_course(resource: Resource, stamp: CommandStamp) -> Fields:
    product = _at(resource, "activity", 0, "detail", "productCodeableConcept")
    return {
        "on": _at(resource, "period", "start"),
        "course_id": _identifier(resource, ISOTRACK_COURSE),
        "product": _code(product, ISOTRACK_PRODUCT, "CarePlan.activity.detail.product"),
        "target_mg_per_kg": _optional_field(stamp, "target_mg_per_kg"),
    }


def _pause(_: Resource, stamp: CommandStamp) -> Fields:
    return {"on": _field(stamp, "on"), "reason": _field(stamp, "reason")}


def _resume(_: Resource, stamp: CommandStamp) -> Fields:
    return {"on": _field(stamp, "on")}


def _change_dose(_: Resource, stamp: CommandStamp) -> Fields:
    return {
        "on": _field(stamp, "on"),
        "dose_mg": _field(stamp, "dose_mg"),
        "times_per_day": _field(stamp, "times_per_day"),
        "override_reason": _field(stamp, "override_reason", ""),
    }


def _end_course(resource: Resource, stamp: CommandStamp) -> Fields:
    return {"on": _at(resource, "period", "end"), "reason": _field(stamp, "reason")}


def _prescribe(resource: Resource, stamp: CommandStamp) -> Fields:
    """The prescription; its regimen, dose and times a day from the command extension
    (an export before regimens has one dosage instruction that gives them)."""
    dosage = _at(resource, "dosageInstruction", 0)
    supply = _at(resource, "dispenseRequest")
    regimen = _optional_field(stamp, "regimen")
    return {
        "on": _at(resource, "authoredOn"),
        "prescription_id": _identifier(resource, ISOTRACK_PRESCRIPTION),
        "dose_mg": _optional_field(stamp, "dose_mg")
        or _at(dosage, "doseAndRate", 0, "doseQuantity", "value"),
        "times_per_day": _optional_field(stamp, "times_per_day")
        or _at(dosage, "timing", "repeat", "frequency"),
        "strength_mg": _field(stamp, "strength_mg"),
        "quantity": _at(supply, "quantity", "value"),
        "supply_days": _at(supply, "expectedSupplyDuration", "value"),
        "override_reason": _field(stamp, "override_reason", ""),
        "regimen": json.loads(regimen) if isinstance(regimen, str) else None,
    }


def _dispense(resource: Resource, _: CommandStamp) -> Fields:
    return {
        "on": _at(resource, "whenHandedOver"),
        "prescription_id": _at(resource, "authorizingPrescription", 0, "identifier", "value"),
        "quantity": _at(resource, "quantity", "value"),
    }


def _missed(resource: Resource, stamp: CommandStamp) -> Fields:
    days = stamp.fields.get("days")
    if not days:
        raise MissingElementError("command extension field 'days'")
    return {"on": _at(resource, "dateAsserted"), "days": days}


def _override(resource: Resource, _: CommandStamp) -> Fields:
    return {
        "on": _at(resource, "identifiedDateTime"),
        "rule_id": _code(_at(resource, "code"), ISOTRACK_RULE, "DetectedIssue.code"),
        "reason": _at(resource, "detail"),
    }


def _answers(resource: Resource, _: CommandStamp) -> Fields:
    answers = [
        (_at(item, "linkId"), _at(item, "answer", 0, "valueInteger"))
        for item in resource.get("item") or ()
    ]
    return {"on": _at(resource, "authored"), "answers": answers}


def _counselling(resource: Resource, _: CommandStamp) -> Fields:
    return {
        "on": _at(resource, "performedDateTime"),
        "topic": _at(resource, "code", "text"),
        "note": _note(resource),
    }


def _authorization(resource: Resource, _: CommandStamp) -> Fields:
    return {
        "on": _at(resource, "authoredOn"),
        "authorization_id": _identifier(resource, ISOTRACK_AUTHORIZATION),
        "prescription_id": _at(resource, "focus", "identifier", "value"),
        "not_after": _at(resource, "restriction", "period", "end"),
        "max_quantity": _at(resource, "input", 0, "valueQuantity", "value"),
    }


def _work_item(resource: Resource, _: CommandStamp) -> Fields:
    return {"on": _at(resource, "authoredOn"), "item": _identifier(resource, ISOTRACK_WORK_ITEM)}


def _assign(resource: Resource, stamp: CommandStamp) -> Fields:
    return {**_work_item(resource, stamp), "assignee": _at(resource, "owner", "display")}


def _step_note(resource: Resource, stamp: CommandStamp) -> Fields:
    return {**_work_item(resource, stamp), "note": _note(resource)}


READERS: dict[str, tuple[tuple[str, ...], Callable[[Resource, CommandStamp], Fields]]] = {
    "EnrolPatient": (("Patient",), _enrol),
    "RecordPregnancyCapability": (("Observation",), _capability),
    "RecordWeight": (("Observation",), _weight),
    "RecordLabResult": (("Observation",), _lab),
    "RecordPregnancyTest": (("Observation",), _pregnancy_test),
    "RecordPregnancyStatus": (("Observation",), _pregnancy_status),
    "RecordPHQ9": (("Observation",), _phq9),
    "RecordLesionCount": (("Observation",), _lesions),
    "RecordSymptoms": (("Observation",), _symptoms),
    "StartContraception": (("MedicationStatement", "Procedure"), _start_contraception),
    "StopContraception": (("MedicationStatement", "Procedure"), _stop_contraception),
    "StartCourse": (("CarePlan",), _start_course),
    "PauseCourse": (("CarePlan",), _pause),
    "ResumeCourse": (("CarePlan",), _resume),
    "ChangeDose": (("CarePlan",), _change_dose),
    "EndCourse": (("CarePlan",), _end_course),
    "Prescribe": (("MedicationRequest",), _prescribe),
    "Dispense": (("MedicationDispense",), _dispense),
    "RecordMissedDoses": (("MedicationStatement",), _missed),
    "RecordOverride": (("DetectedIssue",), _override),
    "RecordComprehensionAnswers": (("QuestionnaireResponse",), _answers),
    "RecordCounselling": (("Procedure",), _counselling),
    "RecordAuthorization": (("Task",), _authorization),
    "AssignWorkItem": (("Task",), _assign),
    "AcknowledgeWorkItem": (("Task",), _step_note),
    "ResolveWorkItem": (("Task",), _step_note),
}
