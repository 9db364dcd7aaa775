"""hCG pregnancy tests in every way an R4 EHR writes them: qualitative codes, strings and
interpretations, quantities in any unit against their own range or the sourced cut-offs,
data-absent results, statuses, the specimen date and the setting."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from isotrack.clinical.codes import SNOMED
from isotrack.clinical.snapshot import PatientSnapshot, PregnancyTest, TestResult, TestSetting
from isotrack.errors import FhirDecodeError
from isotrack.fhir import snapshot_from_bundle
from isotrack.knowledge import KnowledgeBase
from tests.fhir.builders import Json, bundle, concept, read
from tests.fhir.builders_pregnancy import (
    HOME_TEST_PROFILE,
    LAB_CATEGORY,
    QUALITATIVE,
    hcg_test,
    interpretation,
    reference_range,
    serum_hcg,
    specimen,
)

POS, NEG, IND = TestResult.POSITIVE, TestResult.NEGATIVE, TestResult.INDETERMINATE


def snap(kb: KnowledgeBase, *resources: Json) -> PatientSnapshot:
    return snapshot_from_bundle(read(bundle(*resources)), kb=kb)


def only_test(kb: KnowledgeBase, *resources: Json) -> PregnancyTest:
    (test,) = snap(kb, *resources).pregnancy_tests
    return test


# --- qualitative -----------------------------------------------------------------------
@pytest.mark.parametrize("result", ["positive", "negative", "indeterminate"])
@pytest.mark.parametrize("index", range(4))
def test_a_qualitative_result_is_read_in_snomed_ct_and_loinc_answers(
    kb: KnowledgeBase, result: str, index: int
) -> None:
    test = only_test(kb, hcg_test(valueCodeableConcept=QUALITATIVE[result][index]))
    assert test.result is TestResult(result)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("POS", POS), ("DET", POS), ("RR", POS), ("NEG", NEG), ("ND", NEG), ("NR", NEG),
     ("IND", IND), ("E", IND)],
)  # fmt: skip
def test_an_interpretation_alone_gives_the_result(
    kb: KnowledgeBase, code: str, expected: TestResult
) -> None:
    assert only_test(kb, hcg_test(interpretation=interpretation(code))).result is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Negative", NEG), (" NOT DETECTED. ", NEG), ("-", NEG), ("+", POS), ("Detected", POS),
     ("Borderline", IND), ("faint line, repeat", IND)],
)  # fmt: skip
def test_a_value_string_is_read_only_when_it_is_a_known_phrase(
    kb: KnowledgeBase, text: str, expected: TestResult
) -> None:
    assert only_test(kb, hcg_test(valueString=text)).result is expected


def test_a_coded_value_not_in_any_list_is_indeterminate_not_negative(kb: KnowledgeBase) -> None:
    odd = concept(SNOMED, "123456", "Weak line")
    snapshot = snap(kb, hcg_test(valueCodeableConcept=odd))
    assert [t.result for t in snapshot.pregnancy_tests] == [IND]
    assert any("not readable" in n for n in snapshot.notes)


def test_a_positive_interpretation_wins_over_a_negative_value(kb: KnowledgeBase) -> None:
    negative = QUALITATIVE["negative"][0]
    snapshot = snap(
        kb, hcg_test(valueCodeableConcept=negative, interpretation=interpretation("POS"))
    )
    assert [t.result for t in snapshot.pregnancy_tests] == [POS]
    assert any("disagree" in n for n in snapshot.notes)


def test_a_negative_value_with_an_equivocal_interpretation_is_indeterminate(
    kb: KnowledgeBase,
) -> None:
    negative = QUALITATIVE["negative"][2]
    test = only_test(
        kb, hcg_test(valueCodeableConcept=negative, interpretation=interpretation("E"))
    )
    assert test.result is IND


# --- quantitative ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (15000, "mIU/mL", POS),
        (15000, "m[IU]/mL", POS),
        (15, "IU/L", IND),
        (15, "[iU]/L", IND),
        (2, "m[iU]/mL", NEG),
        (2, "[IU]/L", NEG),
        (0.03, "[IU]/mL", POS),
        (25, "mIU/mL", POS),
        (4.9, "mIU/mL", NEG),
        (5, "mIU/mL", IND),
    ],
)
def test_a_quantitative_hcg_in_any_unit_is_judged_against_the_sourced_cut_offs(
    kb: KnowledgeBase, value: float, unit: str, expected: TestResult
) -> None:
    assert only_test(kb, serum_hcg(value, unit)).result is expected


def test_a_serum_hcg_of_15000_is_positive_and_2_is_negative(kb: KnowledgeBase) -> None:
    """The two misreadings of issue 12: no card for a pregnancy, a false critical."""
    high = serum_hcg(15000, code="m[IU]/mL", id="high")
    assert only_test(kb, high).result is POS
    assert only_test(kb, serum_hcg(2, "mIU/mL")).result is NEG


def test_an_indeterminate_amount_says_why(kb: KnowledgeBase) -> None:
    test = only_test(kb, serum_hcg(12, "mIU/mL"))
    assert test.result is IND
    assert "negative cut-off 5" in test.detail
    assert "sensitivity 25" in test.detail


@pytest.mark.parametrize(
    ("value", "high", "expected"),
    [(8, 10, NEG), (8, 5, IND), (30, 50, POS), (3, 2, IND), (1, 2, NEG)],
)
def test_a_quantitative_hcg_is_judged_against_its_own_reference_range(
    kb: KnowledgeBase, value: float, high: float, expected: TestResult
) -> None:
    test = serum_hcg(value, referenceRange=reference_range(high))
    assert only_test(kb, test).result is expected


def test_a_reference_range_in_another_unit_is_converted(kb: KnowledgeBase) -> None:
    test = serum_hcg(8, "mIU/mL", referenceRange=reference_range(0.01, "[IU]/mL"))
    assert only_test(kb, test).result is NEG


@pytest.mark.parametrize(
    ("value", "code", "expected"),
    [(15, "NEG", NEG), (15, "N", NEG), (15, "H", IND), (3, "POS", POS), (3, "A", IND),
     (40, "NEG", POS), (40, "N", POS)],
)  # fmt: skip
def test_the_labs_interpretation_judges_an_amount_below_the_required_sensitivity(
    kb: KnowledgeBase, value: float, code: str, expected: TestResult
) -> None:
    test = serum_hcg(value, interpretation=interpretation(code))
    assert only_test(kb, test).result is expected


@pytest.mark.parametrize(
    ("comparator", "value", "expected"),
    [
        ("<", 5, NEG),
        ("<", 2, NEG),
        ("<=", 5, IND),
        ("<", 20, IND),
        (">", 1000, POS),
        (">", 10, IND),
    ],
)
def test_a_comparator_bounds_the_amount(
    kb: KnowledgeBase, comparator: str, value: float, expected: TestResult
) -> None:
    quantity = {"value": value, "comparator": comparator, "unit": "mIU/mL"}
    assert only_test(kb, hcg_test("21198-7", valueQuantity=quantity)).result is expected


@pytest.mark.parametrize(
    ("text", "expected"), [("<2 mIU/mL", NEG), ("15000 IU/L", POS), ("12 mIU/mL", IND)]
)
def test_a_numeric_string_with_its_unit_is_read_as_an_amount(
    kb: KnowledgeBase, text: str, expected: TestResult
) -> None:
    assert only_test(kb, hcg_test("19080-1", valueString=text)).result is expected


def test_an_amount_in_a_unit_isotrack_cannot_convert_is_indeterminate(kb: KnowledgeBase) -> None:
    test = only_test(kb, serum_hcg(40, "pmol/L"))
    assert test.result is IND
    assert "not convertible" in test.detail


def test_an_impossible_negative_amount_is_refused_naming_the_observation(
    kb: KnowledgeBase,
) -> None:
    with pytest.raises(FhirDecodeError, match="Observation/hcg-1"):
        snap(kb, serum_hcg(-3))


# --- no result, statuses ---------------------------------------------------------------
def test_a_result_with_a_data_absent_reason_is_indeterminate(kb: KnowledgeBase) -> None:
    absent = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                          "code": "error", "display": "Error"}]}  # fmt: skip
    test = only_test(kb, hcg_test(dataAbsentReason=absent))
    assert test.result is IND
    assert "data absent (Error)" in test.detail


@pytest.mark.parametrize(
    ("status", "result", "expected"),
    [
        ("preliminary", "positive", POS),
        ("preliminary", "negative", IND),
        ("unknown", "negative", IND),
        ("registered", "positive", POS),
        ("Preliminary", "negative", IND),
        ("PRELIMINARY", "positive", POS),
        ("Final", "negative", NEG),
        ("amended", "negative", NEG),
        ("corrected", "positive", POS),
        ("final", "negative", NEG),
    ],
)
def test_a_preliminary_positive_is_kept_and_a_preliminary_negative_is_not_yet_negative(
    kb: KnowledgeBase, status: str, result: str, expected: TestResult
) -> None:
    value = QUALITATIVE[result][0]
    test = only_test(kb, hcg_test(status=status, valueCodeableConcept=value))
    assert test.result is expected
    if status.casefold() == "preliminary" and result == "negative":
        assert "preliminary negative" in test.detail


# --- the specimen date -----------------------------------------------------------------
def test_the_specimen_collection_date_of_a_contained_specimen_dates_the_test(
    kb: KnowledgeBase,
) -> None:
    test = hcg_test(
        valueCodeableConcept=QUALITATIVE["negative"][0],
        specimen={"reference": "#s1"},
        contained=[specimen("2026-02-24T08:00:00Z", id="s1")],
    )
    assert only_test(kb, test).on == date(2026, 2, 24)


@pytest.mark.parametrize("period", [False, True])
def test_a_specimen_in_the_bundle_dates_the_test(kb: KnowledgeBase, period: bool) -> None:
    test = hcg_test(
        valueCodeableConcept=QUALITATIVE["negative"][0], specimen={"reference": "Specimen/spec-1"}
    )
    assert only_test(kb, test, specimen("2026-02-23", period=period)).on == date(2026, 2, 23)


def test_a_missing_specimen_leaves_the_effective_date_with_a_note(kb: KnowledgeBase) -> None:
    test = hcg_test(
        valueCodeableConcept=QUALITATIVE["negative"][0], specimen={"reference": "Specimen/gone"}
    )
    snapshot = snap(kb, test)
    assert [t.on for t in snapshot.pregnancy_tests] == [date(2026, 2, 27)]
    assert any("Specimen/gone is not in the record" in n for n in snapshot.notes)


# --- the setting -----------------------------------------------------------------------
RELATIVE = {"resourceType": "RelatedPerson", "id": "mum-1"}
SELF = [{"reference": "Patient/11111111-1111-1111-1111-111111111111"}]
BY_URN = [{"reference": "urn:uuid:00000000-0000-0000-0000-000000000001"}]  # the 2nd entry
SERUM = specimen("2026-02-27", type=concept(SNOMED, "119364003", "Serum specimen"))
HOME_PROFILE = {"profile": [HOME_TEST_PROFILE]}


@pytest.mark.parametrize(
    ("extra", "others", "expected"),
    [
        ({"performer": SELF}, (), TestSetting.HOME),
        ({"performer": [{"reference": "RelatedPerson/mum-1"}]}, (), TestSetting.HOME),
        ({"performer": BY_URN}, (RELATIVE,), TestSetting.HOME),
        ({"performer": [{"reference": "Practitioner/dr-1"}]}, (), TestSetting.MEDICAL),
        ({"performer": [{"type": "Organization", "display": "Lab"}]}, (), TestSetting.MEDICAL),
        ({"category": LAB_CATEGORY}, (), TestSetting.MEDICAL),
        ({"category": LAB_CATEGORY, "meta": HOME_PROFILE}, (), TestSetting.HOME),
        ({"category": LAB_CATEGORY, "performer": SELF}, (), TestSetting.HOME),
        ({"specimen": {"reference": "Specimen/spec-1"}}, (SERUM,), TestSetting.MEDICAL),
        ({}, (), TestSetting.UNKNOWN),
    ],
)
def test_the_setting_comes_from_profile_performer_specimen_or_category(
    kb: KnowledgeBase, extra: dict[str, Any], others: tuple[Json, ...], expected: TestSetting
) -> None:
    test = hcg_test(valueCodeableConcept=QUALITATIVE["negative"][0], **extra)
    assert only_test(kb, *others, test).setting is expected


def test_a_serum_hcg_is_a_medical_setting_test(kb: KnowledgeBase) -> None:
    assert only_test(kb, serum_hcg(2)).setting is TestSetting.MEDICAL


def test_isotracks_own_setting_category_comes_first(kb: KnowledgeBase) -> None:
    home = [{"coding": [{"system": "urn:isotrack:test-setting", "code": "home"}]}]
    test = serum_hcg(2, category=home)
    assert only_test(kb, test).setting is TestSetting.HOME


def test_an_hcg_code_the_knowledge_base_lists_is_read_and_free_beta_is_not(
    kb: KnowledgeBase,
) -> None:
    listed = hcg_test("80384-1", valueCodeableConcept=QUALITATIVE["negative"][0])
    assert only_test(kb, listed).result is NEG
    free_beta = hcg_test("19180-9", valueQuantity={"value": 3, "unit": "mIU/mL"})
    assert snap(kb, free_beta).pregnancy_tests == ()
