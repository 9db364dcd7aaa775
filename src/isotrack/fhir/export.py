"""A patient's course record out as a FHIR R4 collection Bundle: every command of
the log, nothing dropped.

One resource per command, or one resource per thing several commands shape:

- ``EnrolPatient`` → ``Patient`` (name, gender, birth date; the pregnancy
  capability, its reason and the programme in force as isotrack extensions);
- ``RecordWeight``, ``RecordLabResult``, ``RecordPregnancyTest``,
  ``RecordPregnancyStatus``, ``RecordPHQ9``, ``RecordLesionCount``, ``RecordSymptoms``,
  ``RecordPregnancyCapability`` → ``Observation`` (:mod:`isotrack.fhir.export_observations`);
- ``StartContraception`` / ``StopContraception`` → one ``MedicationStatement``
  (or ``Procedure``, with a removal ``Procedure``) per use of a method;
- ``StartCourse`` → ``CarePlan`` (the course: period, status, product), which
  also carries ``PauseCourse``, ``ResumeCourse``, ``ChangeDose`` and ``EndCourse``;
- ``Prescribe`` → ``MedicationRequest``; ``Dispense`` → ``MedicationDispense``;
  ``RecordMissedDoses`` → ``MedicationStatement`` (status ``not-taken``);
- ``RecordOverride`` → ``DetectedIssue``; ``RecordComprehensionAnswers`` →
  ``QuestionnaireResponse``; ``RecordCounselling`` → ``Procedure``;
  ``RecordAuthorization`` → ``Task``.

Each resource carries the :data:`~isotrack.fhir.export_values.COMMAND_EXTENSION`
of the commands it stems from (seq, type, who, when, and the fields FHIR has no
element for), so :mod:`isotrack.fhir.import_log` rebuilds the same log. Ids are
stable (derived from the patient and the command's seq, the course or
prescription id): exporting twice gives the same Bundle, and a later export
keeps the ids of the earlier one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from isotrack.clinical.dosing import regimen_of
from isotrack.clinical.state import (
    ChangeDose,
    Dispense,
    EndCourse,
    EnrolPatient,
    PatientRecord,
    PauseCourse,
    Prescribe,
    RecordAuthorization,
    RecordComprehensionAnswers,
    RecordCounselling,
    RecordMissedDoses,
    RecordOverride,
    ResumeCourse,
    StartContraception,
    StartCourse,
    StopContraception,
)
from isotrack.clinical.worklist import WORK_STEPS
from isotrack.fhir.command_extension import CommandEntry, FieldValue, command_extension
from isotrack.fhir.export_contraception import contraception_resources
from isotrack.fhir.export_observations import observation_fields, observation_of
from isotrack.fhir.export_programme import (
    answers_resource,
    authorization_resource,
    counselling_resource,
    override_resource,
    work_step_resource,
)
from isotrack.fhir.export_values import (
    CAPABILITY_EXTENSION,
    CAPABILITY_REASON_EXTENSION,
    ISOTRACK_COURSE,
    ISOTRACK_PATIENT,
    ISOTRACK_PRESCRIPTION,
    ISOTRACK_PRODUCT,
    ISOTRETINOIN,
    ORAL,
    PROGRAMME_EXTENSION,
    Resource,
    capsules,
    coding,
    encode_regimen,
    patient_resource_id,
    quantity,
    regimen_dosages,
)
from isotrack.knowledge.base import KnowledgeBase

_COURSE_STATUS = {"active": "active", "paused": "on-hold", "ended": "completed"}


def record_to_bundle(
    record: PatientRecord, history: Sequence[CommandEntry], *, kb: KnowledgeBase, on: date
) -> Resource:
    """The patient's command log (``history``, oldest first) as a FHIR R4 collection
    Bundle (a JSON-ready dict); ``record`` is the record the log rebuilds.

    ``on`` is the export day: it decides whether a prescription is still ``active``
    or ``completed``."""
    writer = _Writer(record, kb, on)
    for entry in history:
        writer.write(entry)
    return writer.bundle()


class _Writer:
    def __init__(self, record: PatientRecord, kb: KnowledgeBase, on: date) -> None:
        self.record, self.kb, self.on = record, kb, on
        self.resources: dict[str, Resource] = {}
        """fullUrl → resource, in the order they were made."""
        self.patient_url = self.url("Patient", "")
        self.course_url = ""
        self.product_name = "isotretinoin"
        """The product of the course in progress."""
        self.started_methods: dict[str, str] = {}
        """Method id → the fullUrl of its use in progress."""
        self.starts = 0
        self.comprehension = 0

    # --- ids, references, stamps ------------------------------------------------
    def url(self, kind: str, key: str) -> str:
        return f"urn:uuid:{self.uuid(kind, key)}"

    def uuid(self, kind: str, key: str) -> str:
        name = f"isotrack:{self.record.patient_id}:{kind}:{key}"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, name))

    def add(self, kind: str, key: str, body: Resource) -> str:
        full_url = self.url(kind, key)
        self.resources[full_url] = {
            "resourceType": kind,
            "id": full_url.removeprefix("urn:uuid:"),
            **body,
        }
        return full_url

    def stamp(self, full_url: str, entry: CommandEntry, **fields: FieldValue) -> None:
        resource = self.resources[full_url]
        resource.setdefault("extension", []).append(command_extension(entry, **fields))

    @property
    def subject(self) -> Resource:
        return {"reference": self.patient_url}

    def bundle(self) -> Resource:
        return {
            "resourceType": "Bundle",
            "id": self.uuid("Bundle", self.on.isoformat()),
            "type": "collection",
            "entry": [{"fullUrl": url, "resource": r} for url, r in self.resources.items()],
        }

    # --- one command --------------------------------------------------------------
    def write(self, entry: CommandEntry) -> None:  # one branch per command type
        command = entry.command
        key = f"command:{entry.seq}"
        if (observation := observation_of(command, self.kb)) is not None:
            kind, body = observation
            body["subject"] = self.subject
            self.stamp(self.add(kind, key, body), entry, **observation_fields(command))
        elif isinstance(command, EnrolPatient):
            self.resources[self.patient_url] = self.patient()
            self.stamp(
                self.patient_url,
                entry,
                on=command.on,
                pregnancy_capability=command.pregnancy_capability,
                capability_reason=command.capability_reason or None,
                programme=command.programme,
            )
        elif isinstance(command, StartContraception):
            use = self.record.contraception[self.starts]
            self.starts += 1
            made = contraception_resources(use, self.kb, self.on, self.subject)
            urls = [self.add(kind, f"{key}:{n}", body) for n, (kind, body) in enumerate(made)]
            self.stamp(urls[0], entry)
            self.started_methods[command.method] = urls[-1]
        elif isinstance(command, StopContraception):
            self.stamp(self.started_methods.pop(command.method), entry)
        elif isinstance(command, StartCourse):
            self.product_name = self.kb.product(command.product).name
            self.course_url = self.add("CarePlan", command.course_id, self.care_plan(command))
            self.stamp(self.course_url, entry, target_mg_per_kg=command.target_mg_per_kg)
        elif isinstance(command, PauseCourse):
            self.stamp(self.course_url, entry, on=command.on, reason=command.reason)
        elif isinstance(command, ResumeCourse):
            self.stamp(self.course_url, entry, on=command.on)
        elif isinstance(command, ChangeDose):
            self.stamp(
                self.course_url,
                entry,
                on=command.on,
                dose_mg=command.dose_mg,
                times_per_day=command.times_per_day,
                override_reason=command.override_reason or None,
            )
        elif isinstance(command, EndCourse):
            self.stamp(self.course_url, entry, reason=command.reason)
        elif isinstance(command, Prescribe):
            url = self.add("MedicationRequest", command.prescription_id, self.request(command))
            self.stamp(
                url,
                entry,
                strength_mg=command.strength_mg,
                dose_mg=command.dose_mg,
                times_per_day=command.times_per_day,
                regimen=encode_regimen(command.regimen),
                override_reason=command.override_reason or None,
            )
        elif isinstance(command, Dispense):
            self.stamp(self.add("MedicationDispense", key, self.dispense(command)), entry)
        elif isinstance(command, RecordMissedDoses):
            self.stamp(
                self.add("MedicationStatement", key, self.missed(command)), entry, days=command.days
            )
        elif isinstance(command, RecordOverride):
            issue = override_resource(command, entry.actor, self.subject, self.kb)
            self.stamp(self.add("DetectedIssue", key, issue), entry)
        elif isinstance(command, RecordComprehensionAnswers):
            answers = answers_resource(command, self.programme_of_check(), self.subject)
            self.stamp(self.add("QuestionnaireResponse", key, answers), entry)
        elif isinstance(command, RecordCounselling):
            self.stamp(
                self.add("Procedure", key, counselling_resource(command, self.subject)), entry
            )
        elif isinstance(command, RecordAuthorization):
            focus = self.prescription_reference(command.prescription_id)
            task = authorization_resource(command, focus, self.subject)
            self.stamp(self.add("Task", key, task), entry)
        elif isinstance(command, WORK_STEPS):
            self.stamp(self.add("Task", key, work_step_resource(command, self.subject)), entry)
        else:  # pragma: no cover - every command type has a branch (a test sends each)
            raise TypeError(f"no FHIR form for {type(command).__name__}")

    # --- the patient ------------------------------------------------------------------
    def patient(self) -> Resource:
        record = self.record
        extensions: list[Resource] = []
        if record.pregnancy_capability is not None:
            extensions.append(
                {"url": CAPABILITY_EXTENSION, "valueCode": str(record.pregnancy_capability)}
            )
        if record.capability_reason:
            extensions.append(
                {"url": CAPABILITY_REASON_EXTENSION, "valueString": record.capability_reason}
            )
        if record.programme:
            extensions.append({"url": PROGRAMME_EXTENSION, "valueCode": record.programme})
        resource: Resource = {
            "resourceType": "Patient",
            "id": patient_resource_id(record.patient_id),
            "identifier": [{"system": ISOTRACK_PATIENT, "value": record.patient_id}],
            "name": [{"text": record.name}],
            "gender": str(record.sex),
            "birthDate": record.birth_date.isoformat(),
        }
        if extensions:
            resource["extension"] = extensions
        return resource

    # --- the course ----------------------------------------------------------------------
    def care_plan(self, command: StartCourse) -> Resource:
        course = self.record.course(command.course_id)
        product = self.kb.product(command.product)
        period: Resource = {"start": command.on.isoformat()}
        status = "active"
        if course is not None:
            status = _COURSE_STATUS.get(str(course.status), "active")
            if course.end is not None:
                period["end"] = course.end.isoformat()
        return {
            "identifier": [{"system": ISOTRACK_COURSE, "value": command.course_id}],
            "status": status,
            "intent": "plan",
            "title": f"Isotretinoin course {command.course_id}",
            "subject": self.subject,
            "period": period,
            "activity": [
                {
                    "detail": {
                        "kind": "MedicationRequest",
                        "status": "completed" if status == "completed" else "in-progress",
                        "productCodeableConcept": {
                            "coding": [
                                ISOTRETINOIN,
                                coding(ISOTRACK_PRODUCT, product.id, product.name),
                            ],
                            "text": product.name,
                        },
                    }
                }
            ],
        }

    def medication(self, strength_mg: float | None) -> Resource:
        name = self.product_name
        text = name if strength_mg is None else f"{name}, {strength_mg:g} mg capsule"
        return {"coding": [ISOTRETINOIN], "text": text}

    def request(self, command: Prescribe) -> Resource:
        course = next(
            (
                c
                for c in self.record.courses
                for p in c.prescriptions
                if p.id == command.prescription_id
            ),
            None,
        )
        regimen = command.regimen or regimen_of(
            (command.dose_mg,) * command.times_per_day, (command.strength_mg,)
        )
        covered = command.on + timedelta(days=command.supply_days)
        running = course is not None and course.status != "ended" and covered > self.on
        resource: Resource = {
            "identifier": [{"system": ISOTRACK_PRESCRIPTION, "value": command.prescription_id}],
            "status": "active" if running else "completed",
            "intent": "order",
            "medicationCodeableConcept": self.medication(command.strength_mg),
            "subject": self.subject,
            "basedOn": [{"reference": self.course_url}],
            "authoredOn": command.on.isoformat(),
            "dosageInstruction": regimen_dosages(regimen, {"coding": [ORAL]})
            if regimen is not None
            else [
                {
                    "text": f"{command.dose_mg:g} mg by mouth "
                    f"{command.times_per_day} time(s) a day",
                    "timing": {
                        "repeat": {
                            "frequency": command.times_per_day,
                            "period": 1,
                            "periodUnit": "d",
                        }
                    },
                    "route": {"coding": [ORAL]},
                    "doseAndRate": [{"doseQuantity": quantity(command.dose_mg, "mg")}],
                }
            ],
            "dispenseRequest": {
                "numberOfRepeatsAllowed": 0,
                "quantity": capsules(command.quantity),
                "expectedSupplyDuration": quantity(command.supply_days, "d"),
            },
        }
        if course is not None:
            resource["groupIdentifier"] = {"system": ISOTRACK_COURSE, "value": course.course_id}
        if command.override_reason:
            resource["note"] = [{"text": f"Dose override: {command.override_reason}"}]
        return resource

    def prescription_reference(self, prescription_id: str) -> Resource:
        return {
            "reference": self.url("MedicationRequest", prescription_id),
            "identifier": {"system": ISOTRACK_PRESCRIPTION, "value": prescription_id},
        }

    def dispense(self, command: Dispense) -> Resource:
        request = self.resources.get(self.url("MedicationRequest", command.prescription_id), {})
        medication = request.get("medicationCodeableConcept") or self.medication(None)
        return {
            "status": "completed",
            "medicationCodeableConcept": medication,
            "subject": self.subject,
            "authorizingPrescription": [self.prescription_reference(command.prescription_id)],
            "quantity": capsules(command.quantity),
            "whenHandedOver": command.on.isoformat(),
        }

    def missed(self, command: RecordMissedDoses) -> Resource:
        return {
            "status": "not-taken",
            "statusReason": [{"text": "Missed doses"}],
            "medicationCodeableConcept": self.medication(None),
            "subject": self.subject,
            "basedOn": [{"reference": self.course_url}],
            "effectivePeriod": {
                "start": min(command.days).isoformat(),
                "end": max(command.days).isoformat(),
            },
            "dateAsserted": command.on.isoformat(),
        }

    def programme_of_check(self) -> str:
        """The programme of the next comprehension check (as judged when recorded)."""
        checks = self.record.comprehension_checks
        check = checks[self.comprehension] if self.comprehension < len(checks) else None
        self.comprehension += 1
        return check.programme if check is not None else self.record.programme
