from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import isotrack.clinical.screening.rules.conditions  # noqa: F401  # registers the condition rules
from isotrack.clinical.codes import ICD10CM, SNOMED, Coding, Concept
from isotrack.clinical.findings import Assessment, Finding
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.screening.rules.conditions import icd10_category_matches, match_as_words
from isotrack.clinical.snapshot import ConditionRecord
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders import TODAY, man, order
from tests.clinical.builders_drugs import (
    DIABETES,
    HYPERGLYCEMIA,
    LAST_YEAR,
    PREDIABETES,
    condition,
    icd,
    synthea_concepts,
)


def screen(kb: KnowledgeBase, *conditions: ConditionRecord) -> Assessment:
    return screen_order(man(conditions=conditions), order(), on=TODAY, kb=kb)


def only(result: Assessment, rule_id: str) -> Finding:
    found = [f for f in result.findings if f.rule_id == rule_id]
    assert len(found) == 1, found
    return found[0]


# --- HEPATIC-DISEASE (active) ------------------------------------------------------------


def test_active_cirrhosis_fires_hepatic_disease(kb: KnowledgeBase) -> None:
    finding = only(screen(kb, condition("19943007", "Cirrhosis of liver")), "HEPATIC-DISEASE")
    assert finding.severity.label == "critical"
    assert "Cirrhosis of liver" in finding.summary
    assert "SNOMED CT 19943007" in finding.detail


def test_icd10_cirrhosis_fires_by_category(kb: KnowledgeBase) -> None:
    finding = only(screen(kb, icd("K74.60", "Unspecified cirrhosis of liver")), "HEPATIC-DISEASE")
    assert "category K74" in finding.detail


def test_resolved_hepatitis_does_not_fire(kb: KnowledgeBase) -> None:
    resolved = condition("128302006", "Chronic hepatitis C", status="resolved")
    assert not screen(kb, resolved).has("HEPATIC-DISEASE")


def test_abated_hepatitis_does_not_fire(kb: KnowledgeBase) -> None:
    abated = condition("66071002", "Viral hepatitis type B", abatement=TODAY - timedelta(1))
    assert not screen(kb, abated).has("HEPATIC-DISEASE")


def test_refuted_cirrhosis_does_not_fire(kb: KnowledgeBase) -> None:
    refuted = condition("19943007", "Cirrhosis of liver", verification="refuted")
    assert not screen(kb, refuted).has("HEPATIC-DISEASE")


def test_fatty_liver_is_not_hepatic_insufficiency(kb: KnowledgeBase) -> None:
    fatty = icd("K76.0", "Fatty (change of) liver, not elsewhere classified")
    assert not screen(kb, fatty).has("HEPATIC-DISEASE")


def test_history_of_hepatitis_by_name_is_not_active_disease(kb: KnowledgeBase) -> None:
    history = condition("999999999", "History of hepatitis A (situation)")
    assert not screen(kb, history).has("HEPATIC-DISEASE")


def test_hepatitis_by_name_only_fires_and_says_so(kb: KnowledgeBase) -> None:
    finding = only(screen(kb, condition(None, "Autoimmune hepatitis")), "HEPATIC-DISEASE")
    assert "recognised by name only" in finding.detail


# --- PANCREATITIS-HISTORY (ever) -----------------------------------------------------------


def test_resolved_pancreatitis_still_fires_history(kb: KnowledgeBase) -> None:
    old = condition(
        "197456007", "Acute pancreatitis", status="resolved", abatement=LAST_YEAR + timedelta(20)
    )
    assert only(screen(kb, old), "PANCREATITIS-HISTORY").severity.label == "warning"


def test_icd10_chronic_pancreatitis_fires(kb: KnowledgeBase) -> None:
    assert screen(kb, icd("K86.1", "Other chronic pancreatitis")).has("PANCREATITIS-HISTORY")
    assert screen(kb, icd("K85.90", "Acute pancreatitis, unspecified")).has("PANCREATITIS-HISTORY")


def test_pancreatic_cyst_is_not_pancreatitis(kb: KnowledgeBase) -> None:
    assert not screen(kb, icd("K86.2", "Cyst of pancreas")).has("PANCREATITIS-HISTORY")


def test_refuted_pancreatitis_does_not_fire(kb: KnowledgeBase) -> None:
    refuted = condition("75694006", "Pancreatitis", verification="entered-in-error")
    assert not screen(kb, refuted).has("PANCREATITIS-HISTORY")


def test_pancreatitis_recorded_after_the_evaluation_date_does_not_count(kb: KnowledgeBase) -> None:
    later = condition("75694006", "Pancreatitis", onset=TODAY + timedelta(1))
    assert not screen(kb, later).has("PANCREATITIS-HISTORY")


# --- PSYCH-HISTORY (ever) -----------------------------------------------------------------


def test_major_depression_fires_psych_history(kb: KnowledgeBase) -> None:
    depression = condition("370143000", "Major depressive disorder", status="remission")
    finding = only(screen(kb, depression), "PSYCH-HISTORY")
    assert finding.severity.label == "warning"
    assert finding.summary.endswith("screen mood monthly")


def test_icd10_suicidal_ideation_and_depression_fire(kb: KnowledgeBase) -> None:
    assert screen(kb, icd("R45.851", "Suicidal ideations")).has("PSYCH-HISTORY")
    assert screen(kb, icd("F32.A", "Depression, unspecified")).has("PSYCH-HISTORY")
    assert screen(kb, icd("F31.9", "Bipolar disorder, unspecified")).has("PSYCH-HISTORY")


def test_depression_by_name_only_fires_and_says_so(kb: KnowledgeBase) -> None:
    finding = only(screen(kb, condition(None, "Depression")), "PSYCH-HISTORY")
    assert "recognised by name only" in finding.detail


def test_synthea_anxiety_and_stress_are_not_psych_history(kb: KnowledgeBase) -> None:
    result = screen(
        kb,
        condition("80583007", "Severe anxiety (panic) (finding)"),
        condition("73595000", "Stress (finding)"),
    )
    assert not result.has("PSYCH-HISTORY")


def test_family_history_of_depression_is_not_the_patients(kb: KnowledgeBase) -> None:
    family = condition("999999998", "Family history of depression (situation)")
    assert not screen(kb, family).has("PSYCH-HISTORY")


def test_depression_screening_is_not_depression(kb: KnowledgeBase) -> None:
    assert not screen(kb, condition(None, "Depression screening")).has("PSYCH-HISTORY")


# --- IBD-HISTORY (ever) ---------------------------------------------------------------------


def test_crohns_disease_fires_ibd_history(kb: KnowledgeBase) -> None:
    crohn = condition("34000006", "Crohn's disease", status="inactive")
    assert only(screen(kb, crohn), "IBD-HISTORY").severity.label == "warning"


def test_icd10_ulcerative_colitis_fires(kb: KnowledgeBase) -> None:
    assert screen(kb, icd("K51.90", "Ulcerative colitis, unspecified")).has("IBD-HISTORY")


def test_irritable_bowel_and_colon_polyp_are_not_ibd(kb: KnowledgeBase) -> None:
    result = screen(
        kb,
        condition("10743008", "Irritable bowel syndrome"),
        condition("68496003", "Polyp of colon"),
        icd("K58.9", "Irritable bowel syndrome without diarrhea"),
    )
    assert not result.has("IBD-HISTORY")


# --- DIABETES ---------------------------------------------------------------------------------


def test_synthea_diabetes_fires_info(kb: KnowledgeBase) -> None:
    finding = only(screen(kb, condition(*DIABETES)), "DIABETES")
    assert finding.severity.label == "info"
    assert LAST_YEAR.isoformat() in finding.summary


def test_icd10_type_2_diabetes_fires(kb: KnowledgeBase) -> None:
    e11 = icd("E11.65", "Type 2 diabetes mellitus with hyperglycemia")
    assert screen(kb, e11).has("DIABETES")


def test_synthea_prediabetes_is_not_diabetes(kb: KnowledgeBase) -> None:
    assert not screen(kb, condition(*PREDIABETES)).has("DIABETES")


def test_prediabetes_by_name_only_is_not_diabetes(kb: KnowledgeBase) -> None:
    result = screen(kb, condition(None, "Prediabetes"), icd("R73.03", "Prediabetes"))
    assert not result.has("DIABETES")


def test_hyperglycemia_and_gestational_diabetes_are_not_diabetes(kb: KnowledgeBase) -> None:
    result = screen(
        kb,
        condition(*HYPERGLYCEMIA),
        condition(None, "Gestational diabetes mellitus"),
        icd("O24.410", "Gestational diabetes mellitus in pregnancy, diet controlled"),
    )
    assert not result.has("DIABETES")


def test_refuted_diabetes_does_not_fire(kb: KnowledgeBase) -> None:
    assert not screen(kb, condition(*DIABETES, verification="refuted")).has("DIABETES")


# --- matching helpers -------------------------------------------------------------------------


@given(
    st.sampled_from(["E08", "E09", "E10", "E11", "E13"]),
    st.text(alphabet="0123456789AX", max_size=4),
    st.booleans(),
)
def test_any_code_in_a_diabetes_category_matches(
    kb: KnowledgeBase, category: str, rest: str, dotted: bool
) -> None:
    code = f"{category}.{rest}" if dotted and rest else f"{category}{rest}"
    concept = Concept((Coding(ICD10CM, code),))
    assert icd10_category_matches(concept, kb.valueset("diabetes-icd10cm-categories")) is not None


@given(
    st.sampled_from(["E03", "E12", "E14", "R73", "O24", "K86", "Z83"]),
    st.text(alphabet="0123456789", max_size=3),
)
def test_codes_outside_the_categories_do_not_match(
    kb: KnowledgeBase, category: str, rest: str
) -> None:
    concept = Concept((Coding(ICD10CM, f"{category}.{rest}"),))
    assert icd10_category_matches(concept, kb.valueset("diabetes-icd10cm-categories")) is None


def test_a_snomed_code_is_never_read_as_an_icd10_category(kb: KnowledgeBase) -> None:
    concept = Concept((Coding(SNOMED, "E11"),))
    assert icd10_category_matches(concept, kb.valueset("diabetes-icd10cm-categories")) is None


def test_a_coded_match_is_never_dropped_by_text_exclusions(kb: KnowledgeBase) -> None:
    concept = Concept((Coding(SNOMED, "44054006", "Diabetes"),), "Family history screening")
    found = match_as_words(
        concept, kb.valueset("diabetes"), [kb.valueset("condition-text-exclusions")]
    )
    assert found.matched
    assert not found.by_text


def test_in_the_synthea_sample_no_prediabetes_or_hyperglycaemia_counts_as_diabetes(
    kb: KnowledgeBase, synthea_dir: Path
) -> None:
    concepts = synthea_concepts(synthea_dir, "Condition", "code")
    firing = {c.label for c in concepts if screen(kb, ConditionRecord(c)).has("DIABETES")}
    assert "Diabetes" in firing
    assert not {label for label in firing if "rediabetes" in label or "yperglyc" in label}
    assert all("iabet" in label for label in firing)
