"""Import and export keep what the rules read of weights, labs and PHQ-9: each lab's
own LOINC code (serum glucose stays serum glucose), its upper limit of normal, and a
fact the record cannot hold is reported, never dropped in silence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from isotrack.clinical.codes import LOINC, SNOMED
from isotrack.clinical.record.aggregate import PatientRecord, apply
from isotrack.clinical.state.commands import AnyCommand, EnrolPatient, RecordLabResult
from isotrack.errors import CommandRejected
from isotrack.fhir import decode_bundle
from isotrack.fhir.command_extension import LoggedCommand
from isotrack.fhir.export import record_to_bundle
from isotrack.fhir.import_log import logged_commands
from isotrack.fhir.import_record import plan_import
from isotrack.knowledge import KnowledgeBase
from tests.fhir.builders import bundle, concept, observation, patient, quantity, read

TODAY = date(2026, 3, 2)
FEMALE = concept(SNOMED, "248152002", "Female")


def ehr_bundle(*extra: dict[str, Any]) -> dict[str, Any]:
    """An EHR's record: serum glucose in mmol/L, ALT in µkat/L with a female range among
    others, triglycerides in mmol/L, a weight in lb and a PHQ-9 panel."""
    alt_ranges = [
        {"high": quantity(0.75, "µkat/L"), "appliesTo": [concept(SNOMED, "248153007", "Male")]},
        {"high": quantity(0.58, "µkat/L"), "appliesTo": [FEMALE]},
    ]
    return bundle(
        patient(name=[{"text": "Ana Ruiz"}]),
        *extra,
        observation("2345-7", "Glucose SerPl", id="glu", valueQuantity=quantity(5.5, "mmol/L")),
        observation(
            "1743-4",
            "ALT",
            "2026-02-21",
            id="alt",
            valueQuantity=quantity(2.4, "µkat/L", "ukat/L"),
            referenceRange=alt_ranges,
        ),
        observation("14927-8", "TG", id="tg", valueQuantity=quantity(7.0, "mmol/L")),
        observation("29463-7", "Weight", id="w", valueQuantity=quantity(154, "lb", "[lb_av]")),
        observation(
            "44249-1",
            "PHQ-9 panel",
            id="phq",
            component=[
                {"code": concept(LOINC, "44261-6", "total"), "valueString": "11"},
                {
                    "code": concept(LOINC, "44260-8", "item 9"),
                    "valueCodeableConcept": concept(LOINC, "LA6569-3", "Several days"),
                },
            ],
        ),
        with_patient=False,
    )


def apply_all(commands: tuple[AnyCommand, ...], kb: KnowledgeBase) -> PatientRecord:
    record: PatientRecord | None = None
    for command in commands:
        record = apply(record, command, today=TODAY, kb=kb)
    assert record is not None
    return record


def export(commands: tuple[AnyCommand, ...], kb: KnowledgeBase) -> dict[str, Any]:
    log = [
        LoggedCommand(seq, command, datetime(2026, 3, 2, 9, tzinfo=UTC), "dr-lee", TODAY)
        for seq, command in enumerate(commands, start=1)
    ]
    return record_to_bundle(apply_all(commands, kb), log, kb=kb, on=TODAY)


def labs(commands: tuple[AnyCommand, ...]) -> dict[str, RecordLabResult]:
    return {c.analyte: c for c in commands if isinstance(c, RecordLabResult)}


def test_an_ehr_bundle_imports_with_each_labs_own_code_and_uln(kb: KnowledgeBase) -> None:
    plan = plan_import(read(ehr_bundle()), kb=kb, on=TODAY)
    found = labs(plan.commands)
    assert {a: c.code for a, c in found.items()} == {
        "glucose": "2345-7",
        "alt": "1743-4",
        "triglycerides": "14927-8",
    }
    assert found["alt"].value == pytest.approx(144)
    assert found["alt"].reference_high == pytest.approx(34.8)
    assert found["glucose"].value == pytest.approx(99.1, abs=0.1)


def test_serum_glucose_is_exported_as_serum_glucose(kb: KnowledgeBase) -> None:
    plan = plan_import(read(ehr_bundle()), kb=kb, on=TODAY)
    exported = export(plan.commands, kb)
    codes = [
        coding["code"]
        for entry in exported["entry"]
        if entry["resource"]["resourceType"] == "Observation"
        for coding in entry["resource"]["code"].get("coding", ())
        if coding["system"] == LOINC
    ]
    assert "2345-7" in codes
    assert "2339-0" not in codes


def test_import_export_import_gives_the_same_record(kb: KnowledgeBase) -> None:
    first = plan_import(read(ehr_bundle()), kb=kb, on=TODAY)
    exported = export(first.commands, kb)
    back = [logged.command for logged in logged_commands(decode_bundle_of(exported))]
    assert tuple(back) == first.commands
    assert apply_all(tuple(back), kb) == apply_all(first.commands, kb)


def test_exported_observations_read_by_the_fhir_reader_are_the_same_facts(
    kb: KnowledgeBase,
) -> None:
    first = plan_import(read(ehr_bundle()), kb=kb, on=TODAY)
    without = strip_extensions(export(first.commands, kb))
    again = plan_import(decode_bundle_of(without), kb=kb, on=TODAY, patient_id="again")
    assert labs(again.commands) == labs(first.commands)
    assert [c for c in again.commands if not isinstance(c, EnrolPatient)] == [
        c for c in first.commands if not isinstance(c, EnrolPatient)
    ]


def test_a_lab_recorded_by_analyte_only_comes_back_without_a_code(kb: KnowledgeBase) -> None:
    plan = plan_import(read(ehr_bundle()), kb=kb, on=TODAY)
    enrol = plan.commands[0]
    plain = RecordLabResult(on=TODAY, analyte="glucose", value=90, unit="mg/dL")
    back = logged_commands(decode_bundle_of(export((enrol, plain), kb)))
    assert back[1].command == plain


def test_a_fact_the_record_cannot_hold_is_reported_and_the_rest_comes_in(
    kb: KnowledgeBase,
) -> None:
    later = observation(
        "2571-8", "TG", "2026-03-20", id="late", valueQuantity=quantity(900, "mg/dL")
    )
    heavy = observation("29463-7", "Weight", id="heavy", valueQuantity=quantity(2000, "kg"))
    mood = observation("44261-6", "PHQ-9", "2026-03-05", id="mood", valueInteger=3)
    plan = plan_import(read(ehr_bundle(later, heavy, mood)), kb=kb, on=TODAY)
    assert "triglycerides" in labs(plan.commands)
    assert [n for n in plan.notes if n.startswith("not imported:")] == [
        "not imported: Observation/heavy: weight 2000 kg on 2026-02-20: value: 2000 kg "
        "(2000 kg) is outside the possible 2–400 kg: check the value and its unit",
        "not imported: Observation/late: triglycerides 900 mg/dL on 2026-03-20: dated after "
        "the import day 2026-03-02",
        "not imported: Observation/mood: PHQ-9 total 3 on 2026-03-05: dated after the import "
        "day 2026-03-02",
    ]


def test_a_lab_code_of_another_analyte_is_refused(kb: KnowledgeBase) -> None:
    plan = plan_import(read(ehr_bundle()), kb=kb, on=TODAY)
    wrong = RecordLabResult(on=TODAY, analyte="alt", value=30, unit="U/L", code="2345-7")
    record = apply_all(plan.commands, kb)
    with pytest.raises(CommandRejected, match="not a LOINC code of alt"):
        apply(record, wrong, today=TODAY, kb=kb)


def decode_bundle_of(document: dict[str, Any]) -> Any:
    import json

    return decode_bundle(json.dumps(document).encode())


def strip_extensions(document: dict[str, Any]) -> dict[str, Any]:
    for entry in document["entry"]:
        entry["resource"].pop("extension", None)
    return document
