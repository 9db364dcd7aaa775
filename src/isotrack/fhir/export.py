"""A patient's course record out as a FHIR R4 collection Bundle.

What the record holds, and nothing more:

- ``Patient`` (name, gender, birth date; the recorded pregnancy capability, its
  reason and the programme as isotrack extensions);
- ``Observation`` for each weight (LOINC 29463-7, kg), lab result (the first
  LOINC code of the knowledge base's ``lab-<analyte>`` value set, canonical
  unit), pregnancy test (hCG LOINC, SNOMED CT positive / negative /
  indeterminate), PHQ-9 (44261-6 total with the item 9 answer, 44260-8, as a
  component) and lesion count (isotrack codes: there is no LOINC code);
- ``MedicationRequest`` per prescription and ``MedicationDispense`` per dispense;
- contraception as ``MedicationStatement`` (or ``Procedure`` for a device or
  sterilisation known only by a SNOMED CT procedure code) with the codes of the
  knowledge base's contraception value sets, else with the method's name as text;
- ``DetectedIssue`` per recorded override (the rule id as code, system
  ``urn:isotrack:rule``).

Every resource has a stable id derived from the patient and the record item (its
place in the record, which only grows), so exporting twice gives the same Bundle
and a later export keeps the ids of the earlier one. :mod:`isotrack.fhir.import_record` reads
it back.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from isotrack.clinical.codes import RXNORM, SNOMED, SYSTEMS
from isotrack.clinical.course_state import CourseState
from isotrack.clinical.record_state import PatientRecord
from isotrack.clinical.snapshot import (
    ContraceptionUse,
    LabResult,
    LesionCount,
    MoodScreen,
    PregnancyTest,
    TestSetting,
    Weight,
)
from isotrack.fhir.export_values import (
    CAPABILITY_EXTENSION,
    CAPABILITY_REASON_EXTENSION,
    CATEGORY,
    ISOTRACK_OBSERVATION,
    ISOTRACK_RULE,
    LESION_COUNT,
    LESION_PARTS,
    ORAL,
    PROGRAMME_EXTENSION,
    RESULTS,
    TEST_SETTING,
    Resource,
    capsules,
    coding,
    method_codes,
    method_text,
    patient_resource_id,
    quantity,
    removal_code,
)
from isotrack.knowledge.base import KnowledgeBase


def record_to_bundle(record: PatientRecord, *, kb: KnowledgeBase, on: date) -> Resource:
    """The whole record as a FHIR R4 collection Bundle (a JSON-ready dict).

    ``on`` is the export day: it decides whether a prescription or a
    contraceptive method is still ``active`` or ``completed``."""
    writer = _Writer(record, kb, on)
    return writer.bundle()


class _Writer:
    def __init__(self, record: PatientRecord, kb: KnowledgeBase, on: date) -> None:
        self.record, self.kb, self.on = record, kb, on
        self.entries: list[Resource] = []
        self.patient_url = self.url("Patient", "")

    # --- ids and references -----------------------------------------------------
    def url(self, kind: str, key: str) -> str:
        return f"urn:uuid:{self.uuid(kind, key)}"

    def uuid(self, kind: str, key: str) -> str:
        name = f"isotrack:{self.record.patient_id}:{kind}:{key}"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, name))

    def add(self, kind: str, key: str, resource: Resource) -> None:
        full_url = self.url(kind, key)
        body = {"resourceType": kind, "id": full_url.removeprefix("urn:uuid:"), **resource}
        self.entries.append({"fullUrl": full_url, "resource": body})

    @property
    def subject(self) -> dict[str, str]:
        return {"reference": self.patient_url}

    # --- the bundle -----------------------------------------------------------------
    def bundle(self) -> Resource:
        record = self.record
        self.entries.append({"fullUrl": self.patient_url, "resource": self.patient()})
        for index, weight in enumerate(record.weights):
            self.weight(index, weight)
        for index, lab in enumerate(record.labs):
            self.lab(index, lab)
        for index, test in enumerate(record.pregnancy_tests):
            self.pregnancy_test(index, test)
        for index, screen in enumerate(record.mood_screens):
            self.phq9(index, screen)
        for index, count in enumerate(record.lesion_counts):
            self.lesion_count(index, count)
        for index, use in enumerate(record.contraception):
            self.contraception(index, use)
        for course in record.courses:
            self.course(course)
        for index, override in enumerate(record.overrides):
            self.override(index, override.on, override.rule_id, override.reason)
        return {
            "resourceType": "Bundle",
            "id": self.uuid("Bundle", self.on.isoformat()),
            "type": "collection",
            "entry": self.entries,
        }

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
            "identifier": [{"system": "urn:isotrack:patient", "value": record.patient_id}],
            "name": [{"text": record.name}],
            "gender": str(record.sex),
            "birthDate": record.birth_date.isoformat(),
        }
        if extensions:
            resource["extension"] = extensions
        return resource

    # --- observations -------------------------------------------------------------------
    def observation(self, key: str, category: str, code: Resource, on: date, **values: Any) -> None:
        self.add(
            "Observation",
            key,
            {
                "status": "final",
                "category": [{"coding": [{"system": CATEGORY, "code": category}]}],
                "code": code,
                "subject": self.subject,
                "effectiveDateTime": on.isoformat(),
                **values,
            },
        )

    def first_code(self, valueset_id: str, system: str = "loinc") -> Resource:
        valueset = self.kb.valueset(valueset_id)
        for code in valueset.codes:
            if code.system == system:
                return {"coding": [coding(SYSTEMS[system], code.code, code.display)]}
        return {"text": valueset.description}

    def weight(self, index: int, weight: Weight) -> None:
        self.observation(
            f"weight:{index}",
            "vital-signs",
            self.first_code("body-weight"),
            weight.on,
            valueQuantity=quantity(weight.kg, "kg"),
        )

    def lab(self, index: int, lab: LabResult) -> None:
        valueset = f"lab-{lab.analyte}"
        known = {v.id for v in self.kb.valuesets}
        code = self.first_code(valueset) if valueset in known else {"text": lab.analyte}
        extra: Resource = {}
        if lab.reference_high is not None:
            extra["referenceRange"] = [{"high": quantity(lab.reference_high, lab.unit)}]
        self.observation(
            f"lab:{index}",
            "laboratory",
            code,
            lab.on,
            valueQuantity=quantity(lab.value, lab.unit),
            **extra,
        )

    def pregnancy_test(self, index: int, test: PregnancyTest) -> None:
        code, display = RESULTS[test.result]
        key = f"hcg:{index}"
        self.observation(
            key,
            "laboratory",
            self.first_code("pregnancy-test-hcg"),
            test.on,
            valueCodeableConcept={"coding": [coding(SNOMED, code, display)], "text": display},
        )
        if test.setting is not TestSetting.MEDICAL:
            # Only a laboratory test is a medical one: say where the others were done.
            observation = self.entries[-1]["resource"]
            observation["category"] = [
                {"coding": [{"system": TEST_SETTING, "code": str(test.setting)}]}
            ]

    def phq9(self, index: int, screen: MoodScreen) -> None:
        extra: Resource = {}
        if screen.item9 is not None:
            item9 = self.first_code("phq9-item9")
            extra["component"] = [{"code": item9, "valueInteger": screen.item9}]
        self.observation(
            f"phq9:{index}",
            "survey",
            self.first_code("phq9-total"),
            screen.on,
            valueInteger=screen.phq9_total,
            **extra,
        )

    def lesion_count(self, index: int, count: LesionCount) -> None:
        components = [
            {
                "code": {"coding": [{"system": ISOTRACK_OBSERVATION, "code": part}]},
                "valueInteger": getattr(count, part),
            }
            for part in LESION_PARTS
            if getattr(count, part) is not None
        ]
        self.observation(
            f"lesions:{index}",
            "exam",
            {
                "coding": [{"system": ISOTRACK_OBSERVATION, "code": LESION_COUNT}],
                "text": "Acne lesion counts",
            },
            count.on,
            component=components,
        )

    # --- contraception -------------------------------------------------------------------
    def contraception(self, index: int, use: ContraceptionUse) -> None:
        method = self.kb.contraception_method(use.method)
        key = f"contraception:{index}"
        ended = use.end is not None and use.end <= self.on
        rxnorm, snomed = method_codes(method, self.kb, "rxnorm"), None
        if rxnorm is None:
            snomed = method_codes(method, self.kb, "snomed")
        removal = removal_code(method, self.kb)
        if rxnorm is None and snomed is not None and use.start and (not ended or removal):
            self.add("Procedure", key, self.procedure(snomed, use.start))
            if ended and removal is not None and use.end is not None:
                self.add("Procedure", f"{key}:removal", self.procedure(removal, use.end))
            return
        medication = rxnorm or {"text": method_text(method, self.kb)}
        period: Resource = {}
        if use.start is not None:
            period["start"] = use.start.isoformat()
        if use.end is not None:
            period["end"] = use.end.isoformat()
        self.add(
            "MedicationStatement",
            key,
            {
                "status": "completed" if ended else "active",
                "medicationCodeableConcept": medication,
                "subject": self.subject,
                "effectivePeriod": period,
                "note": [{"text": f"Contraception: {method.name}"}],
            },
        )

    def procedure(self, code: Resource, on: date) -> Resource:
        return {
            "status": "completed",
            "code": code,
            "subject": self.subject,
            "performedDateTime": on.isoformat(),
        }

    # --- the course ----------------------------------------------------------------------
    def course(self, course: CourseState) -> None:
        product = self.kb.product(course.product)
        by_id = {p.id: p for p in course.prescriptions}
        for prescription in course.prescriptions:
            medication = {
                "coding": [coding(RXNORM, "6064", "isotretinoin")],
                "text": f"{product.name}, {prescription.strength_mg:g} mg capsule",
            }
            covered = prescription.on + timedelta(days=prescription.supply_days)
            running = course.status != "ended" and covered > self.on
            dose = quantity(prescription.dose_mg, "mg")
            resource: Resource = {
                "status": "active" if running else "completed",
                "intent": "order",
                "medicationCodeableConcept": medication,
                "subject": self.subject,
                "authoredOn": prescription.on.isoformat(),
                "groupIdentifier": {"system": "urn:isotrack:course", "value": course.course_id},
                "dosageInstruction": [
                    {
                        "text": f"{prescription.dose_mg:g} mg by mouth "
                        f"{prescription.times_per_day} time(s) a day",
                        "timing": {
                            "repeat": {
                                "frequency": prescription.times_per_day,
                                "period": 1,
                                "periodUnit": "d",
                            }
                        },
                        "route": {"coding": [ORAL]},
                        "doseAndRate": [{"doseQuantity": dose}],
                    }
                ],
                "dispenseRequest": {
                    "numberOfRepeatsAllowed": 0,
                    "quantity": capsules(prescription.quantity),
                    "expectedSupplyDuration": quantity(prescription.supply_days, "d"),
                },
            }
            if prescription.override_reason:
                resource["note"] = [{"text": f"Dose override: {prescription.override_reason}"}]
            self.add("MedicationRequest", prescription.id, resource)
        for index, dispense in enumerate(course.dispenses):
            prescribed = by_id.get(dispense.prescription_id)
            request = self.url("MedicationRequest", dispense.prescription_id)
            text = product.name
            if prescribed is not None:
                text += f", {prescribed.strength_mg:g} mg capsule"
            self.add(
                "MedicationDispense",
                f"{dispense.prescription_id}:{index}",
                {
                    "status": "completed",
                    "medicationCodeableConcept": {
                        "coding": [coding(RXNORM, "6064", "isotretinoin")],
                        "text": text,
                    },
                    "subject": self.subject,
                    "authorizingPrescription": [{"reference": request}],
                    "quantity": capsules(dispense.quantity),
                    "whenHandedOver": dispense.on.isoformat(),
                },
            )

    def override(self, index: int, on: date, rule_id: str, reason: str) -> None:
        title = self.kb.rule(rule_id).title
        self.add(
            "DetectedIssue",
            f"{index}:{rule_id}",
            {
                "status": "final",
                "code": {"coding": [coding(ISOTRACK_RULE, rule_id, title)], "text": title},
                "patient": self.subject,
                "identifiedDateTime": on.isoformat(),
                "detail": reason,
                "mitigation": [{"action": {"text": f"Overridden: {reason}"}, "date": str(on)}],
            },
        )
