from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isotrack.clinical.codes import LOINC, SNOMED
from isotrack.clinical.findings import Severity
from isotrack.clinical.screening.context import assess_course
from isotrack.clinical.snapshot import PatientSnapshot, TestResult, TestSetting
from isotrack.clinical.state.commands import RecordPHQ9
from isotrack.errors import FhirDecodeError
from isotrack.fhir import snapshot_from_bundle
from isotrack.fhir.import_record import plan_import
from isotrack.knowledge import KnowledgeBase, default_knowledge
from tests.fhir.builders import (
    bundle,
    concept,
    hcg,
    isotretinoin_order,
    observation,
    patient,
    quantity,
    read,
    triglycerides,
    weight,
)

POSITIVE = concept(SNOMED, "10828004", "Positive")
NEGATIVE = concept(SNOMED, "260385009", "Negative")
LAB = [{"coding": [{"code": "laboratory"}]}]
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
NEG = [{"coding": [{"system": INTERPRETATION, "code": "NEG"}]}]


def snap(kb: KnowledgeBase, *resources: dict[str, Any]) -> PatientSnapshot:
    return snapshot_from_bundle(read(bundle(*resources)), kb=kb)


# --- weights ----------------------------------------------------------------------
def test_a_weight_in_kg_enters_with_its_date_and_source(kb: KnowledgeBase) -> None:
    (recorded,) = snap(kb, weight(70.5, "kg")).weights
    assert (recorded.kg, recorded.on, recorded.source) == (
        70.5,
        date(2026, 2, 20),
        "Observation/obs-1",
    )


def test_a_weight_in_pounds_is_converted_to_kg(kb: KnowledgeBase) -> None:
    (recorded,) = snap(kb, weight(154, "[lb_av]")).weights
    assert recorded.kg == pytest.approx(69.853, abs=0.001)
    (spelled,) = snap(kb, weight(154, "lbs", "lbs")).weights
    assert spelled.kg == pytest.approx(recorded.kg)


def test_a_weight_in_grams_is_converted_to_kg(kb: KnowledgeBase) -> None:
    (recorded,) = snap(kb, weight(70500, "g")).weights
    assert recorded.kg == pytest.approx(70.5)


@given(pounds=st.floats(min_value=1, max_value=1000, allow_nan=False))
def test_any_weight_in_pounds_converts_by_the_avoirdupois_pound(pounds: float) -> None:
    (recorded,) = snap(default_knowledge(), weight(pounds, "[lb_av]")).weights
    assert recorded.kg == pytest.approx(pounds * 0.45359237)


def test_a_weight_in_an_unknown_unit_is_ignored_with_a_note(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, weight(11, "stone", "[stone_av]"))
    assert snapshot.weights == ()
    assert any("unit '[stone_av]' for body weight cannot be converted" in n for n in snapshot.notes)


def test_a_weight_without_a_unit_is_ignored_with_a_note(kb: KnowledgeBase) -> None:
    observed = weight(70, "kg")
    observed["valueQuantity"] = {"value": 70}
    snapshot = snap(kb, observed)
    assert snapshot.weights == ()
    assert any("has no unit" in n for n in snapshot.notes)


def test_an_impossible_weight_is_refused_naming_the_observation(kb: KnowledgeBase) -> None:
    with pytest.raises(FhirDecodeError, match="Observation/obs-1"):
        snap(kb, weight(0, "kg"))


def test_entered_in_error_and_cancelled_observations_are_skipped(kb: KnowledgeBase) -> None:
    wrong = weight(70, "kg", status="entered-in-error")
    cancelled = triglycerides(900, status="cancelled")
    snapshot = snap(kb, wrong, cancelled)
    assert (snapshot.weights, snapshot.labs) == ((), ())


def test_an_observation_without_a_date_is_ignored_with_a_note(kb: KnowledgeBase) -> None:
    observed = weight(70, "kg")
    del observed["effectiveDateTime"]
    snapshot = snap(kb, observed)
    assert snapshot.weights == ()
    assert any(
        n.startswith("Observation/obs-1: no effective date; ignored") for n in snapshot.notes
    )


# --- labs -------------------------------------------------------------------------
def test_triglycerides_in_mmol_per_l_enter_in_mg_per_dl(kb: KnowledgeBase) -> None:
    (lab,) = snap(kb, triglycerides(5.65, "mmol/L")).labs
    assert (lab.analyte, lab.unit, lab.code) == ("triglycerides", "mg/dL", "2571-8")
    assert lab.value == pytest.approx(500.4, abs=0.1)


def test_a_lab_keeps_the_upper_limit_of_its_reference_range(kb: KnowledgeBase) -> None:
    alt = observation(
        "1742-6",
        "ALT",
        valueQuantity=quantity(95, "U/L"),
        referenceRange=[{"low": quantity(7, "U/L"), "high": quantity(56, "U/L")}],
    )
    (lab,) = snap(kb, alt).labs
    assert (lab.analyte, lab.value, lab.reference_high) == ("alt", 95, 56)


def test_a_lab_in_an_unknown_unit_becomes_a_note_not_a_crash(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, triglycerides(5, "foo"))
    assert snapshot.labs == ()
    assert (
        "Observation/tg-1: unit 'foo' for triglycerides cannot be converted to mg/dL; ignored"
        in snapshot.notes
    )


def test_a_negative_lab_value_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(FhirDecodeError, match="Observation/tg-1"):
        snap(kb, triglycerides(-5))


def test_a_coded_observation_outside_the_value_set_is_not_read_by_its_name(
    kb: KnowledgeBase,
) -> None:
    urine = observation(
        "5792-7",
        "Glucose [Mass/volume] in Urine by Test strip",
        valueQuantity=quantity(100, "mg/dL"),
    )
    assert snap(kb, urine).labs == ()


def test_an_uncoded_observation_is_read_by_its_name_with_a_note(kb: KnowledgeBase) -> None:
    uncoded = hcg(valueCodeableConcept=NEGATIVE)
    uncoded["code"] = {"text": "Urine hCG"}
    snapshot = snap(kb, uncoded)
    assert [t.result for t in snapshot.pregnancy_tests] == [TestResult.NEGATIVE]
    assert any("by its name only" in n for n in snapshot.notes)


# --- pregnancy tests -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"valueCodeableConcept": POSITIVE}, TestResult.POSITIVE),
        ({"valueCodeableConcept": NEGATIVE}, TestResult.NEGATIVE),
        (
            {"valueCodeableConcept": concept(SNOMED, "260415000", "Not detected")},
            TestResult.NEGATIVE,
        ),
        ({"valueString": "Negative"}, TestResult.NEGATIVE),
        ({"valueString": "positive."}, TestResult.POSITIVE),
        ({"valueString": "faint line"}, TestResult.INDETERMINATE),
        (
            {
                "valueQuantity": quantity(2, "m[IU]/mL"),
                "interpretation": NEG,
            },
            TestResult.NEGATIVE,
        ),
    ],
)
def test_an_hcg_result_is_read_from_its_value_or_interpretation(
    kb: KnowledgeBase, value: dict[str, Any], expected: TestResult
) -> None:
    (test,) = snap(kb, hcg(**value)).pregnancy_tests
    assert (test.result, test.on, test.source) == (expected, date(2026, 2, 27), "Observation/hcg-1")


def test_a_positive_value_wins_over_a_negative_interpretation(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, hcg(valueCodeableConcept=POSITIVE, interpretation=NEG))
    assert [t.result for t in snapshot.pregnancy_tests] == [TestResult.POSITIVE]
    assert any("disagree" in n for n in snapshot.notes)


def test_an_hcg_test_without_a_result_is_not_a_test(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, hcg(status="registered"))
    assert snapshot.pregnancy_tests == ()
    assert any("has no result; not counted" in n for n in snapshot.notes)


def test_a_laboratory_hcg_is_in_a_medical_setting(kb: KnowledgeBase) -> None:
    (lab,) = snap(kb, hcg(valueCodeableConcept=NEGATIVE, category=LAB)).pregnancy_tests
    assert lab.setting is TestSetting.MEDICAL
    (other,) = snap(kb, hcg(valueCodeableConcept=NEGATIVE)).pregnancy_tests
    assert other.setting is TestSetting.UNKNOWN


def test_phq9_total_and_item9_of_the_same_day_make_one_mood_screen(kb: KnowledgeBase) -> None:
    total = observation("44261-6", "PHQ-9 total", id="phq-1", valueQuantity=quantity(12, "{score}"))
    item9 = observation(
        "44260-8",
        "PHQ-9 item 9",
        id="phq-9",
        valueCodeableConcept=concept(LOINC, "LA6569-3", "Several days"),
    )
    (screen,) = snap(kb, total, item9).mood_screens
    assert (screen.phq9_total, screen.item9, screen.on) == (12, 1, date(2026, 2, 20))


def test_a_phq9_panel_with_components_is_read(kb: KnowledgeBase) -> None:
    panel = observation(
        "44249-1",
        "PHQ-9 panel",
        component=[
            {"code": concept(LOINC, "44261-6", "total"), "valueInteger": 4},
            {"code": concept(LOINC, "44260-8", "item 9"), "valueInteger": 0},
        ],
    )
    (screen,) = snap(kb, panel).mood_screens
    assert (screen.phq9_total, screen.item9) == (4, 0)


def test_a_phq9_item9_without_a_total_is_read_for_self_harm_not_as_a_whole_screen(
    kb: KnowledgeBase,
) -> None:
    item9 = observation("44260-8", "PHQ-9 item 9", valueInteger=2)
    snapshot = snap(kb, item9)
    assert [(m.phq9_total, m.item9) for m in snapshot.mood_screens] == [(None, 2)]
    assert any("item 9 = 2" in n and "without a total" in n for n in snapshot.notes)


def test_item9_without_a_total_during_a_course_is_a_critical_phq9_finding(
    kb: KnowledgeBase,
) -> None:
    course = isotretinoin_order(status="active", authored="2026-01-20")
    item9 = observation("44260-8", "PHQ-9 item 9", "2026-02-20", valueInteger=1)
    snapshot = snapshot_from_bundle(
        read(bundle(course, item9)), kb=kb, on=date(2026, 2, 21), review_order=False
    )
    findings = assess_course(snapshot, on=date(2026, 2, 21), kb=kb).findings
    positive = [f for f in findings if f.rule_id == "MOOD-PHQ9-POSITIVE"]
    assert [f.severity for f in positive] == [Severity.CRITICAL]
    assert "MOOD-SCREEN-DUE" in {f.rule_id for f in findings}  # still no whole PHQ-9


def test_importing_item9_without_a_total_reports_it_and_imports_the_rest(
    kb: KnowledgeBase,
) -> None:
    item9 = observation("44260-8", "PHQ-9 item 9", "2026-02-20", valueInteger=1)
    named = patient(name=[{"family": "Doe", "given": ["Jo"]}])
    plan = plan_import(read(bundle(named, item9, with_patient=False)), kb=kb, on=date(2026, 3, 1))
    assert not any(isinstance(c, RecordPHQ9) for c in plan.commands)
    assert any("PHQ-9 item 9 = 1" in n and "not imported" in n for n in plan.notes)


def test_an_impossible_phq9_total_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(FhirDecodeError, match="phq9_total"):
        snap(kb, observation("44261-6", "PHQ-9 total", valueInteger=31))
