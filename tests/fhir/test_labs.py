"""Laboratory results in their units, with their LOINC variants, against their own
reference ranges."""

from __future__ import annotations

from typing import Any

import pytest

from isotrack.clinical.codes import SNOMED
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.fhir import snapshot_from_bundle
from isotrack.knowledge import KnowledgeBase
from tests.fhir.builders import bundle, concept, observation, patient, quantity, read

MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"
NORMAL = {"coding": [{"system": MEANING, "code": "normal", "display": "Normal Range"}]}
RECOMMENDED = {"coding": [{"system": MEANING, "code": "recommended"}]}
FEMALE = concept(SNOMED, "248152002", "Female")
MALE = concept(SNOMED, "248153007", "Male")


def snap(kb: KnowledgeBase, *resources: dict[str, Any], gender: str = "female") -> PatientSnapshot:
    document = bundle(patient(gender=gender), *resources, with_patient=False)
    return snapshot_from_bundle(read(document), kb=kb)


def alt(value: float, unit: str, code: str = "1742-6", **extra: Any) -> dict[str, Any]:
    return observation(code, "ALT", id="alt-1", valueQuantity=quantity(value, unit), **extra)


def upper(low: float | None, high: float | None, unit: str, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = dict(extra)
    if low is not None:
        found["low"] = quantity(low, unit)
    if high is not None:
        found["high"] = quantity(high, unit)
    return found


# --- units ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "unit", "code"),
    [
        (95, "U/L", "U/L"),
        (95, "IU/L", "[IU]/L"),
        (95, "IU/L", None),
        (95, "U/l", None),
        (95 / 60, "µkat/L", "ukat/L"),
        (95 / 60, "µkat/L", None),
        (95 / 60, "μkat/L", None),
        (95 / 60, "ukat/L", None),
    ],
)
def test_alt_enters_in_u_per_l_from_every_unit(
    kb: KnowledgeBase, value: float, unit: str, code: str | None
) -> None:
    result = alt(value, unit)
    result["valueQuantity"] = {"value": value, "unit": unit}
    if code is not None:
        result["valueQuantity"] |= {"system": "http://unitsofmeasure.org", "code": code}
    (lab,) = snap(kb, result).labs
    assert (lab.analyte, lab.unit) == ("alt", "U/L")
    assert lab.value == pytest.approx(95)


@pytest.mark.parametrize(
    ("code", "value", "unit", "mg_dl"),
    [
        ("2571-8", 620, "mg/dL", 620),
        ("2571-8", 7.0, "mmol/L", 620.0),
        ("14927-8", 7.0, "mmol/l", 620.0),
        ("2571-8", 6.2, "g/L", 620),
        ("2093-3", 5.0, "mmol/L", 193.35),
        ("2345-7", 7.0, "mmol/L", 126.1),
        ("1558-6", 1.1, "g/L", 110),
    ],
)
def test_lipids_and_glucose_enter_in_mg_per_dl(
    kb: KnowledgeBase, code: str, value: float, unit: str, mg_dl: float
) -> None:
    result = observation(code, "lab", valueQuantity=quantity(value, unit))
    (lab,) = snap(kb, result).labs
    assert (lab.unit, lab.code) == ("mg/dL", code)
    assert lab.value == pytest.approx(mg_dl, abs=0.1)


@pytest.mark.parametrize(
    ("code", "analyte"),
    [
        ("1742-6", "alt"),
        ("1743-4", "alt"),
        ("1744-2", "alt"),
        ("76625-3", "alt"),
        ("1920-8", "ast"),
        ("30239-8", "ast"),
        ("88112-8", "ast"),
        ("2339-0", "glucose"),
        ("2345-7", "glucose"),
        ("15074-8", "glucose"),
        ("14646-4", "hdl"),
        ("14647-2", "cholesterol"),
    ],
)
def test_each_loinc_variant_reads_as_its_analyte_and_keeps_its_code(
    kb: KnowledgeBase, code: str, analyte: str
) -> None:
    result = observation(
        code, "lab", valueQuantity=quantity(40, "U/L" if "a" in analyte else "mg/dL")
    )
    (lab,) = snap(kb, result).labs
    assert (lab.analyte, lab.code) == (analyte, code)


def test_a_lab_without_a_unit_is_not_guessed(kb: KnowledgeBase) -> None:
    result = alt(95, "U/L")
    result["valueQuantity"] = {"value": 95}
    snapshot = snap(kb, result)
    assert snapshot.labs == ()
    assert any("has no unit" in n for n in snapshot.notes)


# --- reference ranges ---------------------------------------------------------------------
def test_the_uln_comes_from_the_range_in_its_own_unit(kb: KnowledgeBase) -> None:
    result = alt(160, "U/L", referenceRange=[upper(0.1, 0.68, "µkat/L")])
    (lab,) = snap(kb, result).labs
    assert lab.reference_high == pytest.approx(40.8)


def test_a_range_without_a_unit_is_in_the_results_unit(kb: KnowledgeBase) -> None:
    result = alt(2.5, "ukat/L", referenceRange=[{"high": {"value": 0.6}}])
    (lab,) = snap(kb, result).labs
    assert (lab.value, lab.reference_high) == (pytest.approx(150), pytest.approx(36))


def test_the_normal_range_is_chosen_over_a_recommended_one(kb: KnowledgeBase) -> None:
    ranges = [upper(None, 20, "U/L", type=RECOMMENDED), upper(7, 56, "U/L", type=NORMAL)]
    (lab,) = snap(kb, alt(95, "U/L", referenceRange=ranges)).labs
    assert lab.reference_high == 56


def test_a_range_for_the_patients_sex_is_chosen(kb: KnowledgeBase) -> None:
    ranges = [
        upper(None, 45, "U/L", appliesTo=[MALE]),
        upper(None, 35, "U/L", appliesTo=[FEMALE]),
        upper(None, 50, "U/L"),
    ]
    (woman,) = snap(kb, alt(95, "U/L", referenceRange=ranges)).labs
    (man,) = snap(kb, alt(95, "U/L", referenceRange=ranges), gender="male").labs
    assert (woman.reference_high, man.reference_high) == (35, 45)


def test_sex_ranges_for_a_patient_of_unknown_sex_use_the_lowest_limit(kb: KnowledgeBase) -> None:
    ranges = [upper(None, 45, "U/L", appliesTo=[MALE]), upper(None, 35, "U/L", appliesTo=[FEMALE])]
    snapshot = snap(kb, alt(95, "U/L", referenceRange=ranges), gender="unknown")
    assert [lab.reference_high for lab in snapshot.labs] == [35]
    assert any("the lowest upper limit, 35, is used" in n for n in snapshot.notes)


def test_an_age_band_is_checked_against_the_patients_age(kb: KnowledgeBase) -> None:
    years = "http://unitsofmeasure.org"
    child = {"high": {"value": 17, "unit": "yrs", "system": years, "code": "a"}}
    adult = {"low": {"value": 18, "unit": "yrs", "system": years, "code": "a"}}
    ranges = [upper(None, 30, "U/L", age=child), upper(None, 40, "U/L", age=adult)]
    (lab,) = snap(kb, alt(95, "U/L", referenceRange=ranges)).labs  # born 1998: 27 years old
    assert lab.reference_high == 40


def test_a_text_only_range_is_noted_and_not_parsed(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, alt(95, "U/L", referenceRange=[{"text": "<40 U/L"}]))
    assert [lab.reference_high for lab in snapshot.labs] == [None]
    assert any("reference range given only as text ('<40 U/L')" in n for n in snapshot.notes)


def test_a_range_in_a_unit_that_cannot_be_converted_is_not_used(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, alt(95, "U/L", referenceRange=[upper(None, 40, "mg/dL")]))
    assert [lab.reference_high for lab in snapshot.labs] == [None]
    assert any("reference range unit 'mg/dL' cannot be converted" in n for n in snapshot.notes)


def test_a_component_keeps_its_own_reference_range(kb: KnowledgeBase) -> None:
    panel = observation(
        "24325-3",
        "Hepatic function panel",
        component=[
            {
                "code": concept("http://loinc.org", "1920-8", "AST"),
                "valueQuantity": quantity(2.0, "µkat/L"),
                "referenceRange": [upper(None, 0.6, "µkat/L")],
            }
        ],
    )
    (lab,) = snap(kb, panel).labs
    assert (lab.analyte, lab.value, lab.reference_high) == (
        "ast",
        pytest.approx(120),
        pytest.approx(36),
    )


def test_ranges_only_for_other_patients_leave_the_default_uln_with_a_note(
    kb: KnowledgeBase,
) -> None:
    snapshot = snap(kb, alt(95, "U/L", referenceRange=[upper(None, 45, "U/L", appliesTo=[MALE])]))
    assert [lab.reference_high for lab in snapshot.labs] == [None]
    assert any("reference ranges are for other patients" in n for n in snapshot.notes)
