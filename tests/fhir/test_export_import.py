"""A record out as a FHIR R4 Bundle and back in as commands: the same data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import msgspec
import pytest

from isotrack.clinical.commands import (
    AnyCommand,
    EnrolPatient,
    RecordLesionCount,
    StartContraception,
    StopContraception,
)
from isotrack.clinical.record import PatientRecord, apply, replay
from isotrack.demo.clinic import DemoPatient, demo_clinic
from isotrack.fhir import decode_bundle, snapshot_from_bundle
from isotrack.fhir.export import record_to_bundle
from isotrack.fhir.export_values import ISOTRACK_RULE
from isotrack.fhir.import_record import commands_from_bundle, plan_import, target_patient_id
from isotrack.fhir.order import read_order
from isotrack.fhir.resources import MedicationRequest
from isotrack.knowledge import KnowledgeBase

TODAY = date(2026, 3, 2)
CLINIC = demo_clinic(TODAY)
ENROLLED = date(2025, 1, 2)


def record_of(patient: DemoPatient, kb: KnowledgeBase) -> PatientRecord:
    return replay(patient.commands, kb=kb)


def imported(bundle: dict[str, object], kb: KnowledgeBase, **options: object) -> PatientRecord:
    commands = commands_from_bundle(decode_bundle(bundle), kb=kb, on=TODAY, **options)  # type: ignore[arg-type]
    return apply_all(None, commands, kb)


def apply_all(
    record: PatientRecord | None, commands: Iterable[AnyCommand], kb: KnowledgeBase
) -> PatientRecord:
    for command in commands:
        record = apply(record, command, today=TODAY, kb=kb)
    assert record is not None
    return record


def observable(record: PatientRecord) -> dict[str, object]:
    """What a round trip keeps: the patient and the dated data, in date order."""
    return {
        "patient": (record.patient_id, record.name, record.birth_date, record.sex),
        "capability": (record.pregnancy_capability, record.capability_reason, record.programme),
        "weights": sorted((w.on, w.kg) for w in record.weights),
        "labs": sorted((x.on, x.analyte, x.value, x.unit, x.reference_high) for x in record.labs),
        "tests": sorted((t.on, t.result, t.setting) for t in record.pregnancy_tests),
        "contraception": sorted((u.method, u.start, u.end) for u in record.contraception),
        "mood": sorted((m.on, m.phq9_total, m.item9) for m in record.mood_screens),
        "lesions": sorted(
            (c.on, c.nodules, c.inflammatory, c.comedones) for c in record.lesion_counts
        ),
    }


@pytest.mark.parametrize("patient", CLINIC, ids=[p.patient_id for p in CLINIC])
def test_round_trip_keeps_the_observable_data(patient: DemoPatient, kb: KnowledgeBase) -> None:
    record = record_of(patient, kb)
    bundle = record_to_bundle(record, kb=kb, on=TODAY)
    assert observable(imported(bundle, kb)) == observable(record)


@pytest.mark.parametrize("patient", CLINIC, ids=[p.patient_id for p in CLINIC])
def test_importing_the_same_bundle_again_adds_nothing(
    patient: DemoPatient, kb: KnowledgeBase
) -> None:
    record = record_of(patient, kb)
    bundle = decode_bundle(record_to_bundle(record, kb=kb, on=TODAY))
    assert commands_from_bundle(bundle, kb=kb, on=TODAY, existing=record) == []


def test_an_update_adds_only_what_is_new(kb: KnowledgeBase) -> None:
    full = record_of(CLINIC[0], kb)
    half = replay(CLINIC[0].commands[: len(CLINIC[0].commands) // 2], kb=kb)
    bundle = decode_bundle(record_to_bundle(full, kb=kb, on=TODAY))
    commands = commands_from_bundle(bundle, kb=kb, on=TODAY, existing=half)
    assert commands
    assert not any(isinstance(c, EnrolPatient) for c in commands)
    updated = apply_all(half, commands, kb)
    expected = observable(full)
    assert observable(updated) == expected


def test_the_bundle_is_a_fhir_r4_collection_with_stable_ids(kb: KnowledgeBase) -> None:
    record = record_of(CLINIC[7], kb)  # Hugo: an override, lesion counts, a prescription
    bundle = record_to_bundle(record, kb=kb, on=TODAY)
    assert bundle == record_to_bundle(record, kb=kb, on=TODAY)
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    entries = bundle["entry"]
    assert isinstance(entries, list)
    urls = [e["fullUrl"] for e in entries]
    assert len(set(urls)) == len(urls)
    assert all(u.startswith("urn:uuid:") for u in urls)
    kinds = {e["resource"]["resourceType"] for e in entries}
    assert {"Patient", "Observation", "MedicationRequest", "MedicationDispense"} <= kinds
    issues = [e["resource"] for e in entries if e["resource"]["resourceType"] == "DetectedIssue"]
    assert [i["code"]["coding"][0] for i in issues] == [
        {
            "system": ISOTRACK_RULE,
            "code": "AGE-ADOLESCENT-BONE",
            "display": kb.rule("AGE-ADOLESCENT-BONE").title,
        }
    ]
    msgspec.json.encode(bundle)  # plain JSON all the way down


def test_observations_carry_the_knowledge_base_loinc_codes(kb: KnowledgeBase) -> None:
    record = record_of(CLINIC[0], kb)
    bundle = record_to_bundle(record, kb=kb, on=TODAY)
    codes = {
        (c["system"], c["code"])
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        for c in e["resource"]["code"].get("coding", [])
    }
    loinc = "http://loinc.org"
    for code in ("29463-7", "2571-8", "1742-6", "44261-6"):
        assert (loinc, code) in codes
    hcg = {c.code for c in kb.valueset("pregnancy-test-hcg").codes}
    assert any(system == loinc and code in hcg for system, code in codes)


def test_the_fhir_reader_reads_the_exported_prescriptions(kb: KnowledgeBase) -> None:
    record = record_of(CLINIC[0], kb)  # Ana: three prescriptions of 30 mg twice a day
    bundle = decode_bundle(record_to_bundle(record, kb=kb, on=TODAY))
    requests = bundle.of_type(MedicationRequest)
    assert len(requests) == 3
    order = read_order(requests[0], kb, bundle=bundle).order
    assert (order.product, order.dose_mg, order.times_per_day) == ("absorica", 30, 2)
    assert (order.quantity, order.supply_days, order.repeats) == (60, 30, 0)
    snapshot = snapshot_from_bundle(bundle, kb=kb, on=TODAY)
    assert snapshot.patient_id == "demo-ana"
    assert {u.method for u in snapshot.contraception} == {"implant-etonogestrel", "male-condom"}


def test_every_contraception_method_comes_back_as_itself(kb: KnowledgeBase) -> None:
    enrol = EnrolPatient(
        on=ENROLLED,
        patient_id="p-methods",
        name="Methods Demo",
        birth_date=date(2000, 1, 1),
        sex="female",
        pregnancy_capability="can-get-pregnant",
    )
    for method in kb.contraception_methods:
        for stopped in (False, True):
            commands: list[AnyCommand] = [
                enrol,
                StartContraception(on=date(2025, 3, 1), method=method.id),
            ]
            if stopped:
                commands.append(StopContraception(on=date(2025, 9, 1), method=method.id))
            record = apply_all(None, commands, kb)
            back = imported(record_to_bundle(record, kb=kb, on=TODAY), kb)
            assert observable(back)["contraception"] == observable(record)["contraception"], (
                method.id,
                stopped,
            )


def test_lesion_counts_without_optional_parts_come_back(kb: KnowledgeBase) -> None:
    enrol = EnrolPatient(
        on=ENROLLED, patient_id="p-skin", name="Skin Demo", birth_date=date(1990, 5, 6), sex="male"
    )
    record = apply_all(None, [enrol, RecordLesionCount(on=date(2025, 4, 1), nodules=4)], kb)
    assert observable(imported(record_to_bundle(record, kb=kb, on=TODAY), kb)) == observable(record)


def test_the_patient_id_can_be_chosen_on_import(kb: KnowledgeBase) -> None:
    record = record_of(CLINIC[1], kb)
    raw = record_to_bundle(record, kb=kb, on=TODAY)
    bundle = decode_bundle(raw)
    assert target_patient_id(bundle) == "demo-ben"
    plan = plan_import(bundle, kb=kb, on=TODAY, patient_id="clinic-42")
    assert plan.patient_id == "clinic-42"
    first = plan.commands[0]
    assert isinstance(first, EnrolPatient)
    assert first.patient_id == "clinic-42"


def test_a_bundle_from_elsewhere_needs_a_name_and_birth_date_for_a_new_patient(
    kb: KnowledgeBase,
) -> None:
    bundle = decode_bundle(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": {"resourceType": "Patient", "id": "x1", "gender": "male"}}],
        }
    )
    with pytest.raises(Exception, match="birth date"):
        commands_from_bundle(bundle, kb=kb, on=TODAY)


def test_a_bundle_with_given_and_family_names_is_enrolled_with_them(kb: KnowledgeBase) -> None:
    bundle = decode_bundle(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Patient",
                        "id": "x2",
                        "gender": "female",
                        "birthDate": "1999-09-09",
                        "name": [{"given": ["Zoe"], "family": "Example"}],
                    }
                },
                {
                    "resource": {
                        "resourceType": "Observation",
                        "status": "final",
                        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                        "subject": {"reference": "Patient/x2"},
                        "effectiveDateTime": "2026-02-01",
                        "valueQuantity": {"value": 132, "unit": "lb", "code": "[lb_av]"},
                    }
                },
            ],
        }
    )
    record = apply_all(None, commands_from_bundle(bundle, kb=kb, on=TODAY), kb)
    assert (record.patient_id, record.name) == ("x2", "Zoe Example")
    assert [round(w.kg, 1) for w in record.weights] == [59.9]
