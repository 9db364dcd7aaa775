"""A record out as a FHIR R4 Bundle and back in: the same command log, the same record.

The Bundle of an isotrack record comes back command for command (with who
recorded each and when); with the command extensions taken out it reads like a
Bundle from any other system, and its observations and contraception still come
back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from isotrack.clinical.dosing import Administration, Regimen
from isotrack.clinical.record.aggregate import PatientRecord, apply, replay
from isotrack.clinical.record.view import course_view
from isotrack.clinical.state.commands import (
    COMMAND_TYPES,
    AcknowledgeWorkItem,
    AnyCommand,
    AssignWorkItem,
    ChangeDose,
    EndCourse,
    EnrolPatient,
    PauseCourse,
    RecordCounselling,
    RecordLabResult,
    RecordLesionCount,
    RecordMissedDoses,
    RecordOverride,
    RecordPHQ9,
    RecordPregnancyCapability,
    RecordPregnancyStatus,
    RecordPregnancyTest,
    RecordSymptoms,
    ResolveWorkItem,
    ResumeCourse,
    StartContraception,
    StopContraception,
    prescription_of,
)
from isotrack.demo.clinic import demo_clinic
from isotrack.demo.story import DemoPatient
from isotrack.errors import InvalidInputError
from isotrack.fhir import decode_bundle, snapshot_from_bundle
from isotrack.fhir.command_extension import LoggedCommand
from isotrack.fhir.export import record_to_bundle
from isotrack.fhir.export_values import COMMAND_EXTENSION, ISOTRACK_RULE
from isotrack.fhir.import_log import check_log, logged_commands
from isotrack.fhir.import_record import commands_from_bundle, plan_import, target_patient_id
from isotrack.fhir.order import read_order
from isotrack.fhir.resources import MedicationRequest
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_record import (
    authorize,
    comprehension,
    day,
    dispense,
    enrol_man,
    prescribe,
    start_course,
    weight,
)
from tests.clinical.test_record_properties import SETTINGS, command_sequence

TODAY = date(2026, 3, 2)
CLINIC = demo_clinic(TODAY)
ENROLLED = date(2025, 1, 2)
Bundle = dict[str, Any]


def log_of(commands: Iterable[tuple[AnyCommand, date]]) -> list[LoggedCommand]:
    """The commands as the store would log them: each recorded on its day, by one of
    two clinicians, at a time of day with microseconds."""
    return [
        LoggedCommand(
            seq,
            command,
            datetime.combine(recorded, time(9, 30, seq % 60, 1234 * seq), UTC),
            "dr-lee" if seq % 3 else "nurse ann",
            recorded,
        )
        for seq, (command, recorded) in enumerate(commands, start=1)
    ]


def export(log: Sequence[LoggedCommand], kb: KnowledgeBase, on: date = TODAY) -> Bundle:
    record = replay(((e.command, e.recorded_on) for e in log), kb=kb)
    return record_to_bundle(record, log, kb=kb, on=on)


def envelope(log: Iterable[LoggedCommand]) -> list[tuple[object, ...]]:
    return [(e.seq, e.command, e.actor, e.recorded_at, e.recorded_on) for e in log]


def every_command() -> list[tuple[AnyCommand, date]]:
    """A record with every kind of command (and their optional fields)."""
    commands: list[AnyCommand] = [
        enrol_man(pregnancy_capability="cannot-get-pregnant", capability_reason="reported"),
        RecordCounselling(on=day(-7), topic="enrolment", note="leaflet given"),
        weight(-7, 154.0, "lb"),
        RecordPregnancyCapability(on=day(-6), capability="cannot-get-pregnant", reason="checked"),
        RecordLabResult(
            on=day(-6), analyte="triglycerides", value=150.5, unit="mg/dL", reference_high=150.0
        ),
        RecordLabResult(on=day(-6), analyte="alt", value=20, unit="U/L"),
        RecordPregnancyTest(on=day(-5), result="negative", setting="home"),
        RecordPregnancyStatus(on=day(-5), status="unknown", note="Possible pregnancy"),
        RecordPregnancyStatus(on=day(-4), status="not-pregnant"),
        StartContraception(on=day(-5), method="male-condom"),
        RecordSymptoms(on=day(-4), symptoms=("low-mood", "missed-period"), note="since Monday"),
        AssignWorkItem(on=day(-4), item="symptoms-1", assignee="dr.lee"),
        AcknowledgeWorkItem(on=day(-4), item="symptoms-1", note="called the patient"),
        ResolveWorkItem(on=day(-4), item="symptoms-1", note="seen, mood fine"),
        RecordPHQ9(on=day(-4), total=4, item9=0),
        RecordPHQ9(on=day(-4), total=3),
        RecordLesionCount(on=day(-3), nodules=3, inflammatory=12),
        weight(0),
        start_course(0, target_mg_per_kg=130.0),
        comprehension(0),
        prescribe(0, override_reason="as planned"),
        authorize(0),
        dispense(0),
        RecordMissedDoses(on=day(5), days=(day(3), day(1))),
        PauseCourse(on=day(6), reason="dry lips"),
        ResumeCourse(on=day(9)),
        ChangeDose(on=day(10), dose_mg=70.0, times_per_day=1, override_reason="tolerates"),
        RecordOverride(on=day(10), rule_id="AGE-ADOLESCENT-BONE", reason="discussed"),
        StopContraception(on=day(11), method="male-condom"),
        EndCourse(on=day(12), reason="side effects"),
        RecordLabResult(on=day(13), analyte="glucose", value=5.2, unit="mmol/L", code="2345-7"),
    ]
    return [(command, command.on) for command in commands]


def resources(bundle: Bundle) -> Iterator[dict[str, Any]]:
    for entry in bundle["entry"]:
        yield entry["resource"]


def references(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def without_commands(bundle: Bundle) -> Bundle:
    """The Bundle as another system would send it: no isotrack command extensions."""
    stripped = msgspec.json.decode(msgspec.json.encode(bundle))
    for resource in resources(stripped):
        kept = [e for e in resource.get("extension", ()) if e["url"] != COMMAND_EXTENSION]
        resource.pop("extension", None)
        if kept:
            resource["extension"] = kept
    return stripped


# --- the whole log comes back -------------------------------------------------------------
@pytest.mark.parametrize("patient", CLINIC, ids=[p.patient_id for p in CLINIC])
def test_every_demo_patient_comes_back_command_for_command(
    patient: DemoPatient, kb: KnowledgeBase
) -> None:
    log = log_of(patient.commands)
    back = logged_commands(decode_bundle(export(log, kb)))
    assert envelope(back) == envelope(log)
    original = replay(((e.command, e.recorded_on) for e in log), kb=kb)
    assert check_log(back, kb=kb, on=TODAY) == original


def test_every_kind_of_command_has_a_fhir_form_that_comes_back(kb: KnowledgeBase) -> None:
    log = log_of(every_command())
    assert {type(e.command).__name__ for e in log} == set(COMMAND_TYPES)
    bundle = export(log, kb, on=day(20))
    back = logged_commands(decode_bundle(bundle))
    assert envelope(back) == envelope(log)
    kinds = {r["resourceType"] for r in resources(bundle)}
    assert kinds == {
        "Patient", "Observation", "MedicationStatement", "CarePlan", "MedicationRequest",
        "MedicationDispense", "DetectedIssue", "QuestionnaireResponse", "Procedure", "Task",
    }  # fmt: skip


def views_agree(a: PatientRecord, b: PatientRecord, kb: KnowledgeBase, on: date) -> None:
    """The cumulative dose, the schedule and the findings of the day are the same."""
    first, second = course_view(a, (), on=on, kb=kb), course_view(b, (), on=on, kb=kb)
    assert first.cumulative == second.cumulative
    assert first.schedule == second.schedule
    assert first.assessment == second.assessment


@SETTINGS
@given(st.data())
def test_any_valid_command_sequence_comes_back_as_the_same_record(data: st.DataObject) -> None:
    from tests.clinical.test_record_properties import KB

    record, accepted, last = command_sequence(data)
    log = log_of((command, command.on) for command in accepted)
    bundle = export(log, KB, on=last)
    back = logged_commands(decode_bundle(msgspec.json.encode(bundle)))
    assert envelope(back) == envelope(log)
    rebuilt = check_log(back, kb=KB, on=last)
    assert rebuilt == record
    assert rebuilt is not None
    for on in (last, last + timedelta(days=60)):
        views_agree(rebuilt, record, KB, on)


# --- the Bundle's shape ------------------------------------------------------------------
def test_the_bundle_is_a_closed_fhir_r4_collection_with_unique_stable_ids(
    kb: KnowledgeBase,
) -> None:
    for log in [log_of(every_command()), *(log_of(p.commands) for p in CLINIC)]:
        bundle = export(log, kb, on=day(20))
        assert bundle == export(log, kb, on=day(20))
        assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
        urls = [e["fullUrl"] for e in bundle["entry"]]
        keys = [(r["resourceType"], r["id"]) for r in resources(bundle)]
        assert len(set(urls)) == len(urls)
        assert len(set(keys)) == len(keys)
        assert all(isinstance(r["resourceType"], str) and r["id"] for r in resources(bundle))
        assert set(references(bundle)) <= set(urls)
        msgspec.json.encode(bundle)  # plain JSON all the way down


def test_every_resource_validates_against_the_fhir_resources_models(kb: KnowledgeBase) -> None:
    """fhir.resources has no R4 models; its R4B models have the same elements for every
    resource type the export writes, so they catch a misspelt element or a wrong type."""
    models = pytest.importorskip("fhir.resources.R4B")
    for log in [log_of(every_command()), *(log_of(p.commands) for p in CLINIC)]:
        bundle = export(log, kb, on=day(20))
        models.get_fhir_model_class("Bundle").model_validate(bundle)
        for resource in resources(bundle):
            models.get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_a_later_export_keeps_the_ids_of_the_earlier_one(kb: KnowledgeBase) -> None:
    log = log_of(every_command())
    earlier = {e["fullUrl"] for e in export(log[:16], kb, on=day(20))["entry"]}
    later = {e["fullUrl"] for e in export(log, kb, on=day(20))["entry"]}
    assert earlier < later


def test_overrides_are_detected_issues_with_rule_reason_and_who(kb: KnowledgeBase) -> None:
    log = log_of(every_command())
    bundle = export(log, kb, on=day(20))
    (issue,) = [r for r in resources(bundle) if r["resourceType"] == "DetectedIssue"]
    (override,) = [e for e in log if isinstance(e.command, RecordOverride)]
    assert issue["code"]["coding"][0] == {
        "system": ISOTRACK_RULE,
        "code": "AGE-ADOLESCENT-BONE",
        "display": kb.rule("AGE-ADOLESCENT-BONE").title,
    }
    assert (issue["detail"], issue["author"]) == ("discussed", {"display": override.actor})


def test_observations_carry_the_knowledge_base_loinc_codes(kb: KnowledgeBase) -> None:
    bundle = export(log_of(CLINIC[0].commands), kb)
    codes = {
        (c["system"], c["code"])
        for r in resources(bundle)
        if r["resourceType"] == "Observation"
        for c in r["code"].get("coding", [])
    }
    loinc = "http://loinc.org"
    for code in ("29463-7", "2571-8", "1742-6", "44261-6"):
        assert (loinc, code) in codes
    hcg = {c.code for c in kb.valueset("pregnancy-test-hcg").codes}
    assert any(system == loinc and code in hcg for system, code in codes)


def test_the_fhir_reader_reads_the_exported_prescriptions(kb: KnowledgeBase) -> None:
    bundle = decode_bundle(export(log_of(CLINIC[0].commands), kb))  # Ana: 30 mg twice a day
    requests = bundle.of_type(MedicationRequest)
    assert len(requests) == 3
    order = read_order(requests[0], kb, bundle=bundle).order
    assert (order.product, order.dose_mg, order.times_per_day) == ("absorica", 30, 2)
    assert (order.quantity, order.supply_days, order.repeats) == (60, 30, 0)
    snapshot = snapshot_from_bundle(bundle, kb=kb, on=TODAY)
    assert snapshot.patient_id == "demo-ana"
    assert {u.method for u in snapshot.contraception} == {"implant-etonogestrel", "male-condom"}


# --- a Bundle that cannot be read back is refused, naming the entry -----------------------
def test_a_resource_missing_an_element_is_refused_naming_its_entry(kb: KnowledgeBase) -> None:
    bundle = export(log_of(every_command()), kb, on=day(20))
    index, weight_resource = next(
        (i, e["resource"])
        for i, e in enumerate(bundle["entry"])
        if e["resource"]["resourceType"] == "Observation" and "valueQuantity" in e["resource"]
    )
    del weight_resource["valueQuantity"]
    with pytest.raises(InvalidInputError) as refused:
        logged_commands(decode_bundle(bundle))
    message = str(refused.value)
    assert f"entry {index} (Observation/{weight_resource['id']})" in message
    assert "RecordWeight" in message
    assert "valueQuantity" in message


def test_a_log_with_a_gap_is_refused(kb: KnowledgeBase) -> None:
    bundle = export(log_of(every_command()), kb, on=day(20))
    bundle["entry"] = [
        e for e in bundle["entry"] if e["resource"]["resourceType"] != "DetectedIssue"
    ]
    with pytest.raises(InvalidInputError, match="command 28 is missing"):
        logged_commands(decode_bundle(bundle))


def test_a_command_the_record_refuses_is_named_and_nothing_passes(kb: KnowledgeBase) -> None:
    log = log_of(every_command())
    bundle = export(log, kb, on=day(20))
    (dispense_resource,) = [
        r for r in resources(bundle) if r["resourceType"] == "MedicationDispense"
    ]
    dispense_resource["quantity"]["value"] = 6000  # more than prescribed
    with pytest.raises(InvalidInputError, match=r"MedicationDispense/.*Dispense.*refused"):
        check_log(logged_commands(decode_bundle(bundle)), kb=kb, on=day(20))


def test_a_command_recorded_after_the_import_day_is_refused(kb: KnowledgeBase) -> None:
    back = logged_commands(decode_bundle(export(log_of(every_command()), kb, on=day(20))))
    with pytest.raises(InvalidInputError, match="future"):
        check_log(back, kb=kb, on=day(0))


# --- importing: a new patient, a renamed one, an update ----------------------------------
def test_the_patient_id_can_be_chosen_on_import(kb: KnowledgeBase) -> None:
    bundle = decode_bundle(export(log_of(CLINIC[1].commands), kb))
    assert target_patient_id(bundle) == "demo-ben"
    plan = plan_import(bundle, kb=kb, on=TODAY, patient_id="clinic-42")
    assert plan.patient_id == "clinic-42"
    first = plan.commands[0]
    assert isinstance(first, EnrolPatient)
    assert first.patient_id == "clinic-42"
    assert plan.log[0].command == first
    assert [e.command for e in plan.log[1:]] == [c for c, _ in CLINIC[1].commands[1:]]


def test_an_update_from_a_later_export_adds_only_the_newer_commands(kb: KnowledgeBase) -> None:
    log = log_of(every_command())
    held = log[:10]
    existing = replay(((e.command, e.recorded_on) for e in held), kb=kb)
    bundle = decode_bundle(export(log, kb, on=day(20)))
    plan = plan_import(bundle, kb=kb, on=day(20), existing=existing, existing_log=held)
    assert envelope(plan.log) == envelope(log[10:])
    assert not plan.notes


def test_an_update_from_a_log_that_went_its_own_way_adds_only_what_is_missing(
    kb: KnowledgeBase,
) -> None:
    full = log_of(CLINIC[0].commands)
    half = log_of(CLINIC[0].commands[: len(full) // 2])
    held = [*half[:-1], LoggedCommand(half[-1].seq, half[-1].command, NOW, "someone", TODAY)]
    existing = replay(((e.command, e.recorded_on) for e in held), kb=kb)
    bundle = decode_bundle(export(full, kb))
    plan = plan_import(bundle, kb=kb, on=TODAY, existing=existing, existing_log=held)
    assert plan.log == ()
    assert plan.commands
    assert "differ" in plan.notes[-1]
    assert observable(apply_all(existing, plan.commands, kb)) == observable(record_of(full, kb))


NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


# --- a Bundle from another system --------------------------------------------------------
def record_of(log: Sequence[LoggedCommand], kb: KnowledgeBase) -> PatientRecord:
    return replay(((e.command, e.recorded_on) for e in log), kb=kb)


def imported(bundle: Bundle, kb: KnowledgeBase, **options: Any) -> PatientRecord:
    commands = commands_from_bundle(decode_bundle(bundle), kb=kb, on=TODAY, **options)
    return apply_all(None, commands, kb)


def apply_all(
    record: PatientRecord | None, commands: Iterable[AnyCommand], kb: KnowledgeBase
) -> PatientRecord:
    for command in commands:
        record = apply(record, command, today=TODAY, kb=kb)
    assert record is not None
    return record


def observable(record: PatientRecord) -> dict[str, object]:
    """What a Bundle from elsewhere brings: the patient and the dated data, in date order."""
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
def test_without_the_command_extensions_the_observable_data_comes_back(
    patient: DemoPatient, kb: KnowledgeBase
) -> None:
    log = log_of(patient.commands)
    bundle = without_commands(export(log, kb))
    assert observable(imported(bundle, kb)) == observable(record_of(log, kb))


@pytest.mark.parametrize("patient", CLINIC, ids=[p.patient_id for p in CLINIC])
def test_importing_a_foreign_bundle_again_adds_nothing(
    patient: DemoPatient, kb: KnowledgeBase
) -> None:
    log = log_of(patient.commands)
    bundle = decode_bundle(without_commands(export(log, kb)))
    assert commands_from_bundle(bundle, kb=kb, on=TODAY, existing=record_of(log, kb)) == []


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
            log = log_of((c, c.on) for c in commands)
            bundle = export(log, kb)
            assert envelope(logged_commands(decode_bundle(bundle))) == envelope(log)
            back = imported(without_commands(bundle), kb)
            expected = observable(record_of(log, kb))["contraception"]
            assert observable(back)["contraception"] == expected, (method.id, stopped)


def test_lesion_counts_without_optional_parts_come_back(kb: KnowledgeBase) -> None:
    enrol = EnrolPatient(
        on=ENROLLED, patient_id="p-skin", name="Skin Demo", birth_date=date(1990, 5, 6), sex="male"
    )
    log = log_of([(enrol, ENROLLED), (RecordLesionCount(on=date(2025, 4, 1), nodules=4), TODAY)])
    bundle = export(log, kb)
    assert envelope(logged_commands(decode_bundle(bundle))) == envelope(log)
    assert observable(imported(without_commands(bundle), kb)) == observable(record_of(log, kb))


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
    with pytest.raises(InvalidInputError, match="birth date"):
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


def test_a_split_dose_is_one_dosage_instruction_per_administration_and_comes_back(
    kb: KnowledgeBase,
) -> None:
    """Issue 13: morning 30 mg, evening 25 mg of Absorica (58 kg)."""
    regimen = Regimen((Administration((30.0,)), Administration((25.0,))))
    split = prescription_of(on=day(0), prescription_id="p1", regimen=regimen, supply_days=30)
    commands: list[AnyCommand] = [
        enrol_man(), RecordCounselling(on=day(-7), topic="enrolment"), weight(0, 58.0),
        start_course(0, product="absorica"), split, authorize(0), dispense(0),
    ]  # fmt: skip
    log = log_of((c, c.on) for c in commands)
    bundle = export(log, kb)
    (request,) = (r for r in resources(bundle) if r["resourceType"] == "MedicationRequest")
    dosages = request["dosageInstruction"]
    assert [d["doseAndRate"][0]["doseQuantity"]["value"] for d in dosages] == [30, 25]
    assert [d["timing"]["repeat"]["when"] for d in dosages] == [["MORN"], ["EVE"]]
    assert dosages[0]["text"] == "morning: 30 mg (1 × 30 mg) by mouth"
    order = read_order(decode_bundle(bundle).of_type(MedicationRequest)[0], kb).order
    assert (order.doses_mg, order.times_per_day) == ((30.0, 25.0), 2)
    assert envelope(logged_commands(decode_bundle(bundle))) == envelope(log)
