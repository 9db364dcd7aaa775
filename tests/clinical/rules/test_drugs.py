from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import isotrack.clinical.screening.rules.drugs  # noqa: F401  # registers the drug rules
from isotrack.clinical.findings import Assessment, Finding
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import IsotretinoinCourse, MedicationRecord
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders import TODAY, man, order, rx
from tests.clinical.builders_drugs import (
    ASPIRIN,
    BUDESONIDE_NEBULISER,
    FLUTICASONE_MDI,
    FLUTICASONE_SALMETEROL_DPI,
    HYDROCORTISONE_CREAM,
    PREDNISONE,
    VITAMIN_B12,
    med,
    synthea_concepts,
)


def screen(kb: KnowledgeBase, *meds: MedicationRecord, **order_changes: object) -> Assessment:
    return screen_order(man(medications=meds), order(**order_changes), on=TODAY, kb=kb)


def only(result: Assessment, rule_id: str) -> Finding:
    found = [f for f in result.findings if f.rule_id == rule_id]
    assert len(found) == 1, found
    return found[0]


# --- TETRACYCLINE -------------------------------------------------------------------


def test_active_doxycycline_fires_tetracycline(kb: KnowledgeBase) -> None:
    doxy = MedicationRecord(rx("1652673", "Doxycycline Monohydrate 50 MG Oral Tablet"), "active")
    result = screen_order(man(medications=(doxy,)), order(), on=TODAY, kb=kb)
    assert result.has("TETRACYCLINE")
    assert result.findings[0].severity.label == "critical"


def test_stopped_doxycycline_does_not_fire(kb: KnowledgeBase) -> None:
    doxy = MedicationRecord(rx("1652673", "Doxycycline Monohydrate 50 MG Oral Tablet"), "stopped")
    result = screen_order(man(medications=(doxy,)), order(), on=TODAY, kb=kb)
    assert not result.has("TETRACYCLINE")


def test_sarecycline_by_brand_name_fires_and_says_name_only(kb: KnowledgeBase) -> None:
    finding = only(screen(kb, med(None, "Seysara 100 MG Oral Tablet")), "TETRACYCLINE")
    assert "recognised by name only" in finding.detail


def test_topical_minocycline_foam_is_not_a_systemic_tetracycline(kb: KnowledgeBase) -> None:
    foam = med(None, "minocycline 4 % Topical Foam")
    assert not screen(kb, foam).has("TETRACYCLINE")


def test_doxycycline_that_ended_yesterday_does_not_fire(kb: KnowledgeBase) -> None:
    doxy = med("1652673", "Doxycycline Monohydrate 50 MG Oral Tablet", end=TODAY - timedelta(1))
    assert not screen(kb, doxy).has("TETRACYCLINE")


# --- VITAMIN-A -----------------------------------------------------------------------


def test_vitamin_a_capsule_fires_vitamin_a(kb: KnowledgeBase) -> None:
    finding = only(screen(kb, med(None, "Vitamin A 10000 UNT Oral Capsule")), "VITAMIN-A")
    assert finding.severity.label == "critical"
    assert "Vitamin A 10000 UNT Oral Capsule" in finding.summary


def test_vitamin_a_ingredient_code_fires(kb: KnowledgeBase) -> None:
    assert screen(kb, med("11246", "vitamin A", route="oral")).has("VITAMIN-A")


def test_multivitamin_that_names_vitamin_a_fires(kb: KnowledgeBase) -> None:
    multi = med(None, "Vitamin A 5000 UNT / Ascorbic Acid 60 MG / Cholecalciferol 400 UNT Tablet")
    assert screen(kb, multi).has("VITAMIN-A")


def test_vitamin_b12_does_not_fire_vitamin_a(kb: KnowledgeBase) -> None:
    assert not screen(kb, med(*VITAMIN_B12)).has("VITAMIN-A")


def test_stopped_vitamin_a_does_not_fire(kb: KnowledgeBase) -> None:
    stopped = med(None, "Vitamin A 10000 UNT Oral Capsule", "stopped")
    assert not screen(kb, stopped).has("VITAMIN-A")


def test_vitamin_a_and_d_ointment_is_not_a_supplement(kb: KnowledgeBase) -> None:
    assert not screen(kb, med(None, "Vitamin A and D Topical Ointment")).has("VITAMIN-A")


# --- RETINOID-DUPLICATE ----------------------------------------------------------------


def test_acitretin_fires_retinoid_duplicate(kb: KnowledgeBase) -> None:
    finding = only(screen(kb, med("16818", "acitretin", route="oral")), "RETINOID-DUPLICATE")
    assert finding.severity.label == "critical"
    assert "Another systemic retinoid" in finding.summary


def test_oral_tretinoin_fires_retinoid_duplicate(kb: KnowledgeBase) -> None:
    result = screen(kb, med(None, "Tretinoin 10 MG Oral Capsule"))
    assert result.has("RETINOID-DUPLICATE")
    assert not result.has("TOPICAL-IRRITANT")


def test_topical_tretinoin_is_a_topical_irritant_not_a_duplicate(kb: KnowledgeBase) -> None:
    result = screen(kb, med("313453", "Tretinoin 0.1 % Topical Gel"))
    assert not result.has("RETINOID-DUPLICATE")
    assert only(result, "TOPICAL-IRRITANT").severity.label == "info"


def test_tretinoin_without_form_is_treated_as_systemic_and_says_so(kb: KnowledgeBase) -> None:
    result = screen(kb, med("10753", "tretinoin"))
    finding = only(result, "RETINOID-DUPLICATE")
    assert "treated as systemic" in finding.detail
    assert any("treated as systemic" in a for a in result.assumptions)


def test_tretinoin_with_topical_route_is_not_a_duplicate(kb: KnowledgeBase) -> None:
    result = screen(kb, med("10753", "tretinoin", route="Topical route"))
    assert not result.has("RETINOID-DUPLICATE")
    assert result.has("TOPICAL-IRRITANT")


def test_active_earlier_isotretinoin_prescription_is_a_second_order(kb: KnowledgeBase) -> None:
    earlier = med("197845", "ISOtretinoin 40 MG Oral Capsule", source="MedicationRequest/1")
    result = screen(kb, earlier, source="MedicationRequest/2")
    finding = only(result, "RETINOID-DUPLICATE")
    assert finding.summary.startswith("Second active isotretinoin order")


def test_the_order_under_review_is_not_its_own_duplicate(kb: KnowledgeBase) -> None:
    same = med("197845", "ISOtretinoin 40 MG Oral Capsule", source="MedicationRequest/2")
    assert not screen(kb, same, source="MedicationRequest/2").has("RETINOID-DUPLICATE")


def test_completed_isotretinoin_prescription_is_not_a_duplicate(kb: KnowledgeBase) -> None:
    done = med("197845", "ISOtretinoin 40 MG Oral Capsule", "completed")
    assert not screen(kb, done).has("RETINOID-DUPLICATE")


def test_duplicate_inside_a_running_course_names_the_course(kb: KnowledgeBase) -> None:
    course = IsotretinoinCourse(start=TODAY - timedelta(days=40), prescriptions=1)
    snapshot = man(
        medications=(med("197845", "ISOtretinoin 40 MG Oral Capsule"),), courses=(course,)
    )
    result = screen_order(snapshot, order(), on=TODAY, kb=kb)
    finding = only(result, "RETINOID-DUPLICATE")
    assert course.start.isoformat() in finding.detail


def test_topical_isotretinoin_gel_is_not_a_duplicate_order(kb: KnowledgeBase) -> None:
    result = screen(kb, med(None, "Isotrex 0.05 % Gel"))
    assert not result.has("RETINOID-DUPLICATE")
    assert result.has("TOPICAL-IRRITANT")


# --- TOPICAL-IRRITANT ------------------------------------------------------------------


def test_adapalene_by_brand_without_form_is_topical(kb: KnowledgeBase) -> None:
    result = screen(kb, med(None, "Differin"))
    assert result.has("TOPICAL-IRRITANT")
    assert not result.has("RETINOID-DUPLICATE")


def test_benzoyl_peroxide_wash_fires_topical_irritant(kb: KnowledgeBase) -> None:
    assert screen(kb, med(None, "Benzoyl Peroxide 5 % Topical Wash")).has("TOPICAL-IRRITANT")


def test_aspirin_is_not_a_keratolytic(kb: KnowledgeBase) -> None:
    result = screen(kb, med(*ASPIRIN), med(None, "Acetylsalicylic acid 81 MG Oral Tablet"))
    assert not result.has("TOPICAL-IRRITANT")


def test_stopped_topical_retinoid_does_not_fire(kb: KnowledgeBase) -> None:
    stopped = med("313453", "Tretinoin 0.1 % Topical Gel", "stopped")
    assert not screen(kb, stopped).has("TOPICAL-IRRITANT")


# --- PHENYTOIN ---------------------------------------------------------------------------


def test_phenytoin_fires_warning(kb: KnowledgeBase) -> None:
    finding = only(
        screen(kb, med(None, "Phenytoin 100 MG Extended Release Oral Capsule")), "PHENYTOIN"
    )
    assert finding.severity.label == "warning"


def test_stopped_phenytoin_does_not_fire(kb: KnowledgeBase) -> None:
    stopped = med("8183", "phenytoin", "stopped", route="oral")
    assert not screen(kb, stopped).has("PHENYTOIN")


# --- CORTICOSTEROID-SYSTEMIC -------------------------------------------------------------


def test_synthea_prednisone_tablet_fires_corticosteroid(kb: KnowledgeBase) -> None:
    finding = only(screen(kb, med(*PREDNISONE)), "CORTICOSTEROID-SYSTEMIC")
    assert finding.severity.label == "warning"
    assert "recognised by name only" not in finding.detail


def test_stopped_prednisone_does_not_fire(kb: KnowledgeBase) -> None:
    assert not screen(kb, med(*PREDNISONE, "stopped")).has("CORTICOSTEROID-SYSTEMIC")


def test_synthea_hydrocortisone_cream_does_not_fire(kb: KnowledgeBase) -> None:
    assert not screen(kb, med(*HYDROCORTISONE_CREAM)).has("CORTICOSTEROID-SYSTEMIC")


def test_synthea_fluticasone_inhalers_do_not_fire(kb: KnowledgeBase) -> None:
    result = screen(kb, med(*FLUTICASONE_MDI), med(*FLUTICASONE_SALMETEROL_DPI))
    assert not result.has("CORTICOSTEROID-SYSTEMIC")


def test_synthea_budesonide_nebuliser_does_not_fire(kb: KnowledgeBase) -> None:
    assert not screen(kb, med(*BUDESONIDE_NEBULISER)).has("CORTICOSTEROID-SYSTEMIC")


def test_route_decides_for_an_ingredient_only_record(kb: KnowledgeBase) -> None:
    assert screen(kb, med("3264", "dexamethasone", route="26643006")).has("CORTICOSTEROID-SYSTEMIC")
    assert not screen(kb, med("3264", "dexamethasone", route="54485002")).has(
        "CORTICOSTEROID-SYSTEMIC"
    )


STEROIDS = ["Prednisolone", "Methylprednisolone", "Dexamethasone", "Hydrocortisone", "Budesonide"]
LOCAL_FORMS = [
    "Topical Cream",
    "Topical Ointment",
    "Metered Dose Inhaler",
    "Nasal Spray",
    "Ophthalmic Suspension",
    "Inhalation Suspension",
    "Topical Lotion",
]
SYSTEMIC_FORMS = [
    "Oral Tablet",
    "Injectable Solution",
    "Oral Solution",
    "Rectal Suppository",
    "Delayed Release Oral Capsule",
]


@given(st.sampled_from(STEROIDS), st.sampled_from(LOCAL_FORMS))
def test_no_local_form_of_a_steroid_fires(kb: KnowledgeBase, steroid: str, form: str) -> None:
    assert not screen(kb, med(None, f"{steroid} 1 MG/ML {form}")).has("CORTICOSTEROID-SYSTEMIC")


@given(st.sampled_from(STEROIDS), st.sampled_from(SYSTEMIC_FORMS))
def test_every_systemic_form_of_a_steroid_fires(kb: KnowledgeBase, steroid: str, form: str) -> None:
    assert screen(kb, med(None, f"{steroid} 4 MG {form}")).has("CORTICOSTEROID-SYSTEMIC")


def test_every_drug_summary_fits_a_card_even_with_a_long_name(kb: KnowledgeBase) -> None:
    long_name = "Prednisone " + "very long product description " * 10 + "Oral Tablet"
    finding = only(screen(kb, med(None, long_name), med(*PREDNISONE)), "CORTICOSTEROID-SYSTEMIC")
    assert len(finding.summary) <= 140
    assert finding.summary.endswith("(+1 more)")


def test_in_the_synthea_sample_only_prednisone_is_a_systemic_corticosteroid(
    kb: KnowledgeBase, synthea_dir: Path
) -> None:
    concepts = synthea_concepts(synthea_dir, "MedicationRequest", "medicationCodeableConcept")
    firing = {
        c.label
        for c in concepts
        if screen(kb, MedicationRecord(c, "active")).has("CORTICOSTEROID-SYSTEMIC")
    }
    assert firing == {"predniSONE 5 MG Oral Tablet"}
