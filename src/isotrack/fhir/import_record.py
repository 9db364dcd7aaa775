"""A FHIR R4 Bundle in as commands that create or update a patient's record.

The Bundle is read by the same reader as every other FHIR input
(:func:`isotrack.fhir.snapshot_from_bundle`); its weights, lab results,
pregnancy tests, contraception and PHQ-9 screens, plus the lesion counts that
:mod:`isotrack.fhir.export` writes with isotrack codes, become commands. What
the existing record already holds is skipped, so importing the same Bundle
twice adds nothing the second time. Prescriptions, dispenses and overrides in
the Bundle are not imported: a course is started and prescribed in isotrack.

The commands come out in date order (``EnrolPatient`` first for a new
patient); the caller applies them through the aggregate, which refuses one
dated after the import day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import msgspec

from isotrack.clinical.commands import (
    AnyCommand,
    CapabilityName,
    EnrolPatient,
    RecordLabResult,
    RecordLesionCount,
    RecordPHQ9,
    RecordPregnancyCapability,
    RecordPregnancyTest,
    RecordWeight,
    SexName,
    StartContraception,
    StopContraception,
    TestResultName,
    TestSettingName,
)
from isotrack.clinical.record_state import PatientRecord
from isotrack.clinical.snapshot import ContraceptionUse, PatientSnapshot
from isotrack.errors import InvalidInputError
from isotrack.fhir.decode import FhirBundle
from isotrack.fhir.export_values import (
    CAPABILITY_EXTENSION,
    CAPABILITY_REASON_EXTENSION,
    ISOTRACK_OBSERVATION,
    LESION_COUNT,
    LESION_PARTS,
    PROGRAMME_EXTENSION,
    TEST_SETTING,
    patient_resource_id,
)
from isotrack.fhir.resources import CodeableConcept, Observation, Patient
from isotrack.fhir.snapshot import snapshot_from_bundle
from isotrack.fhir.values import fhir_date
from isotrack.knowledge.base import KnowledgeBase

ISOTRACK_PATIENT = "urn:isotrack:patient"
_SEXES: tuple[SexName, ...] = ("female", "male", "other", "unknown")
_CAPABILITIES: tuple[CapabilityName, ...] = ("can-get-pregnant", "cannot-get-pregnant")
_SETTINGS: tuple[TestSettingName, ...] = ("medical", "home", "unknown")


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What importing a Bundle would do to one patient."""

    patient_id: str
    """The isotrack patient created or updated."""
    commands: tuple[AnyCommand, ...]
    notes: tuple[str, ...]
    """What the reader skipped or assumed."""


def commands_from_bundle(
    bundle: FhirBundle,
    *,
    kb: KnowledgeBase,
    on: date,
    patient_id: str | None = None,
    existing: PatientRecord | None = None,
) -> list[AnyCommand]:
    """The commands that bring ``existing`` (None: a new patient) up to the Bundle."""
    plan = plan_import(bundle, kb=kb, on=on, patient_id=patient_id, existing=existing)
    return list(plan.commands)


def plan_import(
    bundle: FhirBundle,
    *,
    kb: KnowledgeBase,
    on: date,
    patient_id: str | None = None,
    existing: PatientRecord | None = None,
) -> ImportPlan:
    """The patient id, the commands and the reader's notes of an import.

    ``patient_id`` is the isotrack id to create or update (default: the id the
    Bundle's Patient carries); with ``existing`` it is that record's id. A
    Bundle with several patients must hold one with that id."""
    target = existing.patient_id if existing is not None else patient_id
    source_id = _source_patient(bundle, target)
    snapshot = snapshot_from_bundle(bundle, kb=kb, patient_id=source_id, on=on)
    raw = _raw_patient(bundle, snapshot.patient_id)
    target = target or _identifier(raw) or snapshot.patient_id
    head: list[AnyCommand] = []
    if existing is None:
        head.append(_enrol(snapshot, raw, target, on))
    else:
        head.extend(_capability_update(existing, raw, on))
    body = [
        *_weights(snapshot, existing),
        *_labs(snapshot, existing),
        *_pregnancy_tests(snapshot, existing, bundle),
        *_mood_screens(snapshot, existing),
        *_lesion_counts(bundle, snapshot.patient_id, existing),
        *_contraception(snapshot.contraception, existing),
    ]
    body.sort(key=lambda command: command.on)  # stable: a method starts before it stops
    return ImportPlan(target, (*head, *body), snapshot.notes)


# --- the patient ----------------------------------------------------------------------
def target_patient_id(bundle: FhirBundle, patient_id: str | None = None) -> str:
    """The isotrack id an import creates or updates: ``patient_id`` when given, else
    the id the Bundle's only Patient carries (its isotrack identifier, else its id)."""
    if patient_id is not None:
        return patient_id
    patients = bundle.of_type(Patient)
    if len(patients) != 1:
        held = f"{len(patients)} patients" if patients else "no Patient resource"
        raise InvalidInputError("--patient", f"the bundle holds {held}: say which patient")
    found = patients[0].id
    raw = _raw_patient(bundle, found or "")
    target = _identifier(raw) or found
    if not target:
        raise InvalidInputError("--patient", "the bundle's Patient has no id: give one")
    return target


def _source_patient(bundle: FhirBundle, target: str | None) -> str | None:
    """The id of the Bundle's Patient to read (None: the Bundle's only patient)."""
    if target is None:
        return None
    patients = bundle.of_type(Patient)
    for patient in patients:
        raw = _raw_patient(bundle, patient.id or "")
        if patient.id == patient_resource_id(target) or _identifier(raw) == target:
            return patient.id
    if len(patients) > 1:
        raise InvalidInputError(
            "--patient", f"the bundle holds {len(patients)} patients and none is {target!r}"
        )
    return patients[0].id if patients else target


def _raw_patient(bundle: FhirBundle, resource_id: str) -> dict[str, Any]:
    for entry in bundle.entries:
        resource = entry.resource
        if isinstance(resource, Patient) and resource.id == resource_id:
            return cast(dict[str, Any], msgspec.json.decode(entry.raw))
    return {}


def _identifier(raw: dict[str, Any]) -> str | None:
    for identifier in raw.get("identifier") or ():
        if isinstance(identifier, dict) and identifier.get("system") == ISOTRACK_PATIENT:
            value = identifier.get("value")
            return value if isinstance(value, str) and value else None
    return None


def _name(raw: dict[str, Any]) -> str:
    for name in raw.get("name") or ():
        if not isinstance(name, dict):
            continue
        if isinstance(name.get("text"), str) and name["text"].strip():
            return str(name["text"]).strip()
        given = [g for g in name.get("given") or () if isinstance(g, str)]
        family = name.get("family")
        if isinstance(family, str):
            given.append(family)
        words = " ".join(given).strip()
        if words:
            return words
    return ""


def _extension(raw: dict[str, Any], url: str, key: str) -> str | None:
    for extension in raw.get("extension") or ():
        if isinstance(extension, dict) and extension.get("url") == url:
            value = extension.get(key)
            return value if isinstance(value, str) else None
    return None


def _capability(raw: dict[str, Any]) -> tuple[CapabilityName | None, str]:
    code = _extension(raw, CAPABILITY_EXTENSION, "valueCode")
    reason = _extension(raw, CAPABILITY_REASON_EXTENSION, "valueString") or ""
    known = next((c for c in _CAPABILITIES if c == code), None)
    return known, reason


def _enrol(snapshot: PatientSnapshot, raw: dict[str, Any], target: str, on: date) -> EnrolPatient:
    if snapshot.birth_date is None:
        raise InvalidInputError("Patient.birthDate", "a new patient needs a birth date")
    name = _name(raw)
    if not name:
        raise InvalidInputError("Patient.name", "a new patient needs a name")
    capability, reason = _capability(raw)
    sex: SexName = next((s for s in _SEXES if s == snapshot.sex.value), "unknown")
    return EnrolPatient(
        on=on,
        patient_id=target,
        name=name,
        birth_date=snapshot.birth_date,
        sex=sex,
        pregnancy_capability=capability,
        capability_reason=reason,
        programme=_extension(raw, PROGRAMME_EXTENSION, "valueCode"),
    )


def _capability_update(existing: PatientRecord, raw: dict[str, Any], on: date) -> list[AnyCommand]:
    capability, reason = _capability(raw)
    if capability is None or capability == existing.pregnancy_capability:
        return []
    return [RecordPregnancyCapability(on=on, capability=capability, reason=reason)]


# --- observations ---------------------------------------------------------------------
def _new(key: object, seen: set[object]) -> bool:
    """True the first time ``key`` is met (the existing record's keys are seen already)."""
    if key in seen:
        return False
    seen.add(key)
    return True


def _weights(snapshot: PatientSnapshot, existing: PatientRecord | None) -> list[AnyCommand]:
    seen: set[object] = {(w.on, round(w.kg, 3)) for w in existing.weights} if existing else set()
    return [
        RecordWeight(on=w.on, value=w.kg, unit="kg")
        for w in sorted(snapshot.weights, key=lambda w: w.on)
        if _new((w.on, round(w.kg, 3)), seen)
    ]


def _labs(snapshot: PatientSnapshot, existing: PatientRecord | None) -> list[AnyCommand]:
    seen: set[object] = (
        {(lab.analyte, lab.on, round(lab.value, 3)) for lab in existing.labs} if existing else set()
    )
    return [
        RecordLabResult(
            on=lab.on,
            analyte=lab.analyte,
            value=lab.value,
            unit=lab.unit,
            reference_high=lab.reference_high,
        )
        for lab in sorted(snapshot.labs, key=lambda lab: (lab.on, lab.analyte))
        if _new((lab.analyte, lab.on, round(lab.value, 3)), seen)
    ]


def _settings(bundle: FhirBundle) -> dict[str, TestSettingName]:
    """Observation label → the isotrack test setting written in its category."""
    found: dict[str, TestSettingName] = {}
    for observation in bundle.of_type(Observation):
        for category in observation.category:
            for coding in category.coding:
                setting = next((s for s in _SETTINGS if s == coding.code), None)
                if coding.system == TEST_SETTING and setting is not None:
                    found[f"Observation/{observation.id}"] = setting
    return found


def _pregnancy_tests(
    snapshot: PatientSnapshot, existing: PatientRecord | None, bundle: FhirBundle
) -> list[AnyCommand]:
    seen: set[object] = {(t.on, t.result) for t in existing.pregnancy_tests} if existing else set()
    settings = _settings(bundle)
    commands: list[AnyCommand] = []
    for test in sorted(snapshot.pregnancy_tests, key=lambda t: t.on):
        if _new((test.on, test.result), seen):
            setting = settings.get(test.source) or cast(TestSettingName, test.setting.value)
            result = cast(TestResultName, test.result.value)
            commands.append(RecordPregnancyTest(on=test.on, result=result, setting=setting))
    return commands


def _mood_screens(snapshot: PatientSnapshot, existing: PatientRecord | None) -> list[AnyCommand]:
    seen: set[object] = (
        {(m.on, m.phq9_total, m.item9) for m in existing.mood_screens} if existing else set()
    )
    return [
        RecordPHQ9(on=m.on, total=m.phq9_total, item9=m.item9)
        for m in sorted(snapshot.mood_screens, key=lambda m: m.on)
        if _new((m.on, m.phq9_total, m.item9), seen)
    ]


def _is_lesion_count(code: CodeableConcept | None, part: str = LESION_COUNT) -> bool:
    return code is not None and any(
        c.system == ISOTRACK_OBSERVATION and c.code == part for c in code.coding
    )


def _lesion_counts(
    bundle: FhirBundle, patient_id: str, existing: PatientRecord | None
) -> list[AnyCommand]:
    seen: set[object] = (
        {(c.on, c.nodules, c.inflammatory, c.comedones) for c in existing.lesion_counts}
        if existing
        else set()
    )
    commands: list[AnyCommand] = []
    for observation in bundle.of_type(Observation):
        if not _is_lesion_count(observation.code) or observation.status == "entered-in-error":
            continue
        if not bundle.refers_to(observation.subject, "Patient", patient_id):
            continue
        label = f"Observation/{observation.id}"
        on = fhir_date(observation.effective_date_time, f"{label} effectiveDateTime")
        parts: dict[str, int | None] = dict.fromkeys(LESION_PARTS)
        for component in observation.component:
            for part in LESION_PARTS:
                if _is_lesion_count(component.code, part):
                    parts[part] = component.value_integer
        nodules = parts["nodules"]
        if on is None or nodules is None:
            continue
        key = (on, nodules, parts["inflammatory"], parts["comedones"])
        if _new(key, seen):
            commands.append(
                RecordLesionCount(
                    on=on,
                    nodules=nodules,
                    inflammatory=parts["inflammatory"],
                    comedones=parts["comedones"],
                )
            )
    return commands


# --- contraception --------------------------------------------------------------------
def _contraception(
    uses: Iterable[ContraceptionUse], existing: PatientRecord | None
) -> list[AnyCommand]:
    """Start (and stop) each method the record does not already show in use."""
    held = list(existing.contraception) if existing is not None else []
    commands: list[AnyCommand] = []
    for use in sorted(uses, key=lambda u: (u.start or date.min, u.method)):
        if use.start is None:
            continue  # an undated method cannot be started; the reader's notes say so
        covering = next(
            (
                h
                for h in held
                if h.method == use.method
                and h.start is not None
                and h.start <= use.start
                and (h.end is None or h.end >= use.start)
            ),
            None,
        )
        if covering is None:
            commands.append(StartContraception(on=use.start, method=use.method))
            if use.end is not None:
                commands.append(StopContraception(on=use.end, method=use.method))
            held.append(use)
        elif covering.end is None and use.end is not None:
            commands.append(StopContraception(on=use.end, method=use.method))
            held[held.index(covering)] = use
    return commands
