"""A FHIR R4 Bundle in as commands that create or update a patient's record.

Two kinds of Bundle:

- one written by :mod:`isotrack.fhir.export` (its resources carry isotrack's
  command extension): the whole command log comes back, each command with who
  recorded it and when (:mod:`isotrack.fhir.import_log`), so the rebuilt record
  is the exported one. Into an existing record, only a later export of the same
  log adds its newer commands; a log that went its own way is read as a Bundle
  from elsewhere.
- any other (an EHR's): the Bundle is read by the same reader as every other
  FHIR input (:func:`isotrack.fhir.snapshot_from_bundle`); its weights, lab
  results, pregnancy tests, pregnancy statuses, contraception, PHQ-9 screens and
  isotrack lesion counts become commands (a pregnancy or lactation condition, which
  the record cannot hold, is named in the plan's notes), recorded now by whoever
  imports. What the existing record already holds is skipped, so importing the
  same Bundle twice adds nothing the second time. Prescriptions, dispenses and overrides of another
  system are not imported: a course is started and prescribed in isotrack.

The commands come out in the log's order, or in date order (``EnrolPatient``
first for a new patient); the caller applies them through the aggregate, which
refuses one dated after the import day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, cast

import msgspec

from isotrack.clinical.screening.pregnancy import sex_evidence
from isotrack.clinical.snapshot import PatientSnapshot, Sex
from isotrack.clinical.state import (
    AnyCommand,
    CapabilityName,
    EnrolPatient,
    PatientRecord,
    RecordPregnancyCapability,
    SexName,
)
from isotrack.errors import InvalidInputError
from isotrack.fhir.command_extension import CommandEntry, LoggedCommand
from isotrack.fhir.decode import FhirBundle
from isotrack.fhir.export_values import (
    CAPABILITY_EXTENSION,
    CAPABILITY_REASON_EXTENSION,
    ISOTRACK_PATIENT,
    PROGRAMME_EXTENSION,
    patient_resource_id,
)
from isotrack.fhir.import_log import continues, is_isotrack_export, logged_commands
from isotrack.fhir.import_observations import sourced_observations
from isotrack.fhir.import_unheld import unheld_notes
from isotrack.fhir.raw_json import objects
from isotrack.fhir.resources import Patient
from isotrack.fhir.snapshot import snapshot_from_bundle
from isotrack.knowledge.base import KnowledgeBase

_SEXES: tuple[SexName, ...] = ("female", "male", "other", "unknown")
_CAPABILITIES: tuple[CapabilityName, ...] = ("can-get-pregnant", "cannot-get-pregnant")


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What importing a Bundle would do to one patient."""

    patient_id: str
    """The isotrack patient created or updated."""
    commands: tuple[AnyCommand, ...]
    notes: tuple[str, ...]
    """What the reader skipped or assumed."""
    log: tuple[LoggedCommand, ...] = ()
    """For a Bundle from isotrack: the commands with who recorded them and when (in
    the order of ``commands``). Empty: the commands are recorded by the importer."""
    sources: tuple[str, ...] = ()
    """For a Bundle from elsewhere: the resource(s) each command was read from, in the
    order of ``commands`` (``Patient/1``, ``Observation/7``, or several joined by ", ")."""


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
    existing_log: Sequence[CommandEntry] = (),
) -> ImportPlan:
    """The patient id, the commands and the reader's notes of an import.

    ``patient_id`` is the isotrack id to create or update (default: the id the
    Bundle's Patient carries); with ``existing`` it is that record's id, and
    ``existing_log`` its stored command log. A Bundle with several patients must
    hold one with that id."""
    if is_isotrack_export(bundle):
        target = existing.patient_id if existing is not None else patient_id
        log = _renamed(logged_commands(bundle), target)
        enrolled = log[0].command
        assert isinstance(enrolled, EnrolPatient)  # checked by logged_commands
        if existing is None:
            return ImportPlan(enrolled.patient_id, tuple(e.command for e in log), (), tuple(log))
        if continues(log, existing_log):
            rest = tuple(log[len(existing_log) :])
            return ImportPlan(existing.patient_id, tuple(e.command for e in rest), (), rest)
        plan = _plan_observations(bundle, kb, on, patient_id, existing)
        note = (
            f"the record of {existing.patient_id} and the Bundle's command log differ: only "
            "the observations and contraception the record does not hold were added"
        )
        return replace(plan, notes=(*plan.notes, note))
    return _plan_observations(bundle, kb, on, patient_id, existing)


def _renamed(log: list[LoggedCommand], patient_id: str | None) -> list[LoggedCommand]:
    """The log with its patient enrolled as ``patient_id`` (None: as in the Bundle)."""
    first = log[0]
    if patient_id is None or not isinstance(first.command, EnrolPatient):
        return log
    renamed = msgspec.structs.replace(first.command, patient_id=patient_id)
    return [replace(first, command=renamed), *log[1:]]


def _plan_observations(
    bundle: FhirBundle,
    kb: KnowledgeBase,
    on: date,
    patient_id: str | None,
    existing: PatientRecord | None,
) -> ImportPlan:
    target = existing.patient_id if existing is not None else patient_id
    source_id = _source_patient(bundle, target)
    snapshot = snapshot_from_bundle(bundle, kb=kb, patient_id=source_id, on=on)
    raw = _raw_patient(bundle, snapshot.patient_id)
    target = target or _identifier(raw) or snapshot.patient_id
    head: list[AnyCommand] = []
    notes = list(snapshot.notes)
    if existing is None:
        head.append(_enrol(snapshot, raw, target, on, notes))
    else:
        head.extend(_capability_update(existing, raw, on))
    skipped: list[str] = []
    body = sourced_observations(bundle, snapshot, existing, kb=kb, on=on, skipped=skipped)
    return ImportPlan(
        target,
        (*head, *(command for command, _ in body)),
        (*notes, *skipped, *unheld_notes(snapshot, kb)),
        sources=(*(f"Patient/{snapshot.patient_id}" for _ in head), *(s for _, s in body)),
    )


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
    for identifier in objects(raw, "identifier"):
        if identifier.get("system") == ISOTRACK_PATIENT:
            value = identifier.get("value")
            return value if isinstance(value, str) and value else None
    return None


def _name(raw: dict[str, Any]) -> str:
    """The name the patient goes by: a current one before a former one (US Core's
    example patient lists her maiden name first, marked ``old`` with an ended period)."""
    names = list(objects(raw, "name"))
    for name in sorted(names, key=_former):
        if isinstance(name.get("text"), str) and name["text"].strip():
            return str(name["text"]).strip()
        given_names = name.get("given")
        if not isinstance(given_names, list):  # a wrongly typed element: unreadable
            given_names = []
        given = [g for g in given_names if isinstance(g, str)]
        family = name.get("family")
        if isinstance(family, str):
            given.append(family)
        words = " ".join(given).strip()
        if words:
            return words
    return ""


def _former(name: dict[str, Any]) -> bool:
    """A name no longer in use: ``use`` old, or a period that has ended."""
    period = name.get("period")
    return name.get("use") == "old" or (isinstance(period, dict) and bool(period.get("end")))


def _extension(raw: dict[str, Any], url: str, key: str) -> str | None:
    for extension in objects(raw, "extension"):
        if extension.get("url") == url:
            value = extension.get(key)
            return value if isinstance(value, str) else None
    return None


def _capability(raw: dict[str, Any]) -> tuple[CapabilityName | None, str]:
    code = _extension(raw, CAPABILITY_EXTENSION, "valueCode")
    reason = _extension(raw, CAPABILITY_REASON_EXTENSION, "valueString") or ""
    known = next((c for c in _CAPABILITIES if c == code), None)
    return known, reason


def _enrol(
    snapshot: PatientSnapshot, raw: dict[str, Any], target: str, on: date, notes: list[str]
) -> EnrolPatient:
    if snapshot.birth_date is None:
        raise InvalidInputError("Patient.birthDate", "a new patient needs a birth date")
    name = _name(raw)
    if not name:
        raise InvalidInputError("Patient.name", "a new patient needs a name")
    capability, reason = _capability(raw)
    sex = _enrolled_sex(snapshot, on, notes)
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


def _enrolled_sex(snapshot: PatientSnapshot, on: date, notes: list[str]) -> SexName:
    """The sex the record is enrolled with: Patient.gender, else the sex every other
    element agrees on (a US Core 9 Patient carries sex only in its Individual Sex
    extension); disagreeing elements are said, never resolved here."""
    given: SexName = next((s for s in _SEXES if s == snapshot.sex.value), "unknown")
    evidence = sex_evidence(snapshot, on)
    if evidence.disagree:
        notes.append(
            f"Patient sex and gender elements disagree ({evidence.disagreement()}): enrolled "
            f"as {given}; record the programme category"
        )
        return given
    if snapshot.sex in (Sex.FEMALE, Sex.MALE):
        return given
    for sex, elements in (("female", evidence.female), ("male", evidence.male)):
        if elements:
            notes.append(f"Patient.gender is {given}: enrolled as {sex} from {', '.join(elements)}")
            return cast(SexName, sex)
    return given


def _capability_update(existing: PatientRecord, raw: dict[str, Any], on: date) -> list[AnyCommand]:
    capability, reason = _capability(raw)
    if capability is None or capability == existing.pregnancy_capability:
        return []
    return [RecordPregnancyCapability(on=on, capability=capability, reason=reason)]
